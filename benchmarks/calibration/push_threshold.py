"""Where to set PUSH_THRESHOLD: score distributions of strongly related vs other pairs on a world's latent truth.

For every demand of the world with a findable answer of level >= 3, the matcher's top-50 achievements are split into
related (latent level >= 3) and the rest; for each threshold, the share of related pairs that would be pushed, the
precision of the pushes, and pushes per demand.

    OMP_NUM_THREADS=1 python benchmarks/push_threshold.py [--scale demo] [--seed 1]   # ~30 s
"""

from __future__ import annotations

import argparse

import numpy as np

from matchmaker.matching.ranking import Matcher
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.push.services import PUSH_CANDIDATES, PUSH_THRESHOLD
from benchmarks.common import generated_world

THRESHOLDS = (0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    world = generated_world(args.scale, args.seed, 100_000)
    matcher = Matcher(weights=ScoreWeights()).fit(world.achievements, ())
    related, other = [], []
    for demand in world.demands:
        levels = world.qrels.get(demand.id, {})
        for match in matcher.rank_achievements(demand, PUSH_CANDIDATES):
            (related if levels.get(match.id, 1) >= 3 else other).append(match.score)
    related, other = np.array(related), np.array(other)
    print(f"{args.scale} world seed {args.seed}: {len(world.demands)} demands, shipped weights {ScoreWeights()}, "
          f"PUSH_THRESHOLD {PUSH_THRESHOLD}\n")
    print("| threshold | related pairs pushed | precision of pushes | pushes per demand |\n|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        hit, miss = int((related >= t).sum()), int((other >= t).sum())
        print(f"| {t} | {hit / len(related):.2f} | {hit / max(hit + miss, 1):.2f} | {(hit + miss) / len(world.demands):.1f} |")


if __name__ == "__main__":
    main()
