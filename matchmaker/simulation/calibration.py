"""Fits the baseline's cross-province odds so the home province's sellers sell 42% of their contracts in the province
(seed 001's figure for Dalian, a city, read at province level: docs/simulation.md, "Calibration")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from matchmaker.config import Settings
from matchmaker.simulation.runs import run_scenario
from matchmaker.simulation.scenarios import Overrides, load_scenario

TARGET = 0.42  # 大连 科技成果本地转化率 (seed 001_02aad95084d5a757.txt)
TOLERANCE = 0.03


@dataclass
class CalibrationStep:
    other_province_odds: float
    local_conversion_rate: float
    contracts: int


def calibrate(settings: Settings, *, scale: str = "province", months: int = 12, seeds: tuple[int, ...] = (1, 2),
              low: float = 0.5, high: float = 8.0, steps: int = 6, report=print) -> list[CalibrationStep]:
    """Bisection on log(other_province_odds): the rate falls as cross-province deals become likelier to advance.

    (Fitting the brokers' pull towards outside demands instead saturates over a year: the outside demands run
    out of unclaimed matches, so the odds of a deal, not the choice of demand, are the parameter that holds.)
    """
    history = []
    for _ in range(steps):
        middle = math.sqrt(low * high)
        rate, contracts = _rate(settings, middle, scale, months, seeds)
        history.append(CalibrationStep(round(middle, 3), rate, contracts))
        report(history[-1])
        if abs(rate - TARGET) <= TOLERANCE / 3:
            break
        if rate > TARGET:
            low = middle  # too local: cross-province deals must become likelier
        else:
            high = middle
    return history


def _rate(settings: Settings, odds: float, scale: str, months: int, seeds: tuple[int, ...]) -> tuple[float, int]:
    scenario = Overrides({"negotiation": {"other_province_odds": odds}}).apply(load_scenario("baseline"))
    local = total = 0
    for seed in seeds:
        run = run_scenario(settings, scenario, seed=seed, months=months, scale=scale, world_seed=1, keep_database=False)
        # Pool the contracts of the seeds: a ratio of sums, not a mean of ratios of small counts.
        home_contracts = sum(m["home_seller_signed"] for m in run.monthly)
        local += sum(m["home_local_signed"] for m in run.monthly)
        total += home_contracts
    return (local / total if total else float("nan")), total
