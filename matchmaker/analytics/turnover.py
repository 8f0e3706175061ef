"""Turnover (成交额) and certified amount (核定技术交易额) of technology contracts, by period, region, field, type."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from matchmaker.analytics.filters import (
    LEVELS,
    UNCLASSIFIED,
    check_dates,
    check_field,
    choice,
    contract_date,
    contract_field,
    contract_filters,
    field_names,
    prefix,
    region_names,
    region_prefix,
    yuan,
)
from matchmaker.models import Achievement, Contract

DIMENSIONS = ("period", "region", "field", "type")
PERIODS = ("month", "quarter", "year")
SIDES = ("seller", "buyer")
ABROAD = "abroad"   # the region of a party outside China (it has a country, no GB/T 2260 code)


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
             date_to: dt.date | None = None, region: str | None = None, field: str | None = None,
             registered: bool = False) -> TurnoverReport:
    """Count, amount (成交额) and certified amount (核定技术交易额) of technology contracts, grouped.

    `by` is any of period (of signed_on: month | quarter | year), region (of the seller, 技术输出, or the
    buyer, 技术吸纳, per `side`; at province or city level; "abroad" for a party outside China), field (the
    contract's own, else its source achievement's; "unclassified" when neither has one) and type (contract type).
    `region` keeps contracts whose `side` party is inside it. `registered` counts registered contracts only, in
    the period of their registration, as the authorities' statistics do.
    """
    by = [choice(d, DIMENSIONS, "by") for d in dict.fromkeys(by)] or ["period"]
    choice(period, PERIODS, "period")
    choice(region_level, LEVELS, "region_level")
    choice(side, SIDES, "side")
    check_dates(date_from, date_to)
    check_field(session, field)
    party_region = Contract.seller_region_code if side == "seller" else Contract.buyer_region_code
    columns = _columns(by, party_region, region_level, registered)
    query = (select(*columns.values(), func.count().label("contracts"), func.sum(Contract.amount).label("amount"),
                    func.sum(Contract.certified_amount).label("certified"))
             .select_from(Contract).outerjoin(Achievement, Achievement.id == Contract.achievement_id)
             .group_by(*columns.values()))
    query = contract_filters(query, date_from, date_to, field, registered=registered)
    if region is not None:
        query = query.where(party_region.like(region_prefix(region) + "%"))
    groups = _fold(session.execute(query).all(), list(columns), period, region_level)
    return TurnoverReport(by, period, region_level, side, _rows(session, groups))


def _columns(by: list[str], party_region, level: str, registered: bool) -> dict[str, object]:
    columns: dict[str, object] = {}
    if "period" in by:
        # extract() compiles to strftime on SQLite and EXTRACT on PostgreSQL; quarters and years are folded in Python.
        columns["year"] = extract("year", contract_date(registered)).label("year")
        columns["month"] = extract("month", contract_date(registered)).label("month")
    if "region" in by:
        columns["region"] = prefix(party_region, level).label("region")
    if "field" in by:
        columns["field"] = contract_field().label("field")
    if "type" in by:
        columns["type"] = Contract.contract_type.label("type")
    return columns


def period_label(year, month, period: str) -> str:
    year, month = int(year), int(month)
    if period == "year":
        return f"{year}"
    if period == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def _fold(rows, names: list[str], period: str, level: str) -> dict[tuple, list]:
    """Sum the SQL groups into the requested keys (period label, region code, field, type)."""
    groups: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    zeros = "0000" if level == "province" else "00"
    for row in rows:
        values = dict(zip(names, row))
        key = (
            period_label(values["year"], values["month"], period) if "year" in values else None,
            (ABROAD if values["region"] is None else values["region"] + zeros) if "region" in values else None,
            (values["field"] or UNCLASSIFIED) if "field" in values else None,
            values.get("type"),
        )
        total = groups[key]
        total[0] += row.contracts
        total[1] += yuan(row.amount)
        total[2] += yuan(row.certified)
    return groups


def _rows(session: Session, groups: dict[tuple, list]) -> list[TurnoverRow]:
    regions = region_names(session, (key[1] for key in groups if key[1])) | {ABROAD: "境外"}
    fields = field_names(session) | {UNCLASSIFIED: "未分类"}
    rows = []
    for key in sorted(groups, key=lambda k: tuple(part or "" for part in k)):
        period, region, field, contract_type = key
        contracts, amount, certified = groups[key]
        rows.append(TurnoverRow(period, region, regions.get(region) if region else None, field,
                                fields.get(field) if field else None, contract_type, contracts, amount,
                                certified))
    return rows
