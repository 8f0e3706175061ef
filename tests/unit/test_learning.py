"""Learning from the impression log: recovers a constraint that decides interest, refuses thin data, one verdict
per person and pair, IPS estimates that track the truth, team-draft interleaving, and the weights file."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from matchmaker.matching.counterfactual import (
    LoggedItem, LoggedSlate, interest_rate, interleaving_report, rescore,
)
from matchmaker.matching.impressions import explore, pool_propensity, team_draft
from matchmaker.matching.learning import (
    NotEnoughFeedback, examples_from_log, fit_weights, load_weights, save_weights,
)
from matchmaker.matching.ranking import Explanation, Factor, Match, Relevance
from matchmaker.matching.scoring import ScoreWeights

NO_VIOLATIONS = {"field": 0.0, "trl": 0.0, "price": 0.0, "mode": 0.0, "locality": None}


def _features(rng, trl_gap: float) -> dict:
    return {"text_z": float(rng.uniform(0, 15)), "semantic_z": None, "relevance": 0.0,
            "violations": {**NO_VIOLATIONS, "trl": trl_gap, "price": float(rng.choice([0.0, 0.7]))}}


def _log(n_demands: int = 40, per_demand: int = 10, seed: int = 0) -> list[LoggedSlate]:
    """Interest driven by relevance and by the TRL gap, not by price."""
    rng = np.random.default_rng(seed)
    slates = []
    for d in range(n_demands):
        slate = LoggedSlate(f"s{d}", user_id=1, ranker="test")
        for r in range(per_demand):
            f = _features(rng, float(rng.choice([0, 0, 1, 2, 3])))
            logit = 0.4 * f["text_z"] - 1.2 * f["violations"]["trl"] - 2
            interest = bool(rng.random() < 1 / (1 + math.exp(-logit)))
            slate.items.append(LoggedItem(d, r, r + 1, r + 1, 1.0, None, f, interest))
        slates.append(slate)
    return slates


def test_a_constraint_that_decides_interest_gets_the_strength_and_the_others_little():
    slates = _log()
    learned = fit_weights(examples_from_log(slates), slates, ScoreWeights(trl=0.0, price=0.5))
    w = learned.weights
    assert w.trl > 0.5 and w.price < w.trl / 3
    assert learned.better and learned.cv_pair_accuracy > learned.cv_pair_accuracy_current
    assert learned.cv_snips >= learned.cv_snips_current


def test_too_few_verdicts_are_refused_with_the_counts():
    slates = _log(n_demands=3)
    with pytest.raises(NotEnoughFeedback, match="have"):
        fit_weights(examples_from_log(slates), slates)


def test_one_verdict_per_person_and_pair_the_latest_wins():
    f = {"text_z": 5.0, "semantic_z": None, "violations": NO_VIOLATIONS}
    older = LoggedSlate("s1", 7, "r", [LoggedItem(1, 2, 1, 1, 1.0, None, f, True)])
    newer = LoggedSlate("s2", 7, "r", [LoggedItem(1, 2, 1, 1, 1.0, None, f, False)])
    other = LoggedSlate("s3", 8, "r", [LoggedItem(1, 2, 1, 1, 1.0, None, f, True)])
    examples = examples_from_log([older, newer, other])
    assert sorted((e.slate, e.relevant) for e in examples) == [("s2", False), ("s3", True)]


def test_weights_file_round_trip(tmp_path):
    assert load_weights(tmp_path)[0] == ScoreWeights()  # none learned yet: the shipped ones
    slates = _log()
    learned = fit_weights(examples_from_log(slates), slates)
    save_weights(tmp_path, learned)
    weights, provenance = load_weights(tmp_path)
    assert weights == learned.weights and provenance["learned_from_feedback"]["examples"] == 400
    (tmp_path / "weights.json").write_text('{"weights": {"text": 1.0, "trl": 0.2}}', encoding="utf-8")
    assert load_weights(tmp_path)[0] == ScoreWeights()   # a file of the additive score before round 4 is ignored


def _match(doc_id: str, score: float) -> Match:
    relevance = Relevance("tfidf", score, 0.0, None, None, 0.0, 0.0, score)
    return Match(doc_id, score, Explanation(relevance, (), (Factor("trl", None, 1.0),)))


def test_exploration_shows_a_lower_candidate_with_logged_propensities():
    pool = [_match(str(i), 1 - i / 100) for i in range(20)]
    rng = random.Random(1)
    slates = [explore(pool, 10, 0.5, rng) for _ in range(400)]
    swapped = [s for s in slates if s.shown[-1].id != "9"]
    assert 150 < len(swapped) < 250
    assert all(s.propensities[-1] == pytest.approx(0.05) for s in swapped)
    assert all(s.shown[:9] == pool[:9] for s in slates)
    assert pool_propensity(10, 10, 20, 0.5) == 0.5 and pool_propensity(15, 10, 20, 0.5) == pytest.approx(0.05)
    assert explore(pool, 10, 0.0, rng).shown == pool[:10]


def test_ips_estimate_tracks_the_true_interest_rate_of_another_ranker():
    """Simulated people: interest depends on a hidden quality; the logging ranker explores; the estimate of a
    ranker that orders by quality must land near its true rate, far from the logging ranker's."""
    rng = np.random.default_rng(3)
    py_rng = random.Random(3)
    slates = []
    for d in range(3000):
        quality = rng.uniform(0, 1, size=20)
        # the logging ranker orders by pool position, which knows nothing of quality
        features = [{"text_z": float(-n), "semantic_z": None, "violations": {**NO_VIOLATIONS, "trl": float(q < 0.5)}}
                    for n, q in enumerate(quality)]
        pool = [_match(str(i), 1 - i / 100) for i in range(20)]
        slate = explore(pool, 5, 0.8, py_rng)
        logged = LoggedSlate(f"s{d}", 1, "logger")
        shown = {m.id: p for m, p in zip(slate.shown, slate.propensities)}
        for i in range(20):
            clicked = bool(rng.random() < quality[i]) if str(i) in shown else None
            logged.items.append(LoggedItem(d, i, i + 1, (list(shown).index(str(i)) + 1) if str(i) in shown else None,
                                           shown.get(str(i), pool_propensity(i + 1, 5, 20, 0.8)), None,
                                           features[i], clicked))
        slates.append(logged)
    logger = ScoreWeights(trl=0.0)
    oracle = ScoreWeights(trl=50.0)   # pushes the low-quality half (trl violation) below the rest
    est_logger, est_oracle = interest_rate(slates, logger, k=1), interest_rate(slates, oracle, k=1)
    # logger's top 1 is item 0: quality uniform → 0.5; oracle's top 1 is the best-ranked item with quality ≥ 0.5 → 0.75
    assert est_logger.snips == pytest.approx(0.5, abs=0.05)
    assert est_oracle.snips == pytest.approx(0.75, abs=0.08)
    assert rescore(slates[0].items[0].features, oracle) <= 1


def test_team_draft_interleaving_and_its_report():
    a = [_match(x, 1.0) for x in "abcdef"]
    b = [_match(x, 1.0) for x in "fedcba"]
    slate = team_draft(a, b, 4, random.Random(0))
    assert len({m.id for m in slate.shown}) == 4 and sorted(slate.teams) == ["A", "A", "B", "B"]
    slates = []
    for n in range(60):   # people like what B puts forward
        items = [LoggedItem(n, i, i + 1, i + 1, 1.0, team, {}, team == "B" and i < 3)
                 for i, team in enumerate("ABAB")]
        slates.append(LoggedSlate(f"s{n}", 1, "r", items))
    report = interleaving_report(slates)
    assert report.wins_b == 60 and report.wins_a == 0 and report.p_value < 1e-6 and report.preference == 1.0
