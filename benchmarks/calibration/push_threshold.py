"""Where to set PUSH_THRESHOLD: score distributions of strongly related vs other pairs on a world's latent truth.

For every demand of the world with a findable answer of level >= 3, the matcher's top-50 achievements are split into
related (latent level >= 3) and the rest; for each threshold, the share of related pairs that would be pushed, the
precision of the pushes, and pushes per demand.

    python -m benchmarks.calibration.push_threshold [--scale demo] [--seed 1]   # ~30 s

The world is ranked by TF-IDF alone (no sentence vectors), as a demo without the worker's embeddings is.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import generated_world, single_thread
from matchmaker.matching.ranking import Matcher
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.push.services import PUSH_CANDIDATES, PUSH_THRESHOLD

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def main() -> None:
    single_thread()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    world = generated_world(args.scale, args.seed, 100_000)
    matcher = Matcher(weights=ScoreWeights(semantic=0.0)).fit(world.achievements, ())
    related, other = [], []
    for demand in world.demands:
        levels = world.qrels.get(demand.id, {})
        for match in matcher.rank_achievements(demand, PUSH_CANDIDATES):
            (related if levels.get(match.id, 1) >= 3 else other).append(match.score)
    related, other = np.array(related), np.array(other)
    print(f"{args.scale} world seed {args.seed}: {len(world.demands)} demands, shipped weights, "
          f"PUSH_THRESHOLD {PUSH_THRESHOLD}\n")
    print("| threshold | related pairs pushed | precision of pushes | pushes per demand |\n|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        hit, miss = int((related >= t).sum()), int((other >= t).sum())
        print(f"| {t} | {hit / len(related):.2f} | {hit / max(hit + miss, 1):.2f} | {(hit + miss) / len(world.demands):.1f} |")


if __name__ == "__main__":
    main()
