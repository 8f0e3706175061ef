"""Any analytics report as a table of text cells: for CSV downloads and the CLI's tables."""

from __future__ import annotations

import io
from dataclasses import astuple, fields
from decimal import Decimal

from matchmaker.analytics.funnel import Funnel, FunnelStep
from matchmaker.analytics.league import BrokerStanding
from matchmaker.analytics.local_conversion import LocalConversionReport, LocalConversionRow
from matchmaker.analytics.turnover import TurnoverReport, TurnoverRow
from matchmaker.csv_safety import SafeWriter


def tabulate(result) -> tuple[list[str], list[list[str]]]:
    """Column names and rows of text cells of any analytics result (for CSV and the CLI's tables)."""
    if isinstance(result, TurnoverReport):
        rows, kind = result.rows, TurnoverRow
    elif isinstance(result, LocalConversionReport):
        rows, kind = [*result.rows, result.overall], LocalConversionRow
    elif isinstance(result, Funnel):
        # The whole path too, which the JSON has beside the steps: matches that ended signed, claim → signed days.
        signed = result.steps[-1].count if result.steps else 0
        rows, kind = [*result.steps, FunnelStep("match_to_signed", signed, result.match_to_signed,
                                                result.median_days_claim_to_signed, 0, 0)], FunnelStep
    elif isinstance(result, list) and all(isinstance(r, BrokerStanding) for r in result):
        rows, kind = result, BrokerStanding
    else:
        raise TypeError(f"no table form for {type(result).__name__}")
    return [f.name for f in fields(kind)], [[_cell(value) for value in astuple(row)] for row in rows]


# Column headers people read: the Chinese, and the field name a program keys on — "成交额（amount）".
HEADER_WORDS = {
    "period": "期间", "region_code": "地区代码", "region_name": "地区", "field_code": "技术领域代码", "field_name": "技术领域",
    "contract_type": "合同类型", "contracts": "合同数", "amount": "成交额（元）", "certified_amount": "技术交易额（元）",
    "local_contracts": "本地转化合同数", "rate_by_count": "本地转化率（按项）", "local_amount": "本地转化成交额（元）",
    "rate_by_amount": "本地转化率（按金额）", "stage": "环节", "count": "数量", "conversion_from_previous": "较上一环节转化率",
    "median_days_from_previous": "较上一环节天数中位数", "declined_here": "在此环节谢绝", "lapsed_here": "在此环节失效",
    "rank": "名次", "broker_id": "经纪人编号", "name": "姓名", "level": "等级", "agency": "所属机构", "claimed": "认领",
    "open": "进行中", "signed": "签约", "declined": "谢绝", "lapsed": "失效", "signed_amount": "签约金额（元）",
    "win_rate": "成交率", "lapsed_share": "失效占比", "declined_after_negotiating_share": "洽谈后谢绝占比",
    "median_days_to_sign": "签约天数中位数", "credit_score": "信用积分",
}


def header_cell(name: str) -> str:
    words = HEADER_WORDS.get(name)
    return f"{words}（{name}）" if words else name


def to_csv(result) -> str:
    """Any analytics result as CSV text for Excel: a BOM, a header row ("成交额（元）（amount）"), one row per line."""
    header, rows = tabulate(result)
    out = io.StringIO()
    out.write("\ufeff")
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow([header_cell(name) for name in header])
    writer.writerows(rows)
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)
