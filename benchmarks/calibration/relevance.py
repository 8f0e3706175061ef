"""Calibrates relevance (what 匹配度 means) on ccf2019-dev: P(level ≥ 3 | z, cosine) by logistic regression, per ranker.

For every demand, the Matcher's top 50 (the API's path) give (z, judged level ≥ 3) pairs; unjudged pairs count
as not relevant, as the README scores them. The fit is checked by 5-fold CV over demands (log loss against the
base rate) and by a reliability table: predicted against observed share of relevant pairs, by bins of prediction.

    python -m benchmarks.calibration.relevance      # ~1 min once the embeddings are cached (round4 caches them)
"""
from __future__ import annotations


import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold

from benchmarks.common import Data, ccf_arguments, single_thread
from matchmaker.matching.commands import matcher_docs, matcher_for
from matchmaker.matching.ranking import DemandDoc
from matchmaker.matching.scoring import POSSIBLE, STRONG, ScoreWeights

DEPTH = 50


def pairs(data: Data, semantic: bool, cache: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = ScoreWeights() if semantic else ScoreWeights(semantic=0.0)
    matcher = matcher_for(data.achievements, data.demands, weights=weights, semantic=semantic, cache_dir=cache)
    z, y, group = [], [], []
    for n, demand in enumerate(matcher_docs(data.demands, DemandDoc)):
        judged = data.qrels.get(demand.id, {})
        for match in matcher.rank_achievements(demand, DEPTH):
            z.append([match.explanation.relevance.z, match.explanation.relevance.text_similarity])
            y.append(judged.get(match.id, 1) >= 3)
            group.append(n)
    return np.array(z), np.array(y), np.array(group)


def main() -> None:
    single_thread()
    args = ccf_arguments(__doc__)
    data = Data(args.data)
    for name, semantic in (("tfidf", False), ("tfidf+semantic", True)):
        x, y, g = pairs(data, semantic, args.cache)
        held_out = np.zeros(y.size)
        for train, test in GroupKFold(5).split(x, y, g):
            held_out[test] = LogisticRegression().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        model = LogisticRegression().fit(x, y)
        slope, cosine, intercept = float(model.coef_[0, 0]), float(model.coef_[0, 1]), float(model.intercept_[0])
        print(f"\n## {name}: {y.size} pairs (top {DEPTH} of {len(data.demands)} demands), {int(y.sum())} relevant")
        print(f"Calibration(slope={slope:.4f}, cosine={cosine:.3f}, intercept={intercept:.3f})")
        print(f"held-out log loss {log_loss(y, held_out):.4f} against {log_loss(y, np.full(y.size, y.mean())):.4f} "
              f"for the base rate {y.mean():.3f}")
        print("| predicted relevance (held out) | pairs | mean predicted | observed relevant |")
        print("|---|---:|---:|---:|")
        for lo, hi in ((0, 0.05), (0.05, POSSIBLE), (POSSIBLE, 0.2), (0.2, STRONG), (STRONG, 1.01)):
            inside = (held_out >= lo) & (held_out < hi)
            if inside.any():
                print(f"| {lo:.2f}–{min(hi, 1):.2f} | {inside.sum()} | {held_out[inside].mean():.3f} | {y[inside].mean():.3f} |")
        top = np.array([held_out[g == n].max() for n in np.unique(g)])
        print(f"demands whose best match is 高度匹配 (≥ {STRONG}): {int((top >= STRONG).sum())} of {top.size}")


if __name__ == "__main__":
    main()
