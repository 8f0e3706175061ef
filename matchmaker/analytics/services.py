"""Aggregates over contracts and pipelines (turnover, local conversion, funnel, broker league) and their CSV form."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from decimal import Decimal

from sqlalchemy import Select, case, extract, func, literal_column, select, union
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import InvalidInput
from matchmaker.models import (
    Achievement,
    Broker,
    Contract,
    InboxEntry,
    Organisation,
    Pipeline,
    PipelineEvent,
    Region,
    TechnologyField,
)

Stage = v.PipelineStage
UNCLASSIFIED = "unclassified"  # the field of a contract with no source achievement, or one without a field
CENT = Decimal("0.01")
DIMENSIONS = ("period", "region", "field", "type")
PERIODS = ("month", "quarter", "year")
LEVELS = ("province", "city")
SIDES = ("seller", "buyer")
# The main path of a deal; declined and lapsed leave it from any open stage.
PATH = (Stage.CLAIMED, Stage.CONTACTED, Stage.NEGOTIATING, Stage.SIGNED)
_PATH_VALUES = tuple(stage.value for stage in PATH)
_PREFIX_LENGTH = {"province": 2, "city": 4}  # GB/T 2260: 2 digits name the province, 4 the city


# --- shared filters ------------------------------------------------------------------------------------------

def level_of(code: str, parameter: str = "region") -> str:
    """'province' for 210000, 'city' for 210200; analytics do not aggregate below the city."""
    if not re.fullmatch(r"\d{6}", code):
        raise InvalidInput.on(parameter, f"{code!r} is not a six-digit GB/T 2260 code")
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    raise InvalidInput.on(parameter, f"{code} is a county; give a province (xx0000) or city (xxxx00) code")


def _region_prefix(code: str) -> str:
    return code[: _PREFIX_LENGTH[level_of(code)]]


def _choice(value: str, allowed: Sequence[str], parameter: str) -> str:
    if value not in allowed:
        raise InvalidInput.on(parameter, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
    return value


def _check_dates(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise InvalidInput.on("date_from", f"{date_from} is after date_to {date_to}")


def _check_field(session: Session, field: str | None) -> None:
    if field is None or field == UNCLASSIFIED:
        return
    if session.get(TechnologyField, field) is None:
        raise InvalidInput.on("field", f"unknown technology field {field!r}")


def _achievement_ids(field: str) -> Select:
    """Ids of the achievements of a field; "unclassified" is handled by the callers (no field at all)."""
    return select(Achievement.id).where(Achievement.field_code == field)


def _window(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) instants in UTC covering the whole of both dates."""
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC) if date_from else None
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC) if date_to else None
    return start, end


def _yuan(value) -> Decimal:
    # str() first: SQLite hands sums back as floats, and Decimal(float) would carry the binary error.
    return Decimal(str(value or 0)).quantize(CENT)


def _rate(part: float | Decimal, whole: float | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _days(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 86400


def _region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    return dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def _field_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(TechnologyField.code, TechnologyField.name)).all())


# --- 1. turnover (成交额) -------------------------------------------------------------------------------------

@dataclass
class TurnoverRow:
    """One group of contracts; the dimensions not grouped by stay empty."""

    period: str | None
    region_code: str | None
    region_name: str | None
    field_code: str | None
    field_name: str | None
    contract_type: str | None
    contracts: int
    amount: Decimal  # 成交额
    certified_amount: Decimal  # 核定技术交易额 (contracts not yet certified add nothing)


@dataclass
class TurnoverReport:
    by: list[str]
    period: str
    region_level: str
    side: str
    rows: list[TurnoverRow]


