"""Who is in a pair's deal: the demand's firm, the achievement's owner, and brokers with a pipeline on it.

The one place that says who may read a deal thread; nobody else may (analysts see aggregates only), and
to anyone else a thread answers exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select, union
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.access import visible_record
from matchmaker.errors import NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Broker, Demand, Pipeline, User


@dataclass(frozen=True)
class Pair:
    demand: Demand
    achievement: Achievement

    @property
    def ids(self) -> tuple[int, int]:
        return self.demand.id, self.achievement.id

    @property
    def link(self) -> str:
        return f"/web/deals/{self.demand.id}/{self.achievement.id}"

    def side_of(self, actor: Actor) -> v.Library | None:
        """Which posting is the actor's own (firm: the demand; office: the achievement); None for brokers."""
        if actor.organisation_id == self.demand.organisation_id and actor.is_(v.Role.FIRM, v.Role.OFFICE):
            return v.Library.DEMANDS
        if actor.organisation_id == self.achievement.organisation_id and actor.is_(v.Role.FIRM, v.Role.OFFICE):
            return v.Library.ACHIEVEMENTS
        return None

    def owner_of(self, side: v.Library) -> int | None:
        return (self.demand if side is v.Library.DEMANDS else self.achievement).organisation_id


def load_pair(session: Session, actor: Actor, demand_id: int, achievement_id: int) -> Pair:
    """The pair, or 404 when either posting is missing or hidden from the actor."""
    return Pair(visible_record(session, actor, Demand, demand_id, "demand_id"),
                visible_record(session, actor, Achievement, achievement_id, "achievement_id"))


# Built once with bound parameters: building the statement per call cost as much as running it, and every
# pipeline event asks for the parties.
_BROKERS = (select(Broker.user_id).join(Pipeline, Pipeline.broker_id == Broker.id)
            .where(Pipeline.demand_id == bindparam("demand_id"), Pipeline.achievement_id == bindparam("achievement_id"),
                   Broker.user_id.is_not(None)))
# The owners as two plain parameters (either may be NULL, which matches nobody) and the roles as two equalities:
# an IN list is rewritten at every execution.
_PARTIES = union(select(User.id).where(User.organisation_id.in_([bindparam("demand_owner"), bindparam("achievement_owner")]),
                                       User.revoked_at.is_(None),
                                       or_(User.role == v.Role.FIRM.value, User.role == v.Role.OFFICE.value)),
                 _BROKERS)


def broker_user_ids(session: Session, pair: Pair) -> set[int]:
    """Users of the brokers who hold or held a pipeline on the pair."""
    return set(session.scalars(_BROKERS, {"demand_id": pair.demand.id, "achievement_id": pair.achievement.id}))


def party_user_ids(session: Session, pair: Pair) -> list[int]:
    """Everyone in the deal: both owners' people and its brokers (one query)."""
    return sorted(set(session.scalars(_PARTIES, {
        "demand_owner": pair.demand.organisation_id, "achievement_owner": pair.achievement.organisation_id,
        "demand_id": pair.demand.id, "achievement_id": pair.achievement.id})))


def is_party(session: Session, actor: Actor, pair: Pair) -> bool:
    if actor.is_(v.Role.ADMIN) or pair.side_of(actor) is not None:
        return True
    return actor.is_(v.Role.BROKER) and actor.user_id in broker_user_ids(session, pair)


# A deal (or an introduction in it) that is missing and one the actor is not in are refused in the same words.
NO_DEAL = "找不到您参与的这项对接：它不存在，或您不是其中一方。请从“对接记录”重新进入"


def party_pair(session: Session, actor: Actor, demand_id: int, achievement_id: int) -> Pair:
    """The pair when the actor is in its deal; 404 with the same words as a missing pair otherwise."""
    pair = load_pair(session, actor, demand_id, achievement_id)
    if not is_party(session, actor, pair):
        raise NotFound(NO_DEAL)
    return pair
