"""Does learning the weights from feedback help? Simulated verdicts on the tune half, nDCG on the other half.

A province world (latent ground truth) is split like benchmarks/match_world.py. Firms look at the top-10 the matcher
shows for each tune-half demand and mark each result relevant with a probability set by its latent level (an
assumption, printed below); `matchmaker.matching.learning.fit_weights` (what `matchmaker learn-weights` runs) fits
the weights on those verdicts; both weight sets are then scored on the test half's latent truth. Two starting
points: the shipped weights, and text only (a matcher that ignores the structured fields), to see whether the
verdicts alone recover what the fields are worth.

    OMP_NUM_THREADS=1 python benchmarks/learn_from_feedback.py   # ~2 min
"""

from __future__ import annotations

import argparse

import numpy as np

from matchmaker.matching.evaluate import evaluate_run
from matchmaker.matching.learning import LEARNED, example, fit_weights
from matchmaker.matching.ranking import Matcher
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.matching.world_eval import TEXT_ONLY, matcher_world_run
from worlds import generated_world

# P(a firm marks a shown result relevant | latent level 1..4): the assumption the verdicts are drawn from.
P_RELEVANT = {1: 0.05, 2: 0.30, 3: 0.75, 4: 0.90}


def verdicts(world, demands, weights: ScoreWeights, rng) -> list:
    matcher = Matcher(weights=weights).fit(world.achievements, ())
    docs = {a.id: a for a in world.achievements}
    found = []
    for demand in demands:
        for match in matcher.rank_achievements(demand, 10):
            level = world.qrels.get(demand.id, {}).get(match.id, 1)
            found.append(example(matcher, demand, docs[match.id], rng.random() < P_RELEVANT[level]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demands", type=int, default=600)
    args = parser.parse_args()
    world = generated_world(args.scale, args.seed, args.demands)
    tune, test = world.demands[0::2], world.demands[1::2]

    def score(weights: ScoreWeights) -> dict:
        return evaluate_run(matcher_world_run(world, weights, demands=test), world.qrels, [d.id for d in test])

    print(f"{args.scale} world seed {args.seed}: {len(world.achievements)} achievements; verdicts on the top-10 of "
          f"{len(tune)} tune demands; nDCG on {len(test)} test demands. P(relevant | level) = {P_RELEVANT}\n")
    print("| start | weights | text, " + ", ".join(LEARNED) + " | CV pair accuracy (held-out demands) "
          "| nDCG@10 | R@10 | MRR@10 |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, start in (("shipped", ScoreWeights()), ("text only", TEXT_ONLY)):
        examples = verdicts(world, tune, start, np.random.default_rng(args.seed))
        learned = fit_weights(examples, start)
        for label, weights, accuracy in (("start", start, learned.cv_pair_accuracy_current),
                                         (f"learned from {learned.examples} verdicts ({learned.relevant} relevant)",
                                          learned.weights, learned.cv_pair_accuracy)):
            r = score(weights)
            values = ", ".join(f"{weights.of(f):.3f}" for f in ("text", *LEARNED))
            print(f"| {name} | {label} | {values} | {accuracy:.3f} | {r['ndcg@10']:.3f} | {r['recall@10']:.3f} "
                  f"| {r['mrr@10']:.3f} |")


if __name__ == "__main__":
    main()
