"""The impression log end to end on a generated world, with simulated firms: does the off-policy estimate of a
candidate ranker's interest rate find the truth, does learn-weights recover the firms' preference, and what does
team-draft interleaving report?

Simulated firms (matchmaker/simulation/people.py) react by the world's latent truth, and take half the interest in a
result less mature than they asked for. The shipped ranker logs with exploration (the last of 10 slots shows a
candidate from ranks 11–20 with probability --exploration); each candidate ranker's IPS and self-normalised IPS
estimates are printed next to its true interest rate on the same pools.

    python -m benchmarks.calibration.counterfactual [--demands 300] [--exploration 0.3]     # ~2 min, demo world
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from benchmarks.common import throwaway_world
from matchmaker.config import Settings
from matchmaker.db import make_session_factory
from matchmaker.matching.counterfactual import rescore
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.simulation.people import study

SHIPPED = ScoreWeights(semantic=0.0)   # the demo world is ranked without sentence vectors here
CANDIDATES = {
    "shipped (logging ranker)": SHIPPED,
    "relevance only (no demotion)": dataclasses.replace(SHIPPED, field=0, trl=0, price=0, mode=0),
    "strict TRL (×0.22 per level)": dataclasses.replace(SHIPPED, trl=1.5),
    "TRL ignored": dataclasses.replace(SHIPPED, trl=0.0),
    # A deliberately bad ranker: the logged pool upside down, so its top 10 is what the shipped one ranked 11–20.
    "pool reversed (least relevant first)": lambda features: -rescore(features, SHIPPED),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demands", type=int, default=300)
    parser.add_argument("--exploration", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with throwaway_world("demo", args.seed) as (url, engine, _), tempfile.TemporaryDirectory() as folder:
        weights_file = Path(folder) / "strict.json"
        weights_file.write_text(json.dumps({"weights": dataclasses.asdict(CANDIDATES["strict TRL (×0.22 per level)"])}))
        settings = Settings(database_url=url, index_dir=Path(folder) / "index", semantic=False,
                            exploration=args.exploration)
        out = study(make_session_factory(engine), settings, demands=args.demands, candidates=CANDIDATES,
                    interleave_with=str(weights_file), seed=args.seed)
    print(f"demo world seed {args.seed}: {out['slates']} slates logged, {out['shown']} matches shown, "
          f"exploration {args.exploration}\n")
    print("| candidate ranker | IPS | SNIPS | log covers its top 10 | true interest rate |")
    print("|---|---:|---:|---:|---:|")
    for name, c in out["candidates"].items():
        print(f"| {name} | {c['ips']:.3f} | {c['snips']:.3f} | {c['log_covers']:.0%} | {c['true']:.3f} |")
    print("\nlearn-weights on the log:", json.dumps(out["learned"], ensure_ascii=False))
    print("team-draft interleaving, shipped (A) against strict TRL (B):", json.dumps(out["interleaving"]))


if __name__ == "__main__":
    main()
