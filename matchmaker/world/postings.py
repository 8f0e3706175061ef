"""Postings of a generated world: demands, the achievements made to answer them, background achievements, fits."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from rich.progress import Progress
from sqlalchemy import Connection, insert

from matchmaker import seeds
from matchmaker import vocabulary as v
from matchmaker.models import Achievement, Demand, IPRecord, LatentFit
from matchmaker.world.context import CHUNK, WORLD_DATE, Generator, Org, State, batches
from matchmaker.world.wording import Topic, Wording

DUPLICATE_SHARE = 0.02  # share of postings an office posts twice


class Buffers:
    """Rows waiting for one bulk insert; duplicates are posted here too, as real libraries hold them."""

    def __init__(self) -> None:
        self.demands: list[dict] = []
        self.achievements: list[dict] = []
        self.ip_records: list[dict] = []
        self.fits: list[dict] = []

    @property
    def total(self) -> int:
        return len(self.achievements)

    def flush(self, conn: Connection, state: State) -> int:
        if self.demands:
            conn.execute(insert(Demand), self.demands)
        if self.achievements:
            conn.execute(insert(Achievement), self.achievements)
        if self.ip_records:
            conn.execute(insert(IPRecord), self.ip_records)
        if self.fits:
            conn.execute(insert(LatentFit), self.fits)
        for name, rows in (("demands", self.demands), ("achievements", self.achievements),
                           ("ip_records", self.ip_records), ("latent_fits", self.fits)):
            state.counts[name] = state.counts.get(name, 0) + len(rows)
        done = len(self.achievements)
        self.demands, self.achievements, self.ip_records, self.fits = [], [], [], []
        return done


# ---- demands and the achievements generated to answer them ------------------------------------------------

def add_demands_with_answers(gen: Generator, conn: Connection, state: State, progress: Progress, task) -> int:
    """Each demand gets answers of known quality: latent truth for the matcher and the simulator."""
    buffers = Buffers()
    linked = 0
    for _ in range(gen.spec.demands):
        linked += demand_with_answers(gen, state, buffers, budget=gen.spec.achievements - linked)
        progress.advance(task, 1)
        if len(buffers.achievements) >= CHUNK:
            progress.advance(task, buffers.flush(conn, state))
    progress.advance(task, buffers.flush(conn, state))
    return linked


def demand_with_answers(gen: Generator, state: State, buffers: Buffers, *, budget: int) -> int:
    """Buffer one demand and up to `budget` achievements made to answer it; returns how many answers."""
    rng = gen.rng
    vocab = rng.choice(gen.fields)
    wording = gen.wordings[vocab.code]
    firm = rng.choice(state.firms_by_field.get(vocab.code) or [o for v_ in state.firms_by_field.values() for o in v_])
    topic = wording.topic(rng)
    demand = _demand_row(gen, state, vocab, wording, topic, firm)
    buffers.demands.append(demand)
    linked = 0
    own: set[int] = set()
    key = (vocab.code, topic)
    for level, kind in _answer_plan(gen):
        if linked >= budget:
            break
        achievement = _answer(gen, state, vocab, wording, topic, demand, level, kind, buffers)
        posted = [achievement] if buffers.achievements[-1] is achievement else [achievement, buffers.achievements[-1]]
        for row in posted:   # a duplicate posting answers just as well
            buffers.fits.append({"demand_id": demand["id"], "achievement_id": row["id"], "level": level})
            own.add(row["id"])
            if kind == "reworded":
                gen.subject_members.setdefault(key, []).append(row["id"])
            linked += 1
    gen.demand_subjects.append((demand["id"], key, own))
    return linked


def add_same_subject_fits(gen: Generator, conn: Connection, state: State) -> None:
    """Level 3 for other achievements on a demand's subject: they answer it, whoever they were written for."""
    rows = []
    for demand_id, key, own in gen.demand_subjects:
        others = [a for a in gen.subject_members.get(key, ()) if a not in own]
        for achievement_id in gen.rng.sample(others, k=min(gen.spec.same_subject_fits, len(others))):
            rows.append({"demand_id": demand_id, "achievement_id": achievement_id, "level": 3})
    for batch in batches(rows):
        conn.execute(insert(LatentFit), batch)
    state.counts["latent_fits"] = state.counts.get("latent_fits", 0) + len(rows)
    gen.demand_subjects, gen.subject_members = [], {}


def _answer_plan(gen: Generator) -> list[tuple[int, str]]:
    """Which answers a demand gets: (level, how the answer was made). The level comes from the topic alone:
    how much of the demand's subject the answer works on (docs/world.md)."""
    rng = gen.rng
    plan = []
    if rng.random() < 0.75:
        plan.append((4, "reworded"))
    plan += [(3, "partial")] * rng.choice((0, 1, 1, 2))
    plan += [(2, "weak")] * rng.choice((0, 1, 1))
    plan.append((1, "near_miss"))
    return plan


