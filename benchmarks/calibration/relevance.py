"""Calibrates relevance (what 匹配度 means): P(experts judge the pair at least 较强相关 | z, cosine), per ranker.

Fitted by logistic regression on the only real graded data there is, ccf2019-dev (level ≥ 3), and checked by
5-fold cross-validation over its demands. The fit is then read, never refitted, on full postings: the demo world
(seeds 1 and 2; latent level ≥ 3 counts as an answer, docs/world.md) and tests/fixtures/matching_fixture.json
(hand-written; its named answers against everything else). A calibration fitted on the world instead is printed
for comparison.

For every demand, the Matcher's top 50 (the API's path) give the pairs. Each table compares mean predicted with
the observed share of answers, by bins of prediction.

    python -m benchmarks.calibration.relevance       # ~3 min the first time (embeds two demo worlds), ~1 min after
"""
from __future__ import annotations

import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from benchmarks.common import ROOT, Data, ccf_arguments, generated_world, single_thread
from matchmaker.matching import semantic
from matchmaker.matching.commands import matcher_docs, matcher_for
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.scoring import CALIBRATIONS, STRONG, Calibration, ScoreWeights

DEPTH = 50
BINS = ((0, 0.05), (0.05, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 1.01))


def features(matcher: Matcher, demands, answers, groups: bool = False):
    """(z, cosine) of each demand's top 50 and whether the pair is an answer (and the demand of each pair)."""
    x, y, g = [], [], []
    for n, demand in enumerate(demands):
        for match in matcher.rank_achievements(demand, DEPTH, explain=0):
            x.append([match.explanation.relevance.z, match.explanation.relevance.text_similarity])
            y.append(answers(demand.id, match.id))
            g.append(n)
    return (np.array(x), np.array(y), np.array(g)) if groups else (np.array(x), np.array(y))


def world_pairs(seed: int, use_semantic: bool, cache) -> tuple[np.ndarray, np.ndarray]:
    world = generated_world("demo", seed, 100_000)
    matcher = Matcher(weights=ScoreWeights() if use_semantic else ScoreWeights(semantic=0.0)).fit(
        world.achievements, world.demands)
    if use_semantic:
        for library, docs in (("achievements", world.achievements), ("demands", world.demands)):
            texts = [semantic.text_for(library, d.title, d.body) for d in docs]
            for doc, vector in zip(docs, semantic.embed_cached(library, texts, cache)):
                matcher.set_vector(library, doc.id, vector)
    return features(matcher, world.demands, lambda d, a: world.qrels.get(d, {}).get(a, 1) >= 3)


def ccf_pairs(data: Data, use_semantic: bool, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = ScoreWeights() if use_semantic else ScoreWeights(semantic=0.0)
    matcher = matcher_for(data.achievements, data.demands, weights=weights, semantic=use_semantic, cache_dir=cache)
    return features(matcher, matcher_docs(data.demands, DemandDoc),
                    lambda d, a: data.qrels.get(d, {}).get(a, 1) >= 3, groups=True)


def fixture_pairs(use_semantic: bool, cache) -> tuple[np.ndarray, np.ndarray]:
    fixture = json.loads((ROOT / "tests" / "fixtures" / "matching_fixture.json").read_text(encoding="utf-8"))
    achievements = [AchievementDoc(a["key"], a["title"], f"{a['summary']}\n{a['keywords']}", field_code=a["field"])
                    for a in fixture["achievements"]]
    demands = [DemandDoc(d["key"], d["title"], f"{d['problem']}\n{d['targets']}", field_code=d["field"])
               for d in fixture["demands"]]
    matcher = Matcher(weights=ScoreWeights() if use_semantic else ScoreWeights(semantic=0.0)).fit(achievements, demands)
    if use_semantic:
        for library, docs in (("achievements", achievements), ("demands", demands)):
            texts = [semantic.text_for(library, d.title, d.body) for d in docs]
            for doc, vector in zip(docs, semantic.embed_cached(library, texts, cache)):
                matcher.set_vector(library, doc.id, vector)
    answers = {d["key"]: set(d["must_be_first"]) for d in fixture["demands"]}
    return features(matcher, demands, lambda d, a: a in answers[d])


def predict(calibration: Calibration, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(calibration.slope * x[:, 0] + calibration.cosine * x[:, 1] + calibration.intercept)))


def fit(x: np.ndarray, y: np.ndarray) -> Calibration:
    model = LogisticRegression().fit(x, y)
    return Calibration(float(model.coef_[0, 0]), float(model.coef_[0, 1]), float(model.intercept_[0]))


def reliability(name: str, calibration: Calibration, x: np.ndarray, y: np.ndarray) -> None:
    reliability_of(name, predict(calibration, x), y)


def reliability_of(name: str, p: np.ndarray, y: np.ndarray) -> None:
    print(f"\n{name}: {y.size} pairs, {int(y.sum())} answers; log loss {log_loss(y, p, labels=[False, True]):.4f} "
          f"(base rate alone {log_loss(y, np.full(y.size, max(y.mean(), 1e-6)), labels=[False, True]):.4f})")
    print("| predicted | pairs | mean predicted | observed answers |\n|---|---:|---:|---:|")
    for lo, hi in BINS:
        inside = (p >= lo) & (p < hi)
        if inside.any():
            print(f"| {lo:.2f}–{min(hi, 1):.2f} | {inside.sum()} | {p[inside].mean():.3f} | {y[inside].mean():.3f} |")
    answers = p[y]
    print(f"answers at 高度匹配 (≥ {STRONG}): {np.mean(answers >= STRONG):.0%}; others at 高度匹配: "
          f"{np.mean(p[~y] >= STRONG):.1%}")


def main() -> None:
    single_thread()
    args = ccf_arguments(__doc__)
    data = Data(args.data)
    from sklearn.model_selection import GroupKFold

    for name, use_semantic in (("tfidf", False), ("tfidf+semantic", True)):
        x, y, groups = ccf_pairs(data, use_semantic, args.cache)
        calibration = fit(x, y)
        print(f"\n## {name}\n\nfitted on ccf2019-dev: {calibration}\nshipped: {CALIBRATIONS[name]}")
        held_out = np.zeros(y.size)
        for train, test in GroupKFold(5).split(x, y, groups):
            held_out[test] = predict(fit(x[train], y[train]), x[test])
        reliability_of("ccf2019-dev, 5-fold CV over demands", held_out, y)
        world_x, world_y = world_pairs(1, use_semantic, args.cache)
        reliability("demo world seed 1", calibration, world_x, world_y)
        reliability("demo world seed 2", calibration, *world_pairs(2, use_semantic, args.cache))
        reliability("hand-written fixture", calibration, *fixture_pairs(use_semantic, args.cache))
        print(f"\n(fitted on the demo world, seed 1, instead: {fit(world_x, world_y)})")


if __name__ == "__main__":
    main()
