"""Filters, periods, regions and number formats shared by the analytics reports."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import InvalidInput
from matchmaker.models import Achievement, Contract, Pipeline, PipelineEvent, Region, TechnologyField
from matchmaker.regions import Level, RegionCode, unknown_region

Stage = v.PipelineStage
UNCLASSIFIED = "unclassified"  # the field of a contract with no source achievement, or one without a field
CENT = Decimal("0.01")
LEVELS = ("province", "city")
PREFIX_LENGTH = {"province": 2, "city": 4}  # GB/T 2260: 2 digits name the province, 4 the city
# The reports' parameters and their choices as people read them (a refusal lists the choices in these words).
PARAMETER_NAMES = {"level": "地区层级", "region_level": "地区层级", "by": "分组方式", "period": "统计周期",
                   "side": "统计的一方"}
CHOICE_NAMES = {"province": "省级", "city": "市级", "period": "按期间", "region": "按地区", "field": "按技术领域",
                "type": "按合同类型", "month": "月", "quarter": "季度", "year": "年", "seller": "卖方（技术输出方）",
                "buyer": "买方（技术吸纳方）"}


# --- parameters ----------------------------------------------------------------------------------------------

def level_of(code: str, parameter: str = "region") -> str:
    """'province' for 210000, 'city' for 210200; analytics do not aggregate below the city."""
    try:
        level = RegionCode(code).level
    except ValueError:
        raise InvalidInput.on(parameter, unknown_region(code)) from None
    if level is Level.COUNTY:
        raise InvalidInput.on(parameter, f"{code} 是区县代码，统计只分到省、市两级；"
                                         "请改填省级代码（例如 210000）或市级代码（例如 210200）")
    return level.value


def region_prefix(code: str) -> str:
    level_of(code)
    return RegionCode(code).prefix


def choice(value: str, allowed: Sequence[str], parameter: str) -> str:
    if value not in allowed:
        what = PARAMETER_NAMES.get(parameter, "选项")
        names = "、".join(CHOICE_NAMES.get(option, option) for option in allowed)
        raise InvalidInput.on(parameter, f"“{value}”不是可选的{what}；请从以下选择：{names}")
    return value


def check_dates(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise InvalidInput.on("date_from", f"开始日期 {date_from} 晚于结束日期 {date_to}；请调换或修改日期")


def check_field(session: Session, field: str | None) -> None:
    if field is None or field == UNCLASSIFIED:
        return
    if session.get(TechnologyField, field) is None:
        raise InvalidInput.on("field", f"没有这个技术领域：{field}；请从列表中选择技术领域")


# --- SQL pieces ----------------------------------------------------------------------------------------------

def prefix(column, level: str):
    """The leading digits of a region code naming its province or city.

    The lengths are rendered as SQL literals, not bound parameters: PostgreSQL accepts a grouped expression in
    the select list only when it is textually the one in GROUP BY, and each bind would get its own name.
    """
    return func.substr(column, literal_column("1"), literal_column(str(PREFIX_LENGTH[level])))


def achievement_ids(field: str) -> Select:
    """Ids of the achievements of a field; "unclassified" is handled by the callers (no field at all)."""
    return select(Achievement.id).where(Achievement.field_code == field)


def window(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) instants in UTC covering the whole of both dates."""
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC) if date_from else None
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC) if date_to else None
    return start, end


def contract_field():
    """A contract's technology field: its own (the registration form's), else its source achievement's."""
    return func.coalesce(Contract.field_code, Achievement.field_code)


def contract_date(registered: bool):
    """Which date places a contract in a period: registration for the registry's figures, else signing."""
    return Contract.registered_on if registered else Contract.signed_on


def contract_filters(query: Select, date_from, date_to, field: str | None, *, registered: bool = False) -> Select:
    """Contracts in the window (of signing; of registration, and registered only, when `registered`) and field."""
    day = contract_date(registered)
    if registered:
        query = query.where(Contract.registration_number.is_not(None))
    if date_from is not None:
        query = query.where(day >= date_from)
    if date_to is not None:
        query = query.where(day <= date_to)
    if field == UNCLASSIFIED:
        query = query.where(contract_field().is_(None))
    elif field is not None:
        query = query.where(contract_field() == field)
    return query


# --- which pipelines are in scope, and when each reached each stage (funnel and league) ----------------------

def pair_in_region(region: str | None, demand_id, achievement_id):
    """A (demand, achievement) pair with either side inside the region (a market's pairs); None = anywhere."""
    if region is None:
        return None
    inside = RegionCode(region)
    from matchmaker.models import Demand

    return demand_id.in_(select(Demand.id).where(inside.condition(Demand.region_code))) | \
        achievement_id.in_(select(Achievement.id).where(inside.condition(Achievement.region_code)))


def pipeline_scope(date_from, date_to, broker_id: int | None, field: str | None, region: str | None = None) -> Select:
    """Ids of the pipelines claimed in the window (a cohort), by the broker, on achievements of the field, on pairs
    with a side in the region (an analyst's market)."""
    start, end = window(date_from, date_to)
    query = select(Pipeline.id)
    in_region = pair_in_region(region, Pipeline.demand_id, Pipeline.achievement_id)
    if in_region is not None:
        query = query.where(in_region)
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
        query = query.where(Pipeline.achievement_id.in_(achievement_ids(field)))
    return query


def stage_times(session: Session, scope: Select, stages: Sequence[str],
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


# --- numbers and names ---------------------------------------------------------------------------------------

def yuan(value) -> Decimal:
    # str() first: SQLite hands sums back as floats, and Decimal(float) would carry the binary error.
    return Decimal(str(value or 0)).quantize(CENT)


def rate(part: float | Decimal, whole: float | Decimal) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def days(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 86400


def region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    return dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def field_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(TechnologyField.code, TechnologyField.name)).all())
