"""Learns the constraint strengths from what people were shown and what they said (the impression log).

Examples are the shown pairs that drew a verdict from the person shown, one per person and pair (the latest),
with the features logged when they were shown. A logistic regression of the verdict on the logit of the
relevance and each constraint's violation gives strength_f = −coef_f / coef_relevance, the form the score uses
(log 匹配度 = log relevance − Σ strength_f · violation_f). Rows are weighted by 1 / propensity, so candidates
shown only through exploration count for the pairs the logging ranker did not favour. The fit is checked by
5-fold CV over demands (GroupKFold): held-out pairs of (interested, not interested) in one demand that the weights
order right, and the self-normalised IPS interest rate of held-out slates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matchmaker.matching.counterfactual import LoggedSlate, interest_rate, rescore
from matchmaker.matching.scoring import CONSTRAINTS, PROVENANCE, ScoreWeights

MIN_PER_CLASS = 20  # fewer verdicts of either kind than this and the fit is noise
MIN_DEMANDS = 10  # the CV needs demands to hold out
WEIGHTS_FILE = "weights.json"
WEIGHTS_FORMAT = 2   # 2: constraint strengths and semantic weight (matching round 4)


@dataclasses.dataclass(frozen=True)
class Example:
    """One person's verdict on a pair they were shown, with the features logged then."""

    demand_id: object
    slate: str
    features: dict
    propensity: float
    relevant: bool


@dataclasses.dataclass(frozen=True)
class LearnedWeights:
    weights: ScoreWeights
    current: ScoreWeights
    cv_pair_accuracy: float  # held-out demands: share of (interested, not) pairs the learned weights order right
    cv_pair_accuracy_current: float
    cv_snips: float          # held-out slates: estimated interest rate under the learned weights
    cv_snips_current: float
    examples: int
    relevant: int
    demands: int

    @property
    def better(self) -> bool:
        return self.cv_pair_accuracy > self.cv_pair_accuracy_current


class NotEnoughFeedback(ValueError):
    """Too few verdicts to learn from."""


def examples_from_log(slates: Sequence[LoggedSlate]) -> list[Example]:
    """Shown pairs with a verdict, one per person and pair (the latest slate wins: a repeat replaces)."""
    latest: dict[tuple, Example] = {}
    for slate in slates:
        for item in slate.items:
            if item.shown_rank is None or item.interest is None or item.team:
                continue
            key = (slate.user_id, item.demand_id, item.achievement_id)
            latest[key] = Example(item.demand_id, slate.slate, item.features, item.propensity, bool(item.interest))
    return list(latest.values())


def _matrix(examples: Sequence[Example], current: ScoreWeights) -> np.ndarray:
    rows = []
    for e in examples:
        relevance = min(max(rescore({**e.features, "violations": {}}, current), 1e-6), 1 - 1e-6)
        rows.append([math.log(relevance / (1 - relevance)),
                     *(-(e.features["violations"].get(f) or 0.0) for f in CONSTRAINTS)])
    return np.array(rows)


