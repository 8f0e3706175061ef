"""How the world generator words postings: topics drawn from a field's vocabulary, filled into real-style patterns."""

from __future__ import annotations

import random
from dataclasses import dataclass

from matchmaker.seeds import FieldVocabulary

SLOTS = ("material", "process", "device", "target", "application")
_SLOT_LISTS = {"material": "materials", "process": "processes", "device": "devices", "target": "targets",
               "application": "applications"}

# The self-introduction firms put before the problem; real demand texts carry it and it should not drive matches.
_FIRM_INTROS = (
    "我公司成立于{year}年，是一家专业从事{industry}研发、生产和销售的高新技术企业。",
    "公司位于当地高新区，主营{industry}相关产品，年产值约{number}亿元。",
    "本企业是省级专精特新中小企业，长期深耕{industry}领域。",
    "",
)
_DETAIL_PATTERNS = (
    "核心工艺参数及配方已形成企业内部技术规范，{process}关键参数窗口经{number}批次验证。",
    "中试数据：{target}较现有水平提升{percent}%，{device}连续运行{number}个月无故障。",
    "技术秘密部分包括{material}配比与{process}温度曲线，仅在签署保密协议后提供。",
)


@dataclass(frozen=True)
class Topic:
    """One term per slot: what a demand asks about, or what an achievement offers."""

    material: str
    process: str
    device: str
    target: str
    application: str

    def values(self) -> dict[str, str]:
        return {slot: getattr(self, slot) for slot in SLOTS}


class Wording:
    """Fills one field's patterns; rewording swaps synonyms and moves up or down the term hierarchy."""

    def __init__(self, vocab: FieldVocabulary) -> None:
        self.vocab = vocab
        self.lists = {slot: vocab.terms[_SLOT_LISTS[slot]] for slot in SLOTS}
        # A topic is one of the field's coherent subjects (seeds/fields/*.toml `subjects`), so a posting's title,
        # problem, targets and keywords are about one thing; a field without subjects falls back to free draws.
        self.subjects = tuple(Topic(**{slot: subject[slot] for slot in SLOTS}) for subject in vocab.subjects)
        self.synonyms = {term: group for group in vocab.synonyms for term in group}
        self.narrower = {group[0]: group[1:] for group in vocab.hierarchy if len(group) > 1}
        self.broader = {term: group[0] for group in vocab.hierarchy for term in group[1:]}

    def topic(self, rng: random.Random) -> Topic:
        if self.subjects:
            return rng.choice(self.subjects)
        return Topic(**{slot: rng.choice(self.lists[slot]) for slot in SLOTS})

    def other_subject(self, rng: random.Random, topic: Topic) -> Topic:
        """Another subject of the same field: a near miss shares the field's vocabulary, not the problem."""
        others = [t for t in self.subjects if t != topic]
        return rng.choice(others) if others else self.topic(rng)

    def alternative(self, rng: random.Random, term: str, chance: float) -> str:
        """Another way to say the term: a synonym, a narrower term, or (less often) a broader one."""
        if rng.random() >= chance:
            return term
        others = [t for t in self.synonyms.get(term, ()) if t != term]
        if others:
            return rng.choice(others)
        if term in self.narrower:
            return rng.choice(self.narrower[term])
        if term in self.broader and rng.random() < 0.4:
            return self.broader[term]
        return term

    def reword(self, rng: random.Random, topic: Topic, chance: float = 0.7) -> Topic:
        return Topic(**{slot: self.alternative(rng, term, chance) for slot, term in topic.values().items()})

    def mix(self, rng: random.Random, topic: Topic, keep: int) -> Topic:
        """Keep `keep` of the topic's slots (reworded) and take the rest from another subject of the field: a partial
        answer works on the same material or process for another purpose, a weak one shares a single element."""
        kept = set(rng.sample(SLOTS, k=keep))
        fresh = self.other_subject(rng, topic)
        return Topic(**{
            slot: self.alternative(rng, getattr(topic, slot), 0.5) if slot in kept else getattr(fresh, slot)
            for slot in SLOTS
        })

    def fill(self, rng: random.Random, pattern: str, topic: Topic, **extra: str) -> str:
        values = topic.values() | {"percent": str(rng.randrange(5, 96)), "number": str(rng.randrange(2, 51))}
        return pattern.format_map(values | extra)

    def demand_text(self, rng: random.Random, topic: Topic, industry: str) -> tuple[str, str, str, str]:
        asked = self.reword(rng, topic, chance=0.3)
        patterns = self.vocab.patterns
        intro = rng.choice(_FIRM_INTROS).format(year=rng.randrange(1995, 2022), industry=industry,
                                                number=rng.randrange(1, 30))
        title = self.fill(rng, rng.choice(patterns["demand_titles"]), asked)
        problem = self.fill(rng, rng.choice(patterns["demand_problems"]), asked)
        if not problem.startswith(("我公司", "公司", "本公司", "本企业", "企业")):  # avoid introducing the firm twice
            problem = intro + problem
        targets = "；".join(
            f"{i}、{self.fill(rng, p, asked).rstrip('。；;')}"
            for i, p in enumerate(rng.sample(patterns["demand_targets"], k=min(2, len(patterns["demand_targets"]))), 1)
        )
        conditions = self.fill(rng, rng.choice(patterns["demand_conditions"]), asked)
        return title, problem, targets, conditions

    def achievement_text(self, rng: random.Random, topic: Topic) -> tuple[str, str, str, str]:
        patterns = self.vocab.patterns
        title = self.fill(rng, rng.choice(patterns["achievement_titles"]), topic)
        summary = self.fill(rng, rng.choice(patterns["achievement_summaries"]), topic)
        keywords = "，".join(rng.sample(list(dict.fromkeys(topic.values().values())), k=3))
        detail = self.fill(rng, rng.choice(_DETAIL_PATTERNS), topic)
        return title, summary, keywords, detail

    @staticmethod
    def team(rng: random.Random, names: list[str], generated: dict) -> str:
        patterns = generated.get("team_patterns") or ("{surname}教授团队",)
        subjects = generated.get("institute_subjects") or ("先进技术",)
        return rng.choice(patterns).format(surname=rng.choice(names)[0], subject=rng.choice(subjects))
