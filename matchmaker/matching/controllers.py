"""HTTP routes for live matches: achievements for a demand and demands for an achievement, explained."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.api.params import PathId
from matchmaker.catalog import services as catalog
from matchmaker.catalog.services import ACHIEVEMENTS, DEMANDS, LibrarySpec
from matchmaker.identity.services import Actor
from matchmaker.matching.ranking import Match
from matchmaker.matching.schemas import ExplanationOut, FactorOut, MatchList, MatchOut, SharedTerm
from matchmaker.matching.service import MAX_K, MatchFilters, matching_service

K = Annotated[int, Parameter(ge=1, le=MAX_K, description=f"how many matches, at most {MAX_K}")]
RegionFilter = Annotated[str | None, Parameter(pattern=r"^\d{6}$", description="a province includes its cities and counties")]
Trl = Annotated[int | None, Parameter(ge=1, le=9)]


def explanation_out(match: Match) -> ExplanationOut:
    e = match.explanation
    return ExplanationOut(
        e.text_score, e.text_weight, [SharedTerm(term, weight) for term, weight in e.shared_terms], e.other_terms,
        [FactorOut(f.name, f.value, f.weight, f.contribution) for f in e.factors])


def match_list(session: Session, spec: LibrarySpec, source_id: int, matches: list[Match]) -> MatchList:
    rows = {r.id: r for r in session.scalars(select(spec.model).where(spec.model.id.in_([m.id for m in matches])))}
    items = []
    for m in matches:
        row = rows[m.id]
        items.append(MatchOut(m.id, row.title, row.organisation_id, row.field_code, row.region_code,
                              getattr(row, spec.trl_column), m.score, explanation_out(m)))
    return MatchList(source_id, items)


class MatchController(Controller):
    path = "/"
    tags = ["matching"]

    @get("/demands/{demand_id:int}/matches", operation_id="matchAchievementsForDemand", sync_to_thread=True)
    def achievements_for_demand(self, demand_id: PathId, actor: Actor, session: Session, state: State, k: K = 10,
                                field: list[str] | None = None, region: RegionFilter = None,
                                trl_min: Trl = None, trl_max: Trl = None) -> MatchList:
        """The best published achievements for a demand the caller may see, each with its explanation."""
        with session.begin():
            demand = catalog.get_record(session, actor=actor, spec=DEMANDS, record_id=demand_id)
        filters = MatchFilters(tuple(field) if field else None, region, trl_min, trl_max)
        matches = matching_service(state).achievements_for(demand, k=k, filters=filters)
        with session.begin():
            return match_list(session, ACHIEVEMENTS, demand_id, matches)

    @get("/achievements/{achievement_id:int}/matches", operation_id="matchDemandsForAchievement", sync_to_thread=True)
    def demands_for_achievement(self, achievement_id: PathId, actor: Actor, session: Session, state: State, k: K = 10,
                                field: list[str] | None = None, region: RegionFilter = None,
                                trl_min: Trl = None, trl_max: Trl = None) -> MatchList:
        """The best published demands for an achievement the caller may see (TRL filters the demands' minimum TRL)."""
        with session.begin():
            achievement = catalog.get_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id)
        filters = MatchFilters(tuple(field) if field else None, region, trl_min, trl_max)
        matches = matching_service(state).demands_for(achievement, k=k, filters=filters)
        with session.begin():
            return match_list(session, DEMANDS, achievement_id, matches)