def turnover(session: Session, *, by: Sequence[str] = ("period",), period: str = "month",
             region_level: str = "province", side: str = "seller", date_from: dt.date | None = None,
             date_to: dt.date | None = None, region: str | None = None, field: str | None = None) -> TurnoverReport:
    """Count, amount (成交额) and certified amount (核定技术交易额) of technology contracts, grouped.

    `by` is any of period (of signed_on: month | quarter | year), region (of the seller, 技术输出, or the
    buyer, 技术吸纳, per `side`; at province or city level), field (of the source achievement; "unclassified"
    when there is none) and type (contract type). `region` keeps contracts whose `side` party is inside it.
    """
    by = [_choice(d, DIMENSIONS, "by") for d in dict.fromkeys(by)] or ["period"]
    _choice(period, PERIODS, "period")
    _choice(region_level, LEVELS, "region_level")
    _choice(side, SIDES, "side")
    _check_dates(date_from, date_to)
    _check_field(session, field)
    party_region = Contract.seller_region_code if side == "seller" else Contract.buyer_region_code
    columns = _turnover_columns(by, party_region, region_level)
    query = (select(*columns.values(), func.count().label("contracts"), func.sum(Contract.amount).label("amount"),
                    func.sum(Contract.certified_amount).label("certified"))
             .select_from(Contract).outerjoin(Achievement, Achievement.id == Contract.achievement_id)
             .group_by(*columns.values()))
    query = _contract_filters(query, date_from, date_to, field)
    if region is not None:
        query = query.where(party_region.like(_region_prefix(region) + "%"))
    groups = _fold_turnover(session.execute(query).all(), list(columns), period, region_level)
    return TurnoverReport(by, period, region_level, side, _turnover_rows(session, groups))


def _turnover_columns(by: list[str], party_region, level: str) -> dict[str, object]:
    columns: dict[str, object] = {}
    if "period" in by:
        # extract() compiles to strftime on SQLite and EXTRACT on PostgreSQL; quarters and years are folded in Python.
        columns["year"] = extract("year", Contract.signed_on).label("year")
        columns["month"] = extract("month", Contract.signed_on).label("month")
    if "region" in by:
        columns["region"] = _prefix(party_region, level).label("region")
    if "field" in by:
        columns["field"] = Achievement.field_code.label("field")
    if "type" in by:
        columns["type"] = Contract.contract_type.label("type")
    return columns


def _contract_filters(query: Select, date_from, date_to, field: str | None) -> Select:
    if date_from is not None:
        query = query.where(Contract.signed_on >= date_from)
    if date_to is not None:
        query = query.where(Contract.signed_on <= date_to)
    if field == UNCLASSIFIED:
        query = query.where(Achievement.field_code.is_(None))
    elif field is not None:
        query = query.where(Achievement.field_code == field)
    return query


def _period_label(year, month, period: str) -> str:
    year, month = int(year), int(month)
    if period == "year":
        return f"{year}"
    if period == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def _fold_turnover(rows, names: list[str], period: str, level: str) -> dict[tuple, list]:
    """Sum the SQL groups into the requested keys (period label, region code, field, type)."""
    groups: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    zeros = "0000" if level == "province" else "00"
    for row in rows:
        values = dict(zip(names, row))
        key = (
            _period_label(values["year"], values["month"], period) if "year" in values else None,
            values["region"] + zeros if "region" in values else None,
            (values["field"] or UNCLASSIFIED) if "field" in values else None,
            values.get("type"),
        )
        total = groups[key]
        total[0] += row.contracts
        total[1] += _yuan(row.amount)
        total[2] += _yuan(row.certified)
    return groups


def _turnover_rows(session: Session, groups: dict[tuple, list]) -> list[TurnoverRow]:
    regions = _region_names(session, (key[1] for key in groups if key[1]))
    field_names = _field_names(session) | {UNCLASSIFIED: "未分类"}
    rows = []
    for key in sorted(groups, key=lambda k: tuple(part or "" for part in k)):
        period, region, field, contract_type = key
        contracts, amount, certified = groups[key]
        rows.append(TurnoverRow(period, region, regions.get(region) if region else None, field,
                                field_names.get(field) if field else None, contract_type, contracts, amount,
                                certified))
    return rows


# --- 2. local conversion rate (本地转化率) ---------------------------------------------------------------------

@dataclass
class LocalConversionRow:
    """Contracts whose seller is in the region, and how many of them found their buyer there too."""

    region_code: str  # "all" on the overall row
    region_name: str | None
    contracts: int
    local_contracts: int
    rate_by_count: float | None
    amount: Decimal
    local_amount: Decimal
    rate_by_amount: float | None


