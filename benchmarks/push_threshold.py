"""Where to set PUSH_THRESHOLD: score distributions of strongly related vs other pairs on a world's latent truth.

For every demand of the world with a findable answer of level >= 3, the matcher's top-50 achievements are split into
related (latent level >= 3) and the rest; for each threshold, the share of related pairs that would be pushed, the
precision of the pushes, and pushes per demand.

    OMP_NUM_THREADS=1 python benchmarks/push_threshold.py [--scale demo] [--seed 1]   # ~30 s
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from matchmaker import migrate
from matchmaker.db import make_engine
from matchmaker.matching.ranking import Matcher
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.matching.world_eval import load_world
from matchmaker.push.services import PUSH_CANDIDATES, PUSH_THRESHOLD
from matchmaker.reference import sync_reference_data
from matchmaker.simulation.world import generate_world

THRESHOLDS = (0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'world.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        sync_reference_data(engine)
        generate_world(engine, scale=args.scale, seed=args.seed)
        world = load_world(engine, max_demands=100_000)
        engine.dispose()
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
