"""Learning weights from verdicts: recovers a factor that decides relevance, refuses thin data, round-trips its file."""

from __future__ import annotations

import numpy as np
import pytest

from matchmaker.matching.learning import (
    Example,
    NotEnoughFeedback,
    example,
    fit_weights,
    load_weights,
    save_weights,
)
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.scoring import ScoreWeights


def _verdicts(n_demands: int = 40, per_demand: int = 10, seed: int = 0) -> list[Example]:
    """Relevance driven by text and by TRL fit, not by price, field or mode."""
    rng = np.random.default_rng(seed)
    found = []
    for d in range(n_demands):
        for _ in range(per_demand):
            factors = {f: float(rng.choice([-1.0, 0.0, 1.0])) for f in ("field", "trl", "price", "mode", "locality")}
            text = float(rng.uniform(0, 0.6))
            logit = 8 * text + 1.5 * factors["trl"] - 3
            found.append(Example(d, text, factors, bool(rng.random() < 1 / (1 + np.exp(-logit)))))
    return found


def test_a_factor_that_decides_relevance_gets_the_weight_and_the_others_little():
    learned = fit_weights(_verdicts(), ScoreWeights())
    w = learned.weights
    assert w.text == 1.0 and w.trl > 0.1
    assert max(w.price, w.mode, w.field) < w.trl / 3
    assert w.locality == ScoreWeights().locality  # a policy weight, never learned
    assert learned.better and learned.cv_pair_accuracy > learned.cv_pair_accuracy_current


def test_too_few_verdicts_are_refused_with_the_counts():
    with pytest.raises(NotEnoughFeedback, match="have"):
        fit_weights(_verdicts(n_demands=3), ScoreWeights())


def test_weights_file_round_trip(tmp_path):
    assert load_weights(tmp_path)[0] == ScoreWeights()  # none learned yet: the shipped ones
    learned = fit_weights(_verdicts(), ScoreWeights())
    save_weights(tmp_path, learned)
    weights, provenance = load_weights(tmp_path)
    assert weights == learned.weights and provenance["learned_from_feedback"]["examples"] == 400


def test_an_example_scores_a_pair_as_the_ranking_does():
    achievements = [AchievementDoc("a1", "钠离子电池正极材料", "层状氧化物", trl=7), AchievementDoc("a2", "高熵合金", "熔炼")]
    demand = DemandDoc("d1", "钠离子电池", "正极材料循环寿命", min_trl=5)
    matcher = Matcher().fit(achievements, [])
    ranked = matcher.rank_achievements(demand, 1)[0]
    made = example(matcher, demand, achievements[0], True)
    assert made.text == pytest.approx(ranked.explanation.text_score, abs=1e-6) and made.factors["trl"] == 1.0
