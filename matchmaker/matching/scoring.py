"""How a pair is scored: text relevance decides, the demand's stated constraints only demote what breaks them.

匹配度 = relevance × Π_f exp(−strength_f · violation_f)

- relevance ∈ (0, 1) is the calibrated chance that experts would judge the pair at least 较强相关 (level ≥ 3 on
  the ccf2019 scale), from how far the pair's text similarity stands above the library's typical record
  (see `Calibration`).
- violation_f ≥ 0 measures how far a stated constraint is broken (levels of TRL missing, log of the price over
  the budget, no shared cooperation mode, another field). It is 0 when the constraint is met **or unknown**:
  a posting that does not state its price or TRL (面议 is common) is never ranked as if it broke the constraint.
- Every multiplier is ≤ 1, so meeting a constraint never lifts a candidate above a more relevant one, and
  匹配度 never exceeds 1. Locality (本地转化) is shown to people but does not move the order.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from matchmaker.regions import same_city, same_province

# Constraint factors in the order explanations list them; locality is informative only.
FACTORS = ("field", "trl", "price", "mode", "locality")
CONSTRAINTS = ("field", "trl", "price", "mode")


@dataclass(frozen=True)
class ScoreWeights:
    """The knobs of the score: how strongly each broken constraint demotes, and the semantic share of relevance.

    Defaults (docs/matching.md): one TRL level short → ×0.75, a price twice the budget → ×0.71, no shared
    cooperation mode → ×0.70, another technology field → ×0.90 (a field is a poster's label; text decides).
    `semantic` is the weight of the sentence-embedding similarity in the fused relevance, chosen on ccf2019-dev by
    nested CV (benchmarks/experiments/README.md); it only applies when the semantic extra is installed.
    `learn-weights` refits the four strengths on people's logged verdicts.
    """

    field: float = 0.105   # exp(−0.105) = 0.90
    trl: float = 0.288     # exp(−0.288) = 0.75 per missing level
    price: float = 0.5     # × (budget / price) ** 0.5
    mode: float = 0.357    # exp(−0.357) = 0.70
    semantic: float = 0.7

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
                raise ValueError(f"weight {name!r} must be a non-negative number, got {value!r}")
        if self.semantic > 1:
            raise ValueError(f"weight 'semantic' must be at most 1, got {self.semantic!r}")

    def of(self, factor: str) -> float:
        return getattr(self, factor)


@dataclass(frozen=True)
class Calibration:
    """relevance = 1 / (1 + exp(−(slope · z + cosine · text_similarity + intercept))).

    z is the pair's similarity standing above the library: its distance from the mean of the library's similarities
    to this query, in their standard deviations, so it reads the same for long and short postings. The TF-IDF
    cosine adds what z cannot say, how much text the two actually share (a near-copy is 高度匹配 whatever the
    library). The three numbers were fitted by logistic regression on ccf2019-dev (the top 50 of every demand,
    target level ≥ 3), once per ranker (benchmarks/calibration/relevance.py); within one query the order they give
    is the order of z for TF-IDF alone, and nearly so when fused.
    """

    slope: float
    cosine: float
    intercept: float

    def relevance(self, z: float, text_similarity: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.slope * z + self.cosine * text_similarity + self.intercept)))


# Fitted by benchmarks/calibration/relevance.py on ccf2019-dev; see its README for the fit and its reliability.
CALIBRATIONS = {
    "tfidf": Calibration(slope=0.2036, cosine=2.432, intercept=-4.508),
    "tfidf+semantic": Calibration(slope=0.6271, cosine=0.2301, intercept=-5.141),
}

# 匹配度 tiers people see. At or above STRONG a match is shown as 高度匹配; a list without one says
# 暂无高度匹配的… instead of presenting filler as an answer.
STRONG = 0.30
POSSIBLE = 0.10


def tier(score: float) -> str:
    """高度匹配 / 可能相关 / 相关性弱, by the stated thresholds."""
    if score >= STRONG:
        return "strong"
    if score >= POSSIBLE:
        return "possible"
    return "weak"


# What the shipped matcher was tuned on, written into every saved matcher state (state.json).
PROVENANCE = {
    "text_params": "chosen on ccf2019-dev among fixed settings (benchmarks/experiments/); nothing fitted on its labels",
    "calibration": "relevance calibrated on ccf2019-dev (benchmarks/calibration/relevance.py)",
    "weights": "constraint strengths are documented priors (docs/matching.md); the semantic weight was chosen on "
               "ccf2019-dev by nested 5-fold CV over demands",
    "learned_from_feedback": False,
}


# ---------------------------------------------------------------- violations (0 = met or unknown)


def field_violation(achievement_field: str | None, demand_field: str | None) -> float | None:
    """1 when both name a field and they differ; None when either is unknown."""
    if not achievement_field or not demand_field:
        return None
    return 0.0 if achievement_field == demand_field else 1.0


def trl_violation(trl: int | None, min_trl: int | None) -> float | None:
    """Levels missing below the demand's minimum TRL."""
    if trl is None or min_trl is None:
        return None
    return float(max(0, min_trl - trl))


def price_violation(asking_price: float | None, budget_max: float | None) -> float | None:
    """ln(price / budget_max) when the price is above the budget, else 0; None when either is not stated."""
    if asking_price is None or budget_max is None:
        return None
    price, top = float(asking_price), float(budget_max)
    if price <= top:
        return 0.0
    if top <= 0:
        return math.log(1e6)   # any price against a zero budget: as bad as it gets, but still finite
    return math.log(price / top)


def mode_violation(transfer_modes, cooperation_modes) -> float | None:
    """1 when the achievement is offered in no way the firm accepts; None when either side left modes empty."""
    if not transfer_modes or not cooperation_modes:
        return None
    return 0.0 if set(map(str, transfer_modes)) & set(map(str, cooperation_modes)) else 1.0


def locality(achievement_region: str | None, demand_region: str | None) -> float | None:
    """Local conversion: 1 same city, 0.5 same province, 0 elsewhere, None unknown (shown, never scored)."""
    if not achievement_region or not demand_region:
        return None
    if same_city(achievement_region, demand_region):
        return 1.0
    if same_province(achievement_region, demand_region):
        return 0.5
    return 0.0


def violations(achievement, demand) -> dict[str, float | None]:
    """Every factor of an (AchievementDoc, DemandDoc) pair, in FACTORS order; None = unknown."""
    return {
        "field": field_violation(achievement.field_code, demand.field_code),
        "trl": trl_violation(achievement.trl, demand.min_trl),
        "price": price_violation(achievement.asking_price, demand.budget_max),
        "mode": mode_violation(achievement.transfer_modes, demand.cooperation_modes),
        "locality": locality(achievement.region_code, demand.region_code),
    }


def multiplier(factor: str, violation: float | None, weights: ScoreWeights) -> float:
    """exp(−strength · violation) for a constraint; 1 for locality and for anything unknown."""
    if factor not in CONSTRAINTS or violation is None:
        return 1.0
    return math.exp(-weights.of(factor) * violation)
