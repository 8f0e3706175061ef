"""What common random numbers buy (issue 17): the 95% interval of a scenario's difference from the baseline, with
the market's random streams shared across scenarios (keyed by seed and purpose) and without (the scenario's name in
every key: independent runs, as before). Backs simulation.market.Market.stream and the paired comparison.

    python -m benchmarks.calibration.common_random_numbers --scale demo --seeds 1,2,3,4,5,6 --months 12

With common random numbers the interval is the paired t interval of the seed-by-seed differences; without, the
two-sample (Welch) interval of the difference of means, which is what independent runs support.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

from scipy.stats import t

from benchmarks.common import scratch_settings
from matchmaker import migrate
from matchmaker.simulation.runs import simulate, world_file
from matchmaker.simulation.scenarios import load_scenario

FIGURES = ("contracts", "turnover_yuan", "local_conversion_rate", "match_to_signed")


def one_run(folder: str, scenario: str, seed: int, months: int, scale: str, crn: bool) -> tuple:
    settings = scratch_settings(folder)
    run = simulate(settings, load_scenario(scenario), seed=seed, months=months, scale=scale, world_seed=1,
                   keep_database=False, common_random_numbers=crn)
    return scenario, seed, crn, {f: float(run["summary"][f]) for f in FIGURES}


def paired_half(differences: list[float]) -> float:
    n = len(differences)
    return t.ppf(0.975, n - 1) * statistics.stdev(differences) / math.sqrt(n)


def welch_half(a: list[float], b: list[float]) -> float:
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if va + vb else 1
    return t.ppf(0.975, df) * math.sqrt(va + vb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seeds", default="1,2,3,4,5,6")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--scenarios", default="local_incentive,more_brokers")
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    others = args.scenarios.split(",")
    started = time.perf_counter()
    jobs = [(s, seed, crn) for crn in (True, False) for s in ["baseline", *others] for seed in seeds]
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(folder)
        migrate.upgrade(settings.database_url)
        world_file(settings, args.scale, 1)
        with ProcessPoolExecutor(args.parallel) as pool:
            results = list(pool.map(one_run, *zip(*[(folder, s, seed, args.months, args.scale, crn)
                                                    for s, seed, crn in jobs])))
    found = {(s, seed, crn): figures for s, seed, crn, figures in results}
    print(f"{args.scale} world, {args.months} months, seeds {args.seeds}: {len(results)} runs in "
          f"{time.perf_counter() - started:.0f}s (--parallel {args.parallel})\n")
    print("| scenario − baseline | figure | difference, shared streams | half-width | difference, independent | "
          "half-width | width ratio | variance ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for other in others:
        for figure in FIGURES:
            diffs = [found[(other, s, True)][figure] - found[("baseline", s, True)][figure] for s in seeds]
            a = [found[(other, s, False)][figure] for s in seeds]
            b = [found[("baseline", s, False)][figure] for s in seeds]
            crn_half, ind_half = paired_half(diffs), welch_half(a, b)
            fmt = (lambda x: f"{x:+.3f}") if figure.endswith("rate") or figure == "match_to_signed" \
                else (lambda x: f"{x:+,.0f}")
            ratio = crn_half / ind_half if ind_half else float("nan")
            print(f"| {other} | {figure} | {fmt(statistics.fmean(diffs))} | {fmt(crn_half)[1:]} | "
                  f"{fmt(statistics.fmean(a) - statistics.fmean(b))} | {fmt(ind_half)[1:]} | {ratio:.2f} | "
                  f"{ratio ** 2:.2f} |")


if __name__ == "__main__":
    main()
