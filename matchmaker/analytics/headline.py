"""The storefront's three headline figures for a year: contracts, turnover (成交额) and local conversion (本地转化率),
from the same services as the analysts' dashboard, so the public and the department see one number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from matchmaker.analytics.local_conversion import local_conversion
from matchmaker.analytics.turnover import turnover


@dataclass(frozen=True)
class Headline:
    year: int
    contracts: int
    amount: Decimal
    local_rate: float | None   # by count, same province; None without contracts


def headline(session: Session, *, today: dt.date | None = None) -> Headline:
    today = today or dt.date.today()
    start = dt.date(today.year, 1, 1)
    report = turnover(session, by=("period",), period="year", date_from=start, date_to=today)
    conversion = local_conversion(session, level="province", date_from=start, date_to=today)
    return Headline(today.year, sum(r.contracts for r in report.rows), sum((r.amount for r in report.rows), Decimal(0)),
                    conversion.overall.rate_by_count)
