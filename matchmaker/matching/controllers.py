"""HTTP routes for live matches: achievements for a demand and demands for an achievement, explained."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api.params import FieldCode, PathId, RegionFilter, Trl
from matchmaker.catalog import directory
from matchmaker.catalog import services as catalog
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS
from matchmaker.identity.services import Actor
from matchmaker.matching.presenting import match_list
from matchmaker.matching.schemas import MatchList
from matchmaker.matching.service import MAX_K, MatchFilters, matching_service

K = Annotated[int, Parameter(ge=1, le=MAX_K, description=f"how many matches, at most {MAX_K}")]


class MatchController(Controller):
    path = "/"
    tags = ["matching"]

    @get("/demands/{demand_id:int}/matches", operation_id="matchAchievementsForDemand", sync_to_thread=True)
    def achievements_for_demand(self, demand_id: PathId, actor: Actor, session: Session, state: State, k: K = 10,
                                field: list[FieldCode] | None = None, region: RegionFilter = None,
                                trl_min: Trl = None, trl_max: Trl = None) -> MatchList:
        """The best published achievements for a demand the caller may see, each with its explanation."""
        demand = catalog.read_record(session, actor=actor, spec=DEMANDS, record_id=demand_id)
        filters = MatchFilters(tuple(field) if field else None, region, trl_min, trl_max)
        service = matching_service(state)
        with session.begin():
            matches = service.show(session, record=demand, target=v.Library.ACHIEVEMENTS, k=k, surface=v.Surface.API,
                                   user_id=actor.user_id, filters=filters)
            return match_list(session, ACHIEVEMENTS, demand, matches, directory.field_names(state), service.presented)

    @get("/achievements/{achievement_id:int}/matches", operation_id="matchDemandsForAchievement", sync_to_thread=True)
    def demands_for_achievement(self, achievement_id: PathId, actor: Actor, session: Session, state: State, k: K = 10,
                                field: list[FieldCode] | None = None, region: RegionFilter = None,
                                trl_min: Trl = None, trl_max: Trl = None) -> MatchList:
        """The best published demands for an achievement the caller may see (TRL filters the demands' minimum TRL)."""
        achievement = catalog.read_record(session, actor=actor, spec=ACHIEVEMENTS, record_id=achievement_id)
        filters = MatchFilters(tuple(field) if field else None, region, trl_min, trl_max)
        service = matching_service(state)
        with session.begin():
            matches = service.show(session, record=achievement, target=v.Library.DEMANDS, k=k, surface=v.Surface.API,
                                   user_id=actor.user_id, filters=filters)
            return match_list(session, DEMANDS, achievement, matches, directory.field_names(state), service.presented)
