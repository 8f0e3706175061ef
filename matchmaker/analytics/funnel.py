"""The deal funnel: match → claimed → contacted → negotiating → signed, with conversions, waits and exits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session

from matchmaker.analytics.filters import (
    UNCLASSIFIED,
    Stage,
    achievement_ids,
    check_dates,
    check_field,
    days,
    median,
    pair_in_region,
    pipeline_scope,
    rate,
    stage_times,
    window,
)
from matchmaker.models import Achievement, Contract, InboxEntry, Introduction, Pipeline, PipelineEvent

# The main path of a deal; declined and lapsed leave it from any open stage.
PATH = (Stage.CLAIMED, Stage.CONTACTED, Stage.NEGOTIATING, Stage.SIGNED)
_PATH_VALUES = tuple(stage.value for stage in PATH)


@dataclass
class FunnelStep:
    stage: str  # match, claimed, contacted, negotiating, signed
    count: int
    conversion_from_previous: float | None
    median_days_from_previous: float | None
    declined_here: int  # pipelines declined while at this stage
    lapsed_here: int


@dataclass
class IntroductionFunnel:
    """Direct introductions beside brokered deals: interest → accepted → contract, and how many a broker took up."""

    interest: int
    accepted: int
    contract: int
    brokered: int   # of the interests, pairs a broker claimed as well
    accepted_rate: float | None
    contract_rate: float | None   # contracts per interest


@dataclass
class Funnel:
    steps: list[FunnelStep]
    match_to_signed: float | None
    median_days_claim_to_signed: float | None
    introductions: IntroductionFunnel


def funnel(session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
           broker_id: int | None = None, field: str | None = None, region: str | None = None) -> Funnel:
    """match → claimed → contacted → negotiating → signed, for the matches surfaced in the window.

    Matches are the distinct (demand, achievement) pairs put in front of someone in the window: pushed to an
    inbox (InboxEntry.created_at) or claimed by a broker (Pipeline.created_at). Only claims can be
    attributed, so with `broker_id` the matches are that broker's claims. A stage counts the pipelines that
    ever reached it (an event to it, or to a later stage: nobody skips a stage), followed beyond the window.
    Median days between stages come from the first event at each stage. Declined and lapsed pipelines are
    counted at the stage they left.
    """
    check_dates(date_from, date_to)
    check_field(session, field)
    scope = pipeline_scope(date_from, date_to, broker_id, field, region)
    matches = _match_count(session, date_from, date_to, broker_id, field, region)
    times = stage_times(session, scope, _PATH_VALUES)
    furthest = [0] * len(PATH)
    for pipeline_times in times.values():
        furthest[_furthest(pipeline_times)] += 1
    reached = [sum(furthest[i:]) for i in range(len(PATH))]  # a pipeline that got further passed this stage too
    exits = _exits(session, scope)
    steps = [FunnelStep("match", matches, None, None, 0, 0)]
    previous = matches
    for i, stage in enumerate(PATH):
        waits = _waits(times, PATH[i - 1].value, stage.value) if i else []
        steps.append(FunnelStep(stage.value, reached[i], rate(reached[i], previous), median(waits),
                                exits.get((stage.value, Stage.DECLINED.value), 0),
                                exits.get((stage.value, Stage.LAPSED.value), 0)))
        previous = reached[i]
    to_sign = _waits(times, Stage.CLAIMED.value, Stage.SIGNED.value)
    return Funnel(steps, rate(reached[-1], matches), median(to_sign),
                  introduction_funnel(session, date_from, date_to, broker_id, field, region))


def introduction_funnel(session: Session, date_from, date_to, broker_id: int | None,
                        field: str | None, region: str | None = None) -> IntroductionFunnel:
    """Interests expressed in the window (by the achievement's field; with `broker_id`, on pairs it claimed), how
    many were accepted, how many pairs reached a contract (directly or through a broker), and how many a broker
    took up."""
    start, end = window(date_from, date_to)
    query = select(Introduction.status, Introduction.demand_id, Introduction.achievement_id)
    in_region = pair_in_region(region, Introduction.demand_id, Introduction.achievement_id)
    if in_region is not None:
        query = query.where(in_region)
    if start is not None:
        query = query.where(Introduction.requested_at >= start)
    if end is not None:
        query = query.where(Introduction.requested_at < end)
    if field == UNCLASSIFIED:
        query = query.where(Introduction.achievement_id.in_(select(Achievement.id).where(Achievement.field_code.is_(None))))
    elif field is not None:
        query = query.where(Introduction.achievement_id.in_(achievement_ids(field)))
    claimed = select(Pipeline.id).where(Pipeline.demand_id == Introduction.demand_id,
                                        Pipeline.achievement_id == Introduction.achievement_id)
    if broker_id is not None:
        query = query.where(claimed.where(Pipeline.broker_id == broker_id).exists())
    rows = session.execute(query.add_columns(claimed.exists().label("brokered"), select(Contract.id).where(
        Contract.demand_id == Introduction.demand_id, Contract.achievement_id == Introduction.achievement_id
    ).exists().label("contracted"))).all()
    interest = len(rows)
    accepted = sum(1 for row in rows if row.status == "accepted")
    contracted = sum(1 for row in rows if row.contracted)
    return IntroductionFunnel(interest, accepted, contracted, sum(1 for row in rows if row.brokered),
                              rate(accepted, interest), rate(contracted, interest))


def _furthest(times: dict[str, dt.datetime]) -> int:
    """Index in PATH of the furthest stage reached; reaching one implies the ones before it."""
    for i in range(len(_PATH_VALUES) - 1, 0, -1):
        if _PATH_VALUES[i] in times:
            return i
    return 0


def _match_count(session: Session, date_from, date_to, broker_id: int | None, field: str | None,
                 region: str | None = None) -> int:
    start, end = window(date_from, date_to)
    # distinct: a pair claimed again after a decline is still one match.
    claimed = select(Pipeline.demand_id, Pipeline.achievement_id).distinct().where(
        Pipeline.id.in_(pipeline_scope(date_from, date_to, broker_id, field, region).scalar_subquery()))
    if broker_id is not None:
        return session.scalar(select(func.count()).select_from(claimed.subquery()))
    pushed = select(InboxEntry.demand_id, InboxEntry.achievement_id)
    in_region = pair_in_region(region, InboxEntry.demand_id, InboxEntry.achievement_id)
    if in_region is not None:
        pushed = pushed.where(in_region)
    if start is not None:
        pushed = pushed.where(InboxEntry.created_at >= start)
    if end is not None:
        pushed = pushed.where(InboxEntry.created_at < end)
    if field == UNCLASSIFIED:
        pushed = pushed.where(InboxEntry.achievement_id.not_in(
            select(Achievement.id).where(Achievement.field_code.is_not(None))))
    elif field is not None:
        pushed = pushed.where(InboxEntry.achievement_id.in_(achievement_ids(field)))
    # UNION (not UNION ALL) makes a pair both pushed and claimed one match.
    return session.scalar(select(func.count()).select_from(union(pushed, claimed).subquery()))


def _exits(session: Session, scope: Select) -> dict[tuple[str, str], int]:
    query = (select(PipelineEvent.from_stage, PipelineEvent.to_stage, func.count())
             .where(PipelineEvent.pipeline_id.in_(scope.scalar_subquery()),
                    PipelineEvent.to_stage.in_([Stage.DECLINED.value, Stage.LAPSED.value]))
             .group_by(PipelineEvent.from_stage, PipelineEvent.to_stage))
    return {(from_stage, to_stage): n for from_stage, to_stage, n in session.execute(query)}


def _waits(times: dict[int, dict[str, dt.datetime]], start: str, end: str) -> list[float]:
    return [days(t[start], t[end]) for t in times.values() if start in t and end in t]