@dataclass
class LocalConversionReport:
    level: str
    rows: list[LocalConversionRow]
    overall: LocalConversionRow  # every contract in the date range: seller and buyer in the same province / city


def local_conversion(session: Session, *, level: str | None = None, region: str | None = None,
                     date_from: dt.date | None = None, date_to: dt.date | None = None) -> LocalConversionReport:
    """Local conversion rate (本地转化率) of the achievements sold out of each region.

    For a region R: contracts whose seller (技术输出方) is in R and whose buyer is in R too, divided by all
    contracts whose seller is in R; by count and by amount (成交额). At province level "in R" means the same
    province; at city level the same city. `level` defaults to the level of `region`, else province; with a
    province `region` and level=city every city of that province gets a row. `overall` is the same ratio
    over all contracts in the date range (same province / same city as the level says).
    """
    if region is not None:
        region_at = level_of(region)
        level = level or region_at
        if level == "province" and region_at == "city":
            raise InvalidInput.on("level", f"{region} is a city; use level=city or a province code")
    level = _choice(level or "province", LEVELS, "level")
    _check_dates(date_from, date_to)
    query = _local_conversion_query(level, date_from, date_to)
    overall = session.execute(query).one()
    grouped = query.add_columns(_prefix(Contract.seller_region_code, level).label("region"))
    grouped = grouped.group_by(_prefix(Contract.seller_region_code, level))
    if region is not None:
        grouped = grouped.where(Contract.seller_region_code.like(_region_prefix(region) + "%"))
    zeros = "0000" if level == "province" else "00"
    groups = sorted(session.execute(grouped).all(), key=lambda row: row.region)
    names = _region_names(session, (row.region + zeros for row in groups))
    rows = [_conversion_row(row.region + zeros, names.get(row.region + zeros), row) for row in groups]
    return LocalConversionReport(level, rows, _conversion_row("all", None, overall))


def _prefix(column, level: str):
    """The leading digits of a region code naming its province or city.

    The lengths are rendered as SQL literals, not bound parameters: PostgreSQL accepts a grouped expression in
    the select list only when it is textually the one in GROUP BY, and each bind would get its own name.
    """
    return func.substr(column, literal_column("1"), literal_column(str(_PREFIX_LENGTH[level])))


def _local_conversion_query(level: str, date_from, date_to) -> Select:
    local = _prefix(Contract.buyer_region_code, level) == _prefix(Contract.seller_region_code, level)
    query = select(func.count().label("contracts"),
                   func.coalesce(func.sum(case((local, 1), else_=0)), 0).label("local_contracts"),
                   func.sum(Contract.amount).label("amount"),
                   func.sum(case((local, Contract.amount), else_=0)).label("local_amount"))
    return _contract_filters(query.select_from(Contract), date_from, date_to, None)


def _conversion_row(code: str, name: str | None, row) -> LocalConversionRow:
    amount, local_amount = _yuan(row.amount), _yuan(row.local_amount)
    return LocalConversionRow(code, name, row.contracts, int(row.local_contracts),
                              _rate(row.local_contracts, row.contracts), amount, local_amount,
                              _rate(local_amount, amount))


# --- shared by funnel and league: which pipelines are in scope, and when each reached each stage -------------

def _pipeline_scope(date_from, date_to, broker_id: int | None, field: str | None) -> Select:
    """Ids of the pipelines claimed in the window (a cohort), by the broker, on achievements of the field."""
    start, end = _window(date_from, date_to)
    query = select(Pipeline.id)
    if start is not None:
        query = query.where(Pipeline.created_at >= start)
    if end is not None:
        query = query.where(Pipeline.created_at < end)
    if broker_id is not None:
        query = query.where(Pipeline.broker_id == broker_id)
    if field == UNCLASSIFIED:
        query = query.where(Pipeline.achievement_id.not_in(
            select(Achievement.id).where(Achievement.field_code.is_not(None))))
    elif field is not None:
        query = query.where(Pipeline.achievement_id.in_(_achievement_ids(field)))
    return query


