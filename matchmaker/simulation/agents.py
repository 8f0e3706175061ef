"""The simulated market's records: broker agents, deals in progress, a month's figures, and its clock."""

from __future__ import annotations

import datetime as dt
import random
from calendar import monthrange
from dataclasses import dataclass, field
from decimal import Decimal

from matchmaker import vocabulary as v
from matchmaker.identity.services import Actor


@dataclass
class BrokerAgent:
    broker_id: int
    actor: Actor
    agency_id: int
    level: str
    province: str


@dataclass
class Deal:
    pipeline_id: int
    demand_id: int
    achievement_id: int
    broker: BrokerAgent
    last_at: dt.datetime   # its latest event: the next one falls after it
    rng: random.Random = field(repr=False)   # the deal's own dice (common random numbers across scenarios)
    stage: str = v.PipelineStage.CLAIMED.value
    idle_months: int = 0
    notice_ends_on: dt.date | None = None   # 协议定价公示 published at negotiation: no signing before it ends

    def next_at(self, month: dt.date, earliest: dt.date | None = None) -> dt.datetime | None:
        """A working moment later this month, after the deal's last event (and `earliest`); None if none is left."""
        start = max(self.last_at.date() + dt.timedelta(days=1), month, earliest or month)
        last = month.replace(day=monthrange(month.year, month.month)[1])
        if start > last:
            return None
        day = start + dt.timedelta(days=self.rng.randint(0, (last - start).days))
        return dt.datetime.combine(day, dt.time(self.rng.randint(9, 17)), dt.UTC)


@dataclass
class MonthFigures:
    month: str
    claimed: int = 0
    contacted: int = 0
    negotiating: int = 0
    signed: int = 0
    declined: int = 0
    lapsed: int = 0
    turnover_yuan: Decimal = Decimal(0)
    local_signed: int = 0  # seller and buyer in the same province
    home_seller_signed: int = 0  # seller in the world's home province
    home_local_signed: int = 0


def on_day(day: dt.date, day_of_month: int) -> dt.datetime:
    """10:00 UTC on that day of the month (the 28th at most, which every month has)."""
    return dt.datetime.combine(day.replace(day=min(day_of_month, 28)), dt.time(10), dt.UTC)


def money(amount: Decimal) -> str:
    """Yuan as an exact decimal string, for the run's JSON and CSVs (never a float)."""
    return f"{Decimal(amount).quantize(Decimal('0.01')):f}"