def fit_weights(examples: Sequence[Example], slates: Sequence[LoggedSlate] = (), current: ScoreWeights | None = None,
                folds: int = 5) -> LearnedWeights:
    from sklearn.model_selection import GroupKFold

    current = current or ScoreWeights()
    labels = np.array([e.relevant for e in examples], dtype=bool)
    demands = np.array([str(e.demand_id) for e in examples])
    if min(labels.sum(), (~labels).sum()) < MIN_PER_CLASS or len(set(demands)) < MIN_DEMANDS:
        raise NotEnoughFeedback(f"need at least {MIN_PER_CLASS} verdicts of each kind over {MIN_DEMANDS} demands; "
                                f"have {int(labels.sum())} relevant and {int((~labels).sum())} not, "
                                f"over {len(set(demands))} demands")
    x = _matrix(examples, current)
    weight = np.array([1.0 / max(e.propensity, 1e-3) for e in examples])
    right = {"learned": [0, 0], "current": [0, 0]}
    snips = {"learned": [], "current": []}
    slate_demand = {s.slate: str(s.items[0].demand_id) for s in slates if s.items}
    for train, test in GroupKFold(folds).split(x, labels, demands):
        if labels[train].all() or not labels[train].any():
            continue
        learned = _weights(_fit(x[train], labels[train], weight[train]), current)
        held = set(demands[test])
        held_slates = [s for s in slates if slate_demand.get(s.slate) in held]
        for name, weights in (("learned", learned), ("current", current)):
            r, t = _pair_accuracy(examples, test, weights)
            right[name][0] += r
            right[name][1] += t
            if held_slates:
                snips[name].append(interest_rate(held_slates, weights).snips)
    final = _weights(_fit(x, labels, weight), current)
    accuracy = {name: r / t if t else float("nan") for name, (r, t) in right.items()}
    mean = lambda xs: float(np.mean(xs)) if xs else float("nan")  # noqa: E731
    return LearnedWeights(final, current, accuracy["learned"], accuracy["current"], mean(snips["learned"]),
                          mean(snips["current"]), len(examples), int(labels.sum()), len(set(demands)))


def _fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    # Imported here: every server process imports this module (for load_weights), and only the CLI fits.
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=weight).coef_[0]


def _weights(coef: np.ndarray, current: ScoreWeights) -> ScoreWeights:
    if coef[0] <= 0:
        # Relevance not predicting the verdicts means the verdicts are noise (or the ranking broke): keep.
        return current
    # A negative strength would reward breaking a constraint: the data's noise, clipped to 0.
    return dataclasses.replace(current, **{f: float(max(0.0, c / coef[0])) for f, c in zip(CONSTRAINTS, coef[1:])})


def _pair_accuracy(examples: Sequence[Example], rows: np.ndarray, weights: ScoreWeights) -> tuple[int, int]:
    right = total = 0
    by_demand: dict[str, list[tuple[float, bool]]] = {}
    for i in rows:
        e = examples[i]
        by_demand.setdefault(str(e.demand_id), []).append((rescore(e.features, weights), e.relevant))
    for scored in by_demand.values():
        good = np.array([s for s, y in scored if y])
        bad = np.array([s for s, y in scored if not y])
        if good.size and bad.size:
            diff = good[:, None] - bad[None, :]
            right += int((diff > 0).sum()) + int((diff == 0).sum()) // 2
            total += diff.size
    return right, total


# ---------------------------------------------------------------- the weights file the matching service reads


def save_weights(index_dir: Path, learned: LearnedWeights) -> Path:
    path = Path(index_dir) / WEIGHTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"format": WEIGHTS_FORMAT, "weights": dataclasses.asdict(learned.weights),
            "provenance": {**PROVENANCE, "weights": "constraint strengths learned from the impression log "
                                                    "(matchmaker learn-weights)",
                           "learned_from_feedback": {
                               "examples": learned.examples, "relevant": learned.relevant,
                               "demands": learned.demands, "cv_pair_accuracy": round(learned.cv_pair_accuracy, 4),
                               "cv_pair_accuracy_before": round(learned.cv_pair_accuracy_current, 4),
                               "cv_snips": round(learned.cv_snips, 4),
                               "cv_snips_before": round(learned.cv_snips_current, 4),
                               "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def load_weights(index_dir: Path) -> tuple[ScoreWeights, dict]:
    """The learned weights and their provenance if a current weights file exists, else the shipped ones."""
    path = Path(index_dir) / WEIGHTS_FILE
    if not path.exists():
        return ScoreWeights(), PROVENANCE
    body = json.loads(path.read_text(encoding="utf-8"))
    if body.get("format") != WEIGHTS_FORMAT:   # weights of the additive score (before round 4) do not apply
        return ScoreWeights(), PROVENANCE
    return ScoreWeights(**body["weights"]), body["provenance"]