# A firm's budget for its problem: lognormal, median ≈ 490,000 yuan (assumption: a typical university contract is a
# few hundred thousand yuan), and a spread FITTED so the simulated contracts' mean meets the published mean of
# contracts whose seller is not a firm (benchmarks/calibration/contract_sizes.py; docs/simulation.md). The draw
# is the same whatever the spread (random.normalvariate), so the world's other records do not change with it.
BUDGET_SIGMA = 2.1


def _demand_row(gen: Generator, state: State, vocab, wording: Wording, topic: Topic, firm: Org) -> dict:
    rng = gen.rng
    demand_id = state.take_id("demands")
    budget_max = _money(rng.lognormvariate(13.1, BUDGET_SIGMA))  # median ≈ 500,000 yuan
    budget_min = _money(float(budget_max) * rng.uniform(0.3, 0.8))
    is_challenge = rng.random() < 0.08
    posted = WORLD_DATE - dt.timedelta(days=rng.randrange(0, 540))
    status = rng.choices(
        [v.DemandStatus.PUBLISHED, v.DemandStatus.PENDING_REVIEW, v.DemandStatus.EXPIRED, v.DemandStatus.SOLVED, v.DemandStatus.WITHDRAWN],
        weights=(85, 4, 6, 3, 2),
    )[0]
    title, problem, targets, conditions = wording.demand_text(rng, topic, firm.industry or vocab.name)
    return {
        "id": demand_id,
        "external_id": f"{gen.prefix}-d{demand_id}",
        "title": title,
        "problem": problem,
        "targets": targets,
        "conditions": conditions,
        "field_code": vocab.code,
        "min_trl": rng.choices(range(3, 9), weights=(5, 15, 25, 30, 17, 8))[0],
        "budget_min": budget_min,
        "budget_max": budget_max,
        "cooperation_modes": _modes(rng, demand=True),
        "is_challenge": is_challenge,
        "bounty": _money(float(budget_max) * rng.uniform(1.0, 3.0)) if is_challenge else None,
        "deadline": posted + dt.timedelta(days=rng.choice((180, 365, 730))),
        "organisation_id": firm.id,
        "region_code": firm.region_code,
        "status": status.value,
        "posted_on": posted,
        "created_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
        "updated_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
    }


def _answer(gen: Generator, state: State, vocab, wording: Wording, topic: Topic, demand: dict, level: int, kind: str,
            buffers: Buffers) -> dict:
    rng = gen.rng
    if kind == "reworded":
        answer_topic = wording.reword(rng, topic)
    elif kind == "partial":
        answer_topic = wording.mix(rng, topic, keep=3)
    elif kind == "weak":
        answer_topic = wording.mix(rng, topic, keep=1)
    else:  # near miss: another subject of the same field
        answer_topic = wording.other_subject(rng, topic)
    supplier = _supplier_for(gen, state, vocab.code, demand["region_code"] if rng.random() < 0.45 else None)
    # Stage and price are drawn as for any achievement, whatever the level: the world's truth never rewards
    # structure it created, so what a matcher learns from it about TRL or price is only what people say.
    row = _achievement_row(gen, state, vocab, wording, answer_topic, supplier)
    _post(gen, state, row, buffers)
    return row


def _supplier_for(gen: Generator, state: State, field_code: str, near_region: str | None) -> Org:
    rng = gen.rng
    candidates = rng.sample(state.suppliers, k=min(40, len(state.suppliers)))
    strong = [o for o in candidates if field_code in o.fields]
    if near_region:
        local = [o for o in strong or candidates if o.region_code[:2] == near_region[:2]]
        if local:
            return rng.choice(local)
    return rng.choice(strong or candidates)


# ---- achievements ------------------------------------------------------------------------------------------

def add_background_achievements(gen: Generator, conn: Connection, state: State, progress: Progress, task,
                                count: int) -> None:
    buffers = Buffers()
    done = 0
    while buffers.total + done < count:
        background_achievement(gen, state, buffers)
        if len(buffers.achievements) >= CHUNK:
            flushed = buffers.flush(conn, state)
            done += flushed
            progress.advance(task, flushed)
    progress.advance(task, buffers.flush(conn, state))


