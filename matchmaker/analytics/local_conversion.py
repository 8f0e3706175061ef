"""Local conversion rate (本地转化率): contracts sold and bought inside a region ÷ contracts sold from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from matchmaker.analytics.filters import (
    LEVELS,
    check_dates,
    choice,
    contract_filters,
    level_of,
    prefix,
    rate,
    region_names,
    region_prefix,
    yuan,
)
from matchmaker.errors import InvalidInput
from matchmaker.models import Contract


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
            raise InvalidInput.on("level", f"{region} 是市级代码，不能按省级统计；"
                                         "请把地区层级改为“市级”，或改填省级代码")
    level = choice(level or "province", LEVELS, "level")
    check_dates(date_from, date_to)
    query = _query(level, date_from, date_to)
    if region is not None:   # the overall row of a region's report is that region's, not the whole platform's
        overall = session.execute(query.where(Contract.seller_region_code.like(region_prefix(region) + "%"))).one()
    else:
        overall = session.execute(query).one()
    grouped = query.add_columns(prefix(Contract.seller_region_code, level).label("region"))
    grouped = grouped.group_by(prefix(Contract.seller_region_code, level))
    if region is not None:
        grouped = grouped.where(Contract.seller_region_code.like(region_prefix(region) + "%"))
    zeros = "0000" if level == "province" else "00"
    groups = sorted(session.execute(grouped).all(), key=lambda row: row.region)
    names = region_names(session, (row.region + zeros for row in groups))
    rows = [_row(row.region + zeros, _name(names, row.region + zeros, level, session), row) for row in groups]
    return LocalConversionReport(level, rows, _row(region or "all", names.get(region) if region else None, overall))


def _name(names: dict, code: str, level: str, session: Session) -> str | None:
    """A party known only by its province (210000) is not a city: at city level it says so."""
    if level == "city" and code.endswith("0000"):
        province = names.get(code) or region_names(session, [code]).get(code) or code
        return f"{province}（未细分到市）"
    return names.get(code)


def _query(level: str, date_from, date_to) -> Select:
    local = prefix(Contract.buyer_region_code, level) == prefix(Contract.seller_region_code, level)
    query = select(func.count().label("contracts"),
                   func.coalesce(func.sum(case((local, 1), else_=0)), 0).label("local_contracts"),
                   func.sum(Contract.amount).label("amount"),
                   func.sum(case((local, Contract.amount), else_=0)).label("local_amount"))
    # Achievements sold out of a region: a seller abroad has none here.
    return contract_filters(query.select_from(Contract), date_from, date_to, None) \
        .where(Contract.seller_region_code.is_not(None))


def _row(code: str, name: str | None, row) -> LocalConversionRow:
    amount, local_amount = yuan(row.amount), yuan(row.local_amount)
    return LocalConversionRow(code, name, row.contracts, int(row.local_contracts),
                              rate(row.local_contracts, row.contracts), amount, local_amount,
                              rate(local_amount, amount))
