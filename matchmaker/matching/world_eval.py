"""Measures the matcher on a generated world's latent ground truth (latent_fits), next to the plain baseline."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from matchmaker.matching.evaluate import Qrels, Run, TextRecord, baseline_run, evaluate_run
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.records import open_docs
from matchmaker.matching.scoring import CONSTRAINTS, ScoreWeights
from matchmaker.models import LatentFit

# Relevance alone: no constraint demotes anything (and no sentence vectors: the world is ranked without them).
TEXT_ONLY = ScoreWeights(semantic=0.0, **{factor: 0.0 for factor in CONSTRAINTS})


@dataclasses.dataclass
class WorldData:
    achievements: list[AchievementDoc]
    demands: list[DemandDoc]  # the demands evaluated: published, with at least one matchable answer of level >= 3
    qrels: Qrels


def load_world(engine: Engine, *, max_demands: int = 500) -> WorldData:
    """Published records and latent fits; qrels keep only answers that could be found (published ones)."""
    with Session(engine) as session:
        achievement_docs, demand_docs = open_docs(session)
        achievements = [_with_str_id(doc) for doc in achievement_docs]
        all_demands = [_with_str_id(doc) for doc in demand_docs]
        findable = {a.id for a in achievements}
        qrels: Qrels = {}
        for demand_id, achievement_id, level in session.execute(select(LatentFit.demand_id, LatentFit.achievement_id, LatentFit.level)):
            if str(achievement_id) in findable:
                qrels.setdefault(str(demand_id), {})[str(achievement_id)] = level
    eligible = [d for d in all_demands if any(level >= 3 for level in qrels.get(d.id, {}).values())]
    step = max(1, len(eligible) // max_demands)  # an even spread over the world, the same every run
    return WorldData(achievements, eligible[::step][:max_demands], qrels)


def _with_str_id(doc):
    return dataclasses.replace(doc, id=str(doc.id))


def matcher_world_run(world: WorldData, weights: ScoreWeights | None = None, k: int = 10,
                      demands: Sequence[DemandDoc] | None = None) -> Run:
    """Rank with the Matcher (the API's code path) over every published achievement of the world."""
    matcher = Matcher(weights=weights).fit(world.achievements, ())
    return {d.id: [(m.id, m.score) for m in matcher.rank_achievements(d, k)] for d in (demands or world.demands)}


def evaluate_world(engine: Engine, *, max_demands: int = 500) -> dict[str, dict[str, float]]:
    world = load_world(engine, max_demands=max_demands)
    records = [TextRecord(a.id, a.title, a.body) for a in world.achievements]
    queries = [TextRecord(d.id, d.title, d.body) for d in world.demands]
    asked = [d.id for d in world.demands]  # the world's other demands were not ranked, so they are not averaged
    return {
        "baseline": evaluate_run(baseline_run(records, queries), world.qrels, asked),
        "matchmaker text only": evaluate_run(matcher_world_run(world, TEXT_ONLY), world.qrels, asked),
        "matchmaker": evaluate_run(matcher_world_run(world), world.qrels, asked),
    }