def background_achievement(gen: Generator, state: State, buffers: Buffers) -> None:
    """An achievement posted for its own sake, mostly in one of its office's strong fields."""
    rng = gen.rng
    supplier = rng.choice(state.suppliers)
    code = rng.choice(supplier.fields) if rng.random() < 0.8 else rng.choice(gen.fields).code
    vocab = gen.fields_by_code[code]
    wording = gen.wordings[vocab.code]
    topic = wording.topic(rng)
    row = _achievement_row(gen, state, vocab, wording, topic, supplier)
    _post(gen, state, row, buffers)
    if wording.subjects:
        gen.subject_members.setdefault((vocab.code, topic), []).append(row["id"])


def _post(gen: Generator, state: State, row: dict, buffers: Buffers) -> dict | None:
    """Buffer an achievement; now and then its office posts it a second time, lightly edited."""
    buffers.achievements.append(row)
    buffers.ip_records.extend(_ip_rows(gen, row))
    if gen.rng.random() >= DUPLICATE_SHARE:
        return None
    copy_id = state.take_id("achievements")
    copy = row | {
        "id": copy_id,
        "external_id": f"{gen.prefix}-a{copy_id}",
        "summary": row["summary"] + gen.rng.choice(("欢迎洽谈合作。", "可提供技术培训与售后服务。", "")),
    }
    buffers.achievements.append(copy)
    return copy


def _achievement_row(gen: Generator, state: State, vocab, wording: Wording, topic: Topic, supplier: Org) -> dict:
    rng = gen.rng
    achievement_id = state.take_id("achievements")
    trl = rng.choices(range(1, 10), weights=(2, 6, 14, 20, 20, 16, 11, 7, 4))[0]
    price = _money(rng.lognormvariate(13.3, 1.1))
    posted = WORLD_DATE - dt.timedelta(days=rng.randrange(0, 720))
    status = rng.choices(
        [v.AchievementStatus.PUBLISHED, v.AchievementStatus.PENDING_REVIEW, v.AchievementStatus.DRAFT,
         v.AchievementStatus.EXPIRED, v.AchievementStatus.WITHDRAWN, v.AchievementStatus.TRANSFERRED],
        weights=(84, 4, 2, 5, 3, 2),
    )[0]
    title, summary, keywords, detail = wording.achievement_text(rng, topic)
    return {
        "id": achievement_id,
        "external_id": f"{gen.prefix}-a{achievement_id}",
        "title": title,
        "summary": summary,
        "confidential_detail": detail,
        "keywords": keywords,
        "team": wording.team(rng, gen.names, seeds.organisations().get("generated", {})),
        "field_code": vocab.code,
        "trl": trl,
        "organisation_id": supplier.id,
        "region_code": supplier.region_code,
        "transfer_modes": _modes(rng, demand=False),
        "pricing_mode": rng.choices(list(v.PricingMode), weights=(60, 25, 5, 10))[0].value,
        "asking_price": price,
        "use_first_pay_later": rng.random() < 0.15,
        "status": status.value,
        "posted_on": posted,
        "expires_on": posted + dt.timedelta(days=rng.choice((365, 730, 1095))),
        "created_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
        "updated_at": dt.datetime.combine(posted, dt.time(), dt.UTC),
    }


def _ip_rows(gen: Generator, achievement: dict) -> list[dict]:
    rng = gen.rng
    rows = []
    for _ in range(rng.choices((0, 1, 2, 3), weights=(15, 55, 22, 8))[0]):
        ip_type = rng.choices(list(v.IPType), weights=(50, 22, 3, 15, 2, 2, 6))[0]
        year = rng.randrange(2012, 2026)
        if ip_type in (v.IPType.INVENTION_PATENT, v.IPType.UTILITY_MODEL, v.IPType.DESIGN_PATENT):
            kind_digit = {"invention_patent": 1, "utility_model": 2, "design_patent": 3}[ip_type.value]
            number = f"ZL{year}{kind_digit}{rng.randrange(10**7):07d}.{rng.randrange(10)}"
        elif ip_type is v.IPType.SOFTWARE_COPYRIGHT:
            number = f"{year}SR{rng.randrange(10**7):07d}"
        else:
            number = f"{ip_type.value[:2].upper()}{year}{rng.randrange(10**5):05d}"
        rows.append(
            {
                "achievement_id": achievement["id"],
                "ip_type": ip_type.value,
                "number": number,
                "status": rng.choices(list(v.IPStatus), weights=(20, 75, 5))[0].value,
            }
        )
    return rows


def _money(amount: float) -> Decimal:
    """Round to the thousand yuan, as postings quote prices."""
    return Decimal(max(1_000, round(amount / 1_000) * 1_000))


def _modes(rng: random.Random, *, demand: bool) -> int:
    modes = [m for m in v.TransferMode if rng.random() < (0.35 if demand else 0.45)]
    return v.modes_to_mask(modes or [rng.choice(list(v.TransferMode))])
