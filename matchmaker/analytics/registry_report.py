"""The registry's statistics as authorities ask for them: registered contracts (登记合同) by quarter and year, by
region, contract type and field, and the technology flows (技术流向) in and out of each region — 本地 (the same
province), 外省 (another province) and 境外 (outside China) — as JSON, on the dashboard and as an .xlsx workbook.

Only registered contracts count, placed in the period of their registration (登记日期), which is how the annual
statistics of technology contracts are compiled; the platform's own turnover report counts signed contracts.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import extract, func, or_, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.analytics.filters import (
    UNCLASSIFIED,
    check_dates,
    contract_field,
    contract_filters,
    field_names,
    prefix,
    region_names,
    yuan,
)
from matchmaker.analytics.turnover import TurnoverRow, period_label, turnover
from matchmaker.models import Achievement, Contract
from matchmaker.regions import RegionCode

CONTRACT_TYPES = v.CONTRACT_TYPE_NAMES
PLACES = ("local", "other_province", "abroad")
PLACE_NAMES = {"local": "本地（省内）", "other_province": "外省", "abroad": "境外"}


@dataclass
class PeriodRow:
    """A quarter or a year: registered contracts, 成交额 and 技术交易额, and 成交额 per contract type."""

    period: str
    contracts: int
    amount: Decimal
    certified_amount: Decimal
    amount_by_type: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class FieldRow:
    field_code: str
    field_name: str | None
    contracts: int
    amount: Decimal
    certified_amount: Decimal


@dataclass
class FlowCell:
    contracts: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass
class FlowRow:
    """Technology out of a region (输出: its sellers) and into it (吸纳: its buyers), by where the other party is."""

    region_code: str
    region_name: str | None
    outflow: dict[str, FlowCell]
    inflow: dict[str, FlowCell]


@dataclass
class RegistryReport:
    date_from: dt.date | None
    date_to: dt.date | None
    region: str | None
    level: str                      # of the region rows: provinces, or the cities of the region asked for
    quarterly: list[PeriodRow]
    annual: list[PeriodRow]
    by_region: list[TurnoverRow]    # by the seller's region (技术输出地)
    by_field: list[FieldRow]
    flows: list[FlowRow]
    total: PeriodRow


def registry_report(session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                    region: str | None = None) -> RegistryReport:
    """Every table of the report for registered contracts in [date_from, date_to] with a party in `region`."""
    check_dates(date_from, date_to)
    level = "province" if region is None else "city"   # a province's report lists its cities; a city's, itself
    window = {"date_from": date_from, "date_to": date_to, "region": region}
    quarterly = _periods(session, "quarter", **window)
    annual = _periods(session, "year", **window)
    by_region = turnover(session, by=["region"], region_level=level, registered=True, **window).rows
    by_field = _fields(session, **window)
    total = PeriodRow("合计", sum(r.contracts for r in annual), sum((r.amount for r in annual), Decimal("0.00")),
                      sum((r.certified_amount for r in annual), Decimal("0.00")),
                      {t: sum((r.amount_by_type.get(t, Decimal(0)) for r in annual), Decimal("0.00"))
                       for t in CONTRACT_TYPES})
    return RegistryReport(date_from, date_to, region, level, quarterly, annual, by_region, by_field,
                          flows(session, date_from=date_from, date_to=date_to, region=region), total)


def _grouped(session: Session, columns: list, *, date_from, date_to, region: str | None) -> list:
    """Registered contracts grouped by `columns` with count, 成交额 and 技术交易额; with a region, those with either
    party in it (a contract bought into the region is the region's as much as one sold from it)."""
    query = (select(*columns, func.count().label("contracts"), func.sum(Contract.amount).label("amount"),
                    func.sum(Contract.certified_amount).label("certified"))
             .select_from(Contract).outerjoin(Achievement, Achievement.id == Contract.achievement_id)
             .group_by(*columns))
    query = contract_filters(query, date_from, date_to, None, registered=True)
    if region is not None:
        inside = RegionCode(region)
        query = query.where(or_(inside.condition(Contract.seller_region_code),
                                inside.condition(Contract.buyer_region_code)))
    return session.execute(query).all()


def _periods(session: Session, period: str, **window) -> list[PeriodRow]:
    year = extract("year", Contract.registered_on).label("year")
    month = extract("month", Contract.registered_on).label("month")
    out: dict[str, PeriodRow] = {}
    for row in _grouped(session, [year, month, Contract.contract_type], **window):
        label = period_label(row.year, row.month, period)
        target = out.setdefault(label, PeriodRow(label, 0, Decimal("0.00"), Decimal("0.00"),
                                                 {t: Decimal("0.00") for t in CONTRACT_TYPES}))
        target.contracts += row.contracts
        target.amount += yuan(row.amount)
        target.certified_amount += yuan(row.certified)
        target.amount_by_type[row.contract_type] += yuan(row.amount)
    return [out[key] for key in sorted(out)]


def _fields(session: Session, **window) -> list[FieldRow]:
    names = field_names(session) | {UNCLASSIFIED: "未分类"}
    rows = [FieldRow(row.field or UNCLASSIFIED, names.get(row.field or UNCLASSIFIED), row.contracts, yuan(row.amount),
                     yuan(row.certified)) for row in _grouped(session, [contract_field().label("field")], **window)]
    return sorted(rows, key=lambda r: (-r.amount, r.field_code))


def flows(session: Session, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
          region: str | None = None) -> list[FlowRow]:
    """One row per province (or per city of `region`): contracts and 成交额 out of it and into it, split by where
    the other party is — 本地 (same province), 外省, 境外."""
    level = "city" if region is not None else "province"
    seller, buyer = prefix(Contract.seller_region_code, "city"), prefix(Contract.buyer_region_code, "city")
    query = (select(seller.label("seller"), buyer.label("buyer"), func.count().label("contracts"),
                    func.sum(Contract.amount).label("amount"))
             .select_from(Contract).group_by(seller, buyer))
    query = contract_filters(query, date_from, date_to, None, registered=True)
    cut = 2 if level == "province" else 4
    inside = RegionCode(region).prefix if region else ""
    table: dict[str, FlowRow] = {}
    for row in session.execute(query):
        for direction, here, there in (("outflow", row.seller, row.buyer), ("inflow", row.buyer, row.seller)):
            if here is None or not here.startswith(inside):
                continue
            unit = here[:cut]
            place = "abroad" if there is None else "local" if there[:2] == here[:2] else "other_province"
            flow = table.setdefault(unit, FlowRow(unit, None, {p: FlowCell() for p in PLACES},
                                                  {p: FlowCell() for p in PLACES}))
            cell = getattr(flow, direction)[place]
            cell.contracts += row.contracts
            cell.amount += yuan(row.amount)
    zeros = "0000" if level == "province" else "00"
    names = region_names(session, (unit + zeros for unit in table))
    rows = []
    for unit in sorted(table):
        flow = table[unit]
        flow.region_code = unit + zeros
        flow.region_name = names.get(flow.region_code)
        rows.append(flow)
    return rows


# ---------------------------------------------------------------- the workbook


def report_title(report: RegistryReport, region_name: str | None = None) -> str:
    where = region_name or (report.region or "全国")
    start = report.date_from.isoformat() if report.date_from else "最早"
    end = report.date_to.isoformat() if report.date_to else "最近"
    return f"技术合同认定登记统计 · {where} · 登记日期 {start} 至 {end}"


def workbook(report: RegistryReport, *, title: str) -> bytes:
    """The report as an .xlsx: 季度统计, 年度统计, 按地区, 按技术领域, 技术流向 (money as numbers, two decimals)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    types = list(CONTRACT_TYPES)

    def sheet(name: str, header: list[str], rows: list[list]) -> None:
        ws = book.create_sheet(name)
        ws.append([title])
        ws["A1"].font = Font(bold=True)
        ws.append(header)
        for row in rows:
            ws.append([float(cell) if isinstance(cell, Decimal) else cell for cell in row])
        for column in ws.iter_cols(min_row=3):
            for cell in column:
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
        ws.freeze_panes = "B3"

    period_header = ["期间", "登记合同数", "成交额（元）", "技术交易额（元）"] + [f"{CONTRACT_TYPES[t]}成交额（元）" for t in types]

    def period_rows(rows: list[PeriodRow]) -> list[list]:
        return [[r.period, r.contracts, r.amount, r.certified_amount] + [r.amount_by_type.get(t) for t in types]
                for r in rows + [report.total]]

    sheet("季度统计", period_header, period_rows(report.quarterly))
    sheet("年度统计", period_header, period_rows(report.annual))
    sheet("按地区（技术输出）", ["地区", "登记合同数", "成交额（元）", "技术交易额（元）"],
          [[r.region_name or r.region_code, r.contracts, r.amount, r.certified_amount] for r in report.by_region])
    sheet("按技术领域", ["技术领域", "登记合同数", "成交额（元）", "技术交易额（元）"],
          [[r.field_name or r.field_code, r.contracts, r.amount, r.certified_amount] for r in report.by_field])
    flow_header = ["地区"] + [f"{word}·{PLACE_NAMES[p]}{what}" for word in ("输出", "吸纳") for p in PLACES
                              for what in ("合同数", "成交额（元）")]
    sheet("技术流向", flow_header, [[f.region_name or f.region_code] + [
        value for direction in (f.outflow, f.inflow) for p in PLACES
        for value in (direction[p].contracts, direction[p].amount)] for f in report.flows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
