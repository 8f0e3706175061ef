"""Learns the structured factor weights from people's verdicts on matches (feedback), checked by CV over demands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.records import achievement_doc, demand_doc, open_docs
from matchmaker.matching.scoring import FACTORS, PROVENANCE, ScoreWeights, structured_factors
from matchmaker.models import Achievement, Demand, Feedback

# Locality is a policy preference (本地转化), not relevance, so it is never learned from verdicts.
LEARNED = tuple(f for f in FACTORS if f != "locality")
MIN_PER_CLASS = 20  # fewer verdicts of either kind than this and the fit is noise
MIN_DEMANDS = 10  # the CV needs demands to hold out
WEIGHTS_FILE = "weights.json"


@dataclasses.dataclass(frozen=True)
class Example:
    """One verdict on a (demand, achievement) pair and the pair's score parts."""

    demand_id: object
    text: float
    factors: dict[str, float]
    relevant: bool


@dataclasses.dataclass(frozen=True)
class LearnedWeights:
    weights: ScoreWeights
    current: ScoreWeights
    cv_pair_accuracy: float  # held-out demands: share of (relevant, not relevant) pairs the learned weights order right
    cv_pair_accuracy_current: float  # the same for the weights in use
    examples: int
    relevant: int
    demands: int

    @property
    def better(self) -> bool:
        return self.cv_pair_accuracy > self.cv_pair_accuracy_current


class NotEnoughFeedback(ValueError):
    """Too few verdicts to learn from."""


def example(matcher: Matcher, demand: DemandDoc, achievement: AchievementDoc, relevant: bool) -> Example:
    """The pair's text similarity (the ranking's own) and factor values, whether or not it was ever ranked."""
    return Example(demand.id, matcher.text_score(demand, achievement), structured_factors(achievement, demand),
                   bool(relevant))


def fit_weights(examples: Sequence[Example], current: ScoreWeights | None = None, folds: int = 5,
                seed: int = 0) -> LearnedWeights:
    """Logistic regression of the verdict on [text, factors]; weights = coefficient / text coefficient (text stays 1).

    Scored by 5-fold CV over demands against the current weights, on the question ranking asks: within a demand,
    is the relevant achievement above the other one?
    """
    current = current or ScoreWeights()
    labels = np.array([e.relevant for e in examples], dtype=bool)
    demands = np.array([str(e.demand_id) for e in examples])
    if min(labels.sum(), (~labels).sum()) < MIN_PER_CLASS or len(set(demands)) < MIN_DEMANDS:
        raise NotEnoughFeedback(f"need at least {MIN_PER_CLASS} verdicts of each kind over {MIN_DEMANDS} demands; "
                                f"have {int(labels.sum())} relevant and {int((~labels).sum())} not, "
                                f"over {len(set(demands))} demands")
    x = np.array([[e.text, *(e.factors[f] for f in LEARNED)] for e in examples])
    held_out_right = {"learned": [0, 0], "current": [0, 0]}
    unique = np.array(sorted(set(demands)))
    order = np.random.default_rng(seed).permutation(unique.size)
    for k in range(folds):
        test_demands = set(unique[order[k::folds]])
        test = np.array([d in test_demands for d in demands])
        if labels[~test].all() or not labels[~test].any():
            continue
        learned = _weights(_fit(x[~test], labels[~test]), current)
        for name, weights in (("learned", learned), ("current", current)):
            right, total = _pair_accuracy(x[test], labels[test], demands[test], weights)
            held_out_right[name][0] += right
            held_out_right[name][1] += total
    final = _weights(_fit(x, labels), current)
    accuracy = {name: right / total if total else float("nan") for name, (right, total) in held_out_right.items()}
    return LearnedWeights(final, current, accuracy["learned"], accuracy["current"], len(examples),
                          int(labels.sum()), len(set(demands)))


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Imported here: every server process imports this module (for load_weights), and only the CLI fits.
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y).coef_[0]


def _weights(coef: np.ndarray, current: ScoreWeights) -> ScoreWeights:
    if coef[0] <= 0:
        # Text similarity not predicting the verdicts means the verdicts are noise (or the ranking broke): keep.
        return current
    # A negative coefficient would reward conflict (e.g. a TRL below the minimum): the data's noise, clipped to 0.
    learned = {f: float(max(0.0, c / coef[0])) for f, c in zip(LEARNED, coef[1:])}
    return dataclasses.replace(current, text=1.0, **learned)


def _pair_accuracy(x, y, demands, weights: ScoreWeights) -> tuple[int, int]:
    scores = x @ np.array([weights.text, *(weights.of(f) for f in LEARNED)])
    right = total = 0
    for demand in set(demands):
        rows = demands == demand
        good, bad = scores[rows & y], scores[rows & ~y]
        if good.size and bad.size:
            diff = good[:, None] - bad[None, :]
            right += int((diff > 0).sum()) + int((diff == 0).sum()) // 2
            total += diff.size
    return right, total


# ---------------------------------------------------------------- the weights file the matching service reads


def save_weights(index_dir: Path, learned: LearnedWeights) -> Path:
    path = Path(index_dir) / WEIGHTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"weights": dataclasses.asdict(learned.weights),
            "provenance": {**PROVENANCE, "weights": "learned from feedback (matchmaker learn-weights)",
                           "learned_from_feedback": {
                               "examples": learned.examples, "relevant": learned.relevant,
                               "demands": learned.demands, "cv_pair_accuracy": round(learned.cv_pair_accuracy, 4),
                               "cv_pair_accuracy_before": round(learned.cv_pair_accuracy_current, 4),
                               "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def load_weights(index_dir: Path) -> tuple[ScoreWeights, dict]:
    """The learned weights and their provenance if a weights file exists, else the shipped ones."""
    path = Path(index_dir) / WEIGHTS_FILE
    if not path.exists():
        return ScoreWeights(), PROVENANCE
    body = json.loads(path.read_text(encoding="utf-8"))
    return ScoreWeights(**body["weights"]), body["provenance"]


def examples_from_feedback(session: Session) -> list[Example]:
    """Every verdict in the feedback table, scored against the current published achievements' vocabulary."""
    rows = session.execute(select(Feedback.demand_id, Feedback.achievement_id, Feedback.relevant)
                           .order_by(Feedback.id)).all()
    if not rows:
        return []
    achievements, _ = open_docs(session)
    matcher = Matcher().fit(achievements, ())  # text_score needs only the achievements' vocabulary
    if not matcher.achievement_index.n_rows:
        return []
    demand_rows = {d.id: demand_doc(d) for d in session.scalars(
        select(Demand).where(Demand.id.in_({r.demand_id for r in rows})))}
    achievement_rows = {a.id: achievement_doc(a) for a in session.scalars(
        select(Achievement).where(Achievement.id.in_({r.achievement_id for r in rows})))}
    return [example(matcher, demand_rows[r.demand_id], achievement_rows[r.achievement_id], r.relevant)
            for r in rows]