def _stage_times(session: Session, scope: Select, stages: Sequence[str],
                 only_stage: str | None = None) -> dict[int, dict[str, dt.datetime]]:
    """pipeline id → {stage: first time it got there}; the claim time falls back to the pipeline's creation."""
    scope_ids = scope.where(Pipeline.stage == only_stage) if only_stage else scope
    times: dict[int, dict[str, dt.datetime]] = {
        pid: {Stage.CLAIMED.value: created}
        for pid, created in session.execute(
            select(Pipeline.id, Pipeline.created_at).where(Pipeline.id.in_(scope_ids.scalar_subquery())))
    }
    events = (select(PipelineEvent.pipeline_id, PipelineEvent.to_stage, func.min(PipelineEvent.at))
              .where(PipelineEvent.pipeline_id.in_(scope_ids.scalar_subquery()), PipelineEvent.to_stage.in_(stages))
              .group_by(PipelineEvent.pipeline_id, PipelineEvent.to_stage))
    for pid, stage, at in session.execute(events):
        if pid in times:
            times[pid][stage] = at
    return times


def _furthest(times: dict[str, dt.datetime]) -> int:
    """Index in PATH of the furthest stage reached; reaching one implies the ones before it."""
    for i in range(len(_PATH_VALUES) - 1, 0, -1):
        if _PATH_VALUES[i] in times:
            return i
    return 0


# --- 3. funnel ------------------------------------------------------------------------------------------------

@dataclass
class FunnelStep:
    stage: str  # match, claimed, contacted, negotiating, signed
    count: int
    conversion_from_previous: float | None
    median_days_from_previous: float | None
    declined_here: int  # pipelines declined while at this stage
    lapsed_here: int


@dataclass
class Funnel:
    steps: list[FunnelStep]
    match_to_signed: float | None
    median_days_claim_to_signed: float | None


def funnel(session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
           broker_id: int | None = None, field: str | None = None) -> Funnel:
    """match → claimed → contacted → negotiating → signed, for the matches surfaced in the window.

    Matches are the distinct (demand, achievement) pairs put in front of someone in the window: pushed to an
    inbox (InboxEntry.created_at) or claimed by a broker (Pipeline.created_at). Only claims can be
    attributed, so with `broker_id` the matches are that broker's claims. A stage counts the pipelines that
    ever reached it (an event to it, or to a later stage: nobody skips a stage), followed beyond the window.
    Median days between stages come from the first event at each stage. Declined and lapsed pipelines are
    counted at the stage they left.
    """
    _check_dates(date_from, date_to)
    _check_field(session, field)
    scope = _pipeline_scope(date_from, date_to, broker_id, field)
    matches = _match_count(session, date_from, date_to, broker_id, field)
    times = _stage_times(session, scope, _PATH_VALUES)
    furthest = [0] * len(PATH)
    for stage_times in times.values():
        furthest[_furthest(stage_times)] += 1
    reached = [sum(furthest[i:]) for i in range(len(PATH))]  # a pipeline that got further passed this stage too
    exits = _exits(session, scope)
    steps = [FunnelStep("match", matches, None, None, 0, 0)]
    previous = matches
    for i, stage in enumerate(PATH):
        waits = _waits(times, PATH[i - 1].value, stage.value) if i else []
        steps.append(FunnelStep(stage.value, reached[i], _rate(reached[i], previous), _median(waits),
                                exits.get((stage.value, Stage.DECLINED.value), 0),
                                exits.get((stage.value, Stage.LAPSED.value), 0)))
        previous = reached[i]
    to_sign = _waits(times, Stage.CLAIMED.value, Stage.SIGNED.value)
    return Funnel(steps, _rate(reached[-1], matches), _median(to_sign))


