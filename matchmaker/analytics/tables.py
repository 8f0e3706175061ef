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


def to_csv(result) -> str:
    """Any analytics result as CSV text: a header row of column names, then one row per line."""
    header, rows = tabulate(result)
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)
