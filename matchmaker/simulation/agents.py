"""The simulated market's records: broker agents, deals in progress, a month's figures, and its clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
    stage: str = v.PipelineStage.CLAIMED.value
    idle_months: int = 0


@dataclass
class MonthFigures:
    month: str
    claimed: int = 0
    contacted: int = 0
    negotiating: int = 0
    signed: int = 0
    declined: int = 0
    lapsed: int = 0
    turnover_yuan: float = 0.0
    local_signed: int = 0  # seller and buyer in the same province
    home_seller_signed: int = 0  # seller in the world's home province
    home_local_signed: int = 0


def on_day(day: dt.date, day_of_month: int) -> dt.datetime:
    """10:00 UTC on that day of the month (the 28th at most, which every month has)."""
    return dt.datetime.combine(day.replace(day=min(day_of_month, 28)), dt.time(10), dt.UTC)