def _match_count(session: Session, date_from, date_to, broker_id: int | None, field: str | None) -> int:
    start, end = _window(date_from, date_to)
    # distinct: a pair claimed again after a decline is still one match.
    claimed = select(Pipeline.demand_id, Pipeline.achievement_id).distinct().where(
        Pipeline.id.in_(_pipeline_scope(date_from, date_to, broker_id, field).scalar_subquery()))
    if broker_id is not None:
        return session.scalar(select(func.count()).select_from(claimed.subquery()))
    pushed = select(InboxEntry.demand_id, InboxEntry.achievement_id)
    if start is not None:
        pushed = pushed.where(InboxEntry.created_at >= start)
    if end is not None:
        pushed = pushed.where(InboxEntry.created_at < end)
    if field == UNCLASSIFIED:
        pushed = pushed.where(InboxEntry.achievement_id.not_in(
            select(Achievement.id).where(Achievement.field_code.is_not(None))))
    elif field is not None:
        pushed = pushed.where(InboxEntry.achievement_id.in_(_achievement_ids(field)))
    # UNION (not UNION ALL) makes a pair both pushed and claimed one match.
    return session.scalar(select(func.count()).select_from(union(pushed, claimed).subquery()))


def _exits(session: Session, scope: Select) -> dict[tuple[str, str], int]:
    query = (select(PipelineEvent.from_stage, PipelineEvent.to_stage, func.count())
             .where(PipelineEvent.pipeline_id.in_(scope.scalar_subquery()),
                    PipelineEvent.to_stage.in_([Stage.DECLINED.value, Stage.LAPSED.value]))
             .group_by(PipelineEvent.from_stage, PipelineEvent.to_stage))
    return {(from_stage, to_stage): n for from_stage, to_stage, n in session.execute(query)}


def _waits(times: dict[int, dict[str, dt.datetime]], start: str, end: str) -> list[float]:
    return [_days(t[start], t[end]) for t in times.values() if start in t and end in t]


# --- 4. broker league and credit score (信用积分) ----------------------------------------------------------------

PRIOR_STRENGTH = 5.0  # pseudo-outcomes at the market's win rate added to every broker's record
CONFIDENCE_HALF = 5.0  # closed pipelines at which a score has moved half way from neutral to its own value
NEUTRAL = 50.0  # where a broker with no outcomes stands
TIMELINESS_POINTS = 10.0  # at most ± this many points for signing faster / slower than the median broker
LAPSE_PENALTY = 30.0  # points lost if every closed pipeline lapsed
DISPUTE_PENALTY = 40.0  # points lost if every closed pipeline was declined after negotiating


def credit_score(*, signed: int, closed: int, lapsed: int, disputed: int, median_days: float | None,
                 market_win_rate: float, market_median_days: float | None) -> float:
    """The 信用积分 (0–100) from a broker's outcomes; docs/analytics.md gives the formula and its reasons.

    win = (signed + k·m) / (closed + k)                       Bayesian win rate, prior m = market win rate, k = 5
    timely = 10 · clamp((T − t) / T, −1, 1)                   t = broker's median days claim→signed, T = median broker's
    raw = 100 · win + timely − 30 · lapsed/closed − 40 · disputed/closed
    score = clamp(50 + c · (raw − 50), 0, 100), c = closed / (closed + 5)
    """
    win = (signed + PRIOR_STRENGTH * market_win_rate) / (closed + PRIOR_STRENGTH)
    timely = 0.0
    if median_days is not None and market_median_days:
        timely = TIMELINESS_POINTS * max(-1.0, min(1.0, (market_median_days - median_days) / market_median_days))
    penalties = (LAPSE_PENALTY * lapsed + DISPUTE_PENALTY * disputed) / closed if closed else 0.0
    raw = 100 * win + timely - penalties
    confidence = closed / (closed + CONFIDENCE_HALF)
    return round(max(0.0, min(100.0, NEUTRAL + confidence * (raw - NEUTRAL))), 1)


@dataclass
class BrokerStanding:
    rank: int
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
    amount: Decimal = Decimal(0)
    waits: list[float] | None = None

    def count(self, stage: Stage) -> int:
        return self.stages.get(stage.value, 0)

    @property
    def closed(self) -> int:
        return self.count(Stage.SIGNED) + self.count(Stage.DECLINED) + self.count(Stage.LAPSED)


