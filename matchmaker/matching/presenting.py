"""Matches as people and clients receive them: rows, Chinese notes, the 匹配度 tier and the list's notice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.catalog.specs import ACHIEVEMENTS, LibrarySpec
from matchmaker.matching import records, wording
from matchmaker.matching.kept import Kept
from matchmaker.matching.ranking import FUSED, TFIDF, Match
from matchmaker.matching.records import achievement_doc, demand_doc
from matchmaker.matching.schemas import (
    ExplanationOut,
    FactorOut,
    MatchList,
    MatchOut,
    RelevanceOut,
    SharedTerm,
)


def notice(spec: LibrarySpec, matches: list[Match]) -> str | None:
    """What a list with no 高度匹配 item says instead of presenting filler as an answer."""
    if any(m.tier == "strong" for m in matches):
        return None
    noun = "成果" if spec is ACHIEVEMENTS else "需求"
    if not matches:
        return f"暂无匹配的{noun}。补充技术难题的描述和关键词有助于匹配。"
    return f"暂无高度匹配的{noun}。以下是相关性较低的参考结果，补充描述或订阅新发布的{noun}会更有帮助。"


def factor_state(factor) -> str:
    if factor.name == "locality":
        return "info"
    if factor.violation is None:
        return "unknown"
    return "met" if factor.violation == 0 else "violated"


def explanation_out(match: Match, achievement, demand, names: dict[str, str]) -> ExplanationOut:
    e, r = match.explanation, match.explanation.relevance
    return ExplanationOut(
        RelevanceOut(r.ranker, r.text_similarity, r.text_z, r.semantic_similarity, r.semantic_z, r.semantic_weight,
                     r.z, r.value, wording.relevance_note(r)),
        [SharedTerm(term, weight) for term, weight in e.shared_terms],
        [FactorOut(f.name, factor_state(f), f.violation, f.multiplier,
                   wording.factor_note(f, achievement, demand, names)) for f in e.factors])


def match_list(session: Session, spec: LibrarySpec, source, matches: list[Match],
               names: dict[str, str], kept: Kept | None = None) -> MatchList:
    """`spec` is the library of the matches; `source` the row they were ranked for; `names` the field names the
    process holds (`directory.field_names`); `kept` the rows presented before (the matching service's `presented`:
    reading and wording the rows was a fifth of a match request's CPU, py-spy, benchmarks/speed/README.md)."""
    model = spec.model
    source_doc = demand_doc(source) if spec is ACHIEVEMENTS else achievement_doc(source)
    kept = kept or Kept(0)
    keys = [(spec.library, source_doc, m) for m in matches]
    found = [kept.get(key) for key in keys]
    missing = [m.id for m, item in zip(matches, found) if item is None]
    # The documents' columns alone, as plain rows: a match list is on every request of the match endpoint.
    rows = {r.id: r for r in session.execute(select(*records.COLUMNS[spec.library], model.organisation_id)
                                             .where(model.id.in_(missing)))} if missing else {}
    items = []
    for m, key, item in zip(matches, keys, found):
        if item is None:
            row = rows.get(m.id)
            if row is None:
                continue
            achievement, demand = (achievement_doc(row), source_doc) if spec is ACHIEVEMENTS \
                else (source_doc, demand_doc(row))
            item = MatchOut(m.id, row.title, row.organisation_id, row.field_code, row.region_code,
                            getattr(row, spec.trl_column), m.score, m.tier, wording.summary(m),
                            explanation_out(m, achievement, demand, names))
            kept.put(key, item)
        items.append(item)
    ranker = matches[0].explanation.relevance.ranker if matches else TFIDF
    return MatchList(source.id, ranker if ranker in (TFIDF, FUSED) else TFIDF, wording.MEANING,
                     sum(1 for m in matches if m.tier == "strong"), notice(spec, matches), items)
