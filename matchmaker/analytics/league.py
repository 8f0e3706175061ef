"""The broker league table and the credit score (信用积分) computed from each broker's outcomes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from matchmaker.analytics.filters import (
    Stage,
    check_dates,
    check_field,
    days,
    median,
    pipeline_scope,
    rate,
    stage_times,
    yuan,
)
from matchmaker.errors import InvalidInput
from matchmaker.models import Broker, Contract, Organisation, Pipeline, PipelineEvent

PRIOR_STRENGTH = 5.0  # pseudo-outcomes at the market's win rate added to every broker's record
CONFIDENCE_HALF = 5.0  # closed pipelines at which a score has moved half way from neutral to its own value
MIN_RANKED = 3  # closed pipelines before a broker gets a rank: fewer outcomes say too little to order by
TIMELINESS_POINTS = 10.0  # at most ± this many points for signing faster / slower than the median broker
LAPSE_PENALTY = 30.0  # points lost if every closed pipeline lapsed
DISPUTE_PENALTY = 40.0  # points lost if every closed pipeline was declined after negotiating
# Penalties follow the time since the claim, not the stage the broker chose to record (issue 15's audit: recording
# "negotiating" only on signing day dodged the dispute penalty; declining the day before a lapse dodged the lapse).
HOLD_DAYS = 120.0  # a pair held this long and then given up costs as much as a lapse (the simulator lapses at 4 months)


def credit_score(*, signed: int, closed: int, lapsed: float, disputed: int, median_days: float | None,
                 market_win_rate: float, market_median_days: float | None) -> float:
    """The 信用积分 (0–100) from a broker's outcomes; docs/analytics.md gives the formula and its reasons.

    win = (signed + k·m) / (closed + k)                       Bayesian win rate, prior m = market win rate, k = 5
    timely = 10 · clamp((T − t) / T, −1, 1)                   t = broker's median days claim→signed, T = median broker's
    raw = 100 · win + timely − 30 · lapsed/closed − 40 · disputed/closed
        lapsed: Σ over the pipelines ended without a contract of min(1, days held / 120), a lapse counting 1
        disputed: declined after negotiating, or after being held as long as the median broker takes to sign
    score = clamp(M + c · (raw − M), 0, 100), c = closed / (closed + 5), M = 100 · m (the market's average broker)

    A broker with no record stands at the market's average, not at 50: in a market where 6.8% of claims end signed,
    50 would put every broker with a record below one without (issue 15's audit).
    """
    win = (signed + PRIOR_STRENGTH * market_win_rate) / (closed + PRIOR_STRENGTH)
    timely = 0.0
    if median_days is not None and market_median_days:
        timely = TIMELINESS_POINTS * max(-1.0, min(1.0, (market_median_days - median_days) / market_median_days))
    penalties = (LAPSE_PENALTY * lapsed + DISPUTE_PENALTY * disputed) / closed if closed else 0.0
    raw = 100 * win + timely - penalties
    confidence = closed / (closed + CONFIDENCE_HALF)
    average = 100 * market_win_rate
    return round(max(0.0, min(100.0, average + confidence * (raw - average))), 1)


@dataclass
class BrokerStanding:
    rank: int | None   # None until the broker has MIN_RANKED closed pipelines (listed after the ranked ones)
    broker_id: int
    name: str
    level: str
    agency: str
    claimed: int
    open: int
    signed: int
    declined: int
    lapsed: int
    signed_amount: Decimal
    win_rate: float | None  # signed ÷ closed (signed + declined + lapsed)
    lapsed_share: float | None  # lapsed ÷ closed
    declined_after_negotiating_share: float | None  # ÷ closed; a proxy for disputes
    median_days_to_sign: float | None  # claim → signed
    credit_score: float


@dataclass
class _Record:
    """One broker's tallies while the league is being built."""

    stages: dict[str, int]
    disputed: int = 0
    held: float = 0.0   # Σ over pipelines ended without a contract: lapsed 1, declined min(1, days held / HOLD_DAYS)
    decline_days: list[float] | None = None   # days from claim to each decline (disputes are judged against T)
    amount: Decimal = Decimal(0)
    waits: list[float] | None = None

    def count(self, stage: Stage) -> int:
        return self.stages.get(stage.value, 0)

    @property
    def closed(self) -> int:
        return self.count(Stage.SIGNED) + self.count(Stage.DECLINED) + self.count(Stage.LAPSED)


def broker_league(session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                  field: str | None = None, limit: int = 50, region: str | None = None) -> list[BrokerStanding]:
    """Every broker with a pipeline claimed in the window, by credit score (then signed, then id); with `region`,
    on the pairs of that market only (a city analyst ranks brokers by their work in its city)."""
    check_dates(date_from, date_to)
    check_field(session, field)
    if limit < 1:
        raise InvalidInput.on("limit", "显示的经纪人数须至少为 1；请填写 1 或更大的整数")
    scope = pipeline_scope(date_from, date_to, None, field, region)
    records = _broker_records(session, scope)
    closed = sum(r.closed for r in records.values())
    market_win_rate = sum(r.count(Stage.SIGNED) for r in records.values()) / closed if closed else 0.5
    medians = {bid: median(r.waits) if r.waits else None for bid, r in records.items()}
    market_median = median([m for m in medians.values() if m is not None])
    for record in records.values():   # a decline held as long as a typical signing had reached the table
        record.disputed += sum(1 for d in record.decline_days or [] if market_median is not None and d >= market_median)
    brokers = _broker_names(session, records)
    standings = [_standing(bid, brokers[bid], r, medians[bid], market_win_rate, market_median)
                 for bid, r in records.items()]
    ranked = [s for s in standings if s.signed + s.declined + s.lapsed >= MIN_RANKED]
    unranked = [s for s in standings if s.signed + s.declined + s.lapsed < MIN_RANKED]
    for group in (ranked, unranked):
        group.sort(key=lambda s: (-s.credit_score, -s.signed, s.broker_id))
    for rank, standing in enumerate(ranked, start=1):
        standing.rank = rank
    for standing in unranked:
        standing.rank = None
    return (ranked + unranked)[:limit]


def _broker_records(session: Session, scope: Select) -> dict[int, _Record]:
    in_scope = Pipeline.id.in_(scope.scalar_subquery())
    records: dict[int, _Record] = defaultdict(lambda: _Record({}))
    for broker_id, stage, n in session.execute(
            select(Pipeline.broker_id, Pipeline.stage, func.count()).where(in_scope)
            .group_by(Pipeline.broker_id, Pipeline.stage)):
        records[broker_id].stages[stage] = n
    for broker_id, n in session.execute(
            select(Pipeline.broker_id, func.count()).join(PipelineEvent, PipelineEvent.pipeline_id == Pipeline.id)
            .where(in_scope, PipelineEvent.to_stage == Stage.DECLINED.value,
                   PipelineEvent.from_stage == Stage.NEGOTIATING.value)
            .group_by(Pipeline.broker_id)):
        records[broker_id].disputed = n
    for broker_id, amount in session.execute(
            select(Pipeline.broker_id, func.sum(Contract.amount)).join(Contract, Contract.pipeline_id == Pipeline.id)
            .where(in_scope).group_by(Pipeline.broker_id)):
        records[broker_id].amount = yuan(amount)
    owners = dict(session.execute(select(Pipeline.id, Pipeline.broker_id).where(
        in_scope, Pipeline.stage == Stage.SIGNED.value)).all())
    _ended_times(session, scope, records)
    for pid, times in stage_times(session, scope, [Stage.CLAIMED.value, Stage.SIGNED.value],
                                  only_stage=Stage.SIGNED.value).items():
        if Stage.SIGNED.value in times:
            record = records[owners[pid]]
            record.waits = (record.waits or []) + [days(times[Stage.CLAIMED.value], times[Stage.SIGNED.value])]
    return dict(records)


def _ended_times(session: Session, scope: Select, records: dict[int, _Record]) -> None:
    """How long each pipeline ended without a contract was held: a lapse counts in full, a decline by its days."""
    # The ended pipelines as a subquery, never as a list of ids: a national year ended 272,107 of them, past SQLite's
    # 32,766 parameters a statement (the run's figures were lost to "too many SQL variables" after 35 minutes).
    ended_scope = scope.where(Pipeline.stage.in_([Stage.DECLINED.value, Stage.LAPSED.value]))
    ended = dict(session.execute(ended_scope.add_columns(Pipeline.broker_id)).all())
    negotiated = set(session.scalars(select(PipelineEvent.pipeline_id).where(
        PipelineEvent.pipeline_id.in_(ended_scope.scalar_subquery()), PipelineEvent.to_stage == Stage.DECLINED.value,
        PipelineEvent.from_stage == Stage.NEGOTIATING.value)))
    stages = [Stage.CLAIMED.value, Stage.DECLINED.value, Stage.LAPSED.value]
    for pid, times in stage_times(session, ended_scope, stages).items():
        record = records[ended[pid]]
        if Stage.LAPSED.value in times:
            record.held += 1.0
        elif Stage.DECLINED.value in times:
            held = days(times[Stage.CLAIMED.value], times[Stage.DECLINED.value])
            record.held += min(1.0, held / HOLD_DAYS)
            if pid not in negotiated:   # those are disputes already
                record.decline_days = (record.decline_days or []) + [held]


def _broker_names(session: Session, records: dict[int, _Record]) -> dict[int, tuple[str, str, str]]:
    query = (select(Broker.id, Broker.name, Broker.level, Organisation.name)
             .join(Organisation, Organisation.id == Broker.agency_id).where(Broker.id.in_(list(records))))
    return {bid: (name, level, agency) for bid, name, level, agency in session.execute(query)}


def _standing(broker_id: int, names: tuple[str, str, str], r: _Record, median_days: float | None,
              market_win_rate: float, market_median: float | None) -> BrokerStanding:
    signed, declined, lapsed, closed = r.count(Stage.SIGNED), r.count(Stage.DECLINED), r.count(Stage.LAPSED), r.closed
    score = credit_score(signed=signed, closed=closed, lapsed=r.held, disputed=r.disputed, median_days=median_days,
                         market_win_rate=market_win_rate, market_median_days=market_median)
    open_ = sum(r.count(s) for s in (Stage.CLAIMED, Stage.CONTACTED, Stage.NEGOTIATING))
    return BrokerStanding(0, broker_id, *names, claimed=sum(r.stages.values()), open=open_, signed=signed,
                          declined=declined, lapsed=lapsed, signed_amount=r.amount,
                          win_rate=rate(signed, closed), lapsed_share=rate(lapsed, closed),
                          declined_after_negotiating_share=rate(r.disputed, closed),
                          median_days_to_sign=median_days, credit_score=score)