def broker_league(session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                  field: str | None = None, limit: int = 50) -> list[BrokerStanding]:
    """Every broker with a pipeline claimed in the window, by credit score (then signed, then id)."""
    _check_dates(date_from, date_to)
    _check_field(session, field)
    if limit < 1:
        raise InvalidInput.on("limit", "must be at least 1")
    scope = _pipeline_scope(date_from, date_to, None, field)
    records = _broker_records(session, scope)
    closed = sum(r.closed for r in records.values())
    market_win_rate = sum(r.count(Stage.SIGNED) for r in records.values()) / closed if closed else 0.5
    medians = {bid: _median(r.waits) if r.waits else None for bid, r in records.items()}
    market_median = _median([m for m in medians.values() if m is not None])
    brokers = _broker_names(session, records)
    standings = [_standing(bid, brokers[bid], r, medians[bid], market_win_rate, market_median)
                 for bid, r in records.items()]
    standings.sort(key=lambda s: (-s.credit_score, -s.signed, s.broker_id))
    for rank, standing in enumerate(standings, start=1):
        standing.rank = rank
    return standings[:limit]


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
        records[broker_id].amount = _yuan(amount)
    owners = dict(session.execute(select(Pipeline.id, Pipeline.broker_id).where(
        in_scope, Pipeline.stage == Stage.SIGNED.value)).all())
    for pid, times in _stage_times(session, scope, [Stage.CLAIMED.value, Stage.SIGNED.value],
                                   only_stage=Stage.SIGNED.value).items():
        if Stage.SIGNED.value in times:
            record = records[owners[pid]]
            record.waits = (record.waits or []) + [_days(times[Stage.CLAIMED.value], times[Stage.SIGNED.value])]
    return dict(records)


def _broker_names(session: Session, records: dict[int, _Record]) -> dict[int, tuple[str, str, str]]:
    query = (select(Broker.id, Broker.name, Broker.level, Organisation.name)
             .join(Organisation, Organisation.id == Broker.agency_id).where(Broker.id.in_(list(records))))
    return {bid: (name, level, agency) for bid, name, level, agency in session.execute(query)}


def _standing(broker_id: int, names: tuple[str, str, str], r: _Record, median_days: float | None,
              market_win_rate: float, market_median: float | None) -> BrokerStanding:
    signed, declined, lapsed, closed = r.count(Stage.SIGNED), r.count(Stage.DECLINED), r.count(Stage.LAPSED), r.closed
    score = credit_score(signed=signed, closed=closed, lapsed=lapsed, disputed=r.disputed, median_days=median_days,
                         market_win_rate=market_win_rate, market_median_days=market_median)
    open_ = sum(r.count(s) for s in (Stage.CLAIMED, Stage.CONTACTED, Stage.NEGOTIATING))
    return BrokerStanding(0, broker_id, *names, claimed=sum(r.stages.values()), open=open_, signed=signed,
                          declined=declined, lapsed=lapsed, signed_amount=r.amount,
                          win_rate=_rate(signed, closed), lapsed_share=_rate(lapsed, closed),
                          declined_after_negotiating_share=_rate(r.disputed, closed),
                          median_days_to_sign=median_days, credit_score=score)


# --- 5. CSV ---------------------------------------------------------------------------------------------------

def tabulate(result) -> tuple[list[str], list[list[str]]]:
    """Column names and rows of text cells of any analytics result (for CSV and the CLI's tables)."""
    if isinstance(result, TurnoverReport):
        rows, kind = result.rows, TurnoverRow
    elif isinstance(result, LocalConversionReport):
        rows, kind = [*result.rows, result.overall], LocalConversionRow
    elif isinstance(result, Funnel):
        rows, kind = result.steps, FunnelStep
    elif isinstance(result, list) and all(isinstance(r, BrokerStanding) for r in result):
        rows, kind = result, BrokerStanding
    else:
        raise TypeError(f"no table form for {type(result).__name__}")
    return [f.name for f in fields(kind)], [[_cell(value) for value in astuple(row)] for row in rows]


def to_csv(result) -> str:
    """Any analytics result as CSV text: a header row of column names, then one row per line."""
    header, rows = tabulate(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)
