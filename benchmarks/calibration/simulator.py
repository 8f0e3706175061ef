"""Fits negotiation.other_province_odds so the baseline converts 42% of the home province's achievements locally."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from matchmaker import migrate
from matchmaker.config import Settings
from matchmaker.simulation.calibration import calibrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--low", type=float, default=0.5, help="bracket of other_province_odds to search")
    parser.add_argument("--high", type=float, default=8.0)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'main.db'}"
        migrate.upgrade(url)
        settings = Settings(database_url=url, index_dir=Path(folder) / "var" / "index")
        steps = calibrate(settings, scale=args.scale, months=args.months, steps=args.steps, low=args.low, high=args.high,
                          seeds=tuple(int(s) for s in args.seeds.split(",")),
                          report=lambda step: print(f"| {step.other_province_odds} | {step.local_conversion_rate:.3f} "
                                                    f"| {step.contracts} |", flush=True))
    best = min(steps, key=lambda s: abs(s.local_conversion_rate - 0.42))
    print(f"\nbest other_province_odds {best.other_province_odds}: local conversion "
          f"{best.local_conversion_rate:.3f} over {best.contracts} contracts; {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
