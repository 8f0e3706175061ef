"""A policy sweep three ways in one run (issue 17): serial, `--parallel N` (a Dask LocalCluster the sweep starts
itself) and `--cluster ADDRESS` (a scheduler started here as a separate LocalCluster, standing in for a real
cluster); the speed-up of each against serial, and whether the figures are identical.

    python -m benchmarks.speed.sweep [--scale demo] [--scenarios 8] [--seeds 10] [--months 12] [--workers 2]

The issue asks for 8 scenarios × 10 seeds on the province world; at 73 s a run that is ~97 minutes serial alone
on this machine, so the default here is the demo world, and the command for the full size is the one above with
`--scale province`. Each way stores its runs in its own fresh database; the world file is made once, before the
timing, and shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from matchmaker import migrate
from matchmaker.config import Settings
from matchmaker.simulation.runs import world_file
from matchmaker.simulation.scenarios import builtin_names, load_scenario
from matchmaker.simulation.sweep import sweep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--scenarios", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mm-sweep-"))
    index = folder / "var" / "index"
    scenarios = [load_scenario(name) for name in builtin_names()[: args.scenarios]]
    seeds = list(range(1, args.seeds + 1))

    def settings(way: str) -> Settings:
        url = f"sqlite:///{folder / f'{way}.db'}"
        migrate.upgrade(url)
        return Settings(database_url=url, index_dir=index)

    world_file(settings("world"), args.scale, 1)
    results, seconds = {}, {}

    def timed(way: str, **where) -> None:
        started = time.perf_counter()
        result = sweep(settings(way), scenarios, seeds, months=args.months, scale=args.scale, world_seed=1, **where)
        seconds[way] = time.perf_counter() - started
        assert not result.failed, result.failed
        results[way] = {(r.scenario, r.seed): (r.summary, r.monthly) for r in result.runs}

    timed("serial")
    timed(f"parallel {args.workers}", parallel=args.workers)
    from distributed import LocalCluster

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster:
        timed("cluster", cluster=cluster.scheduler_address)
    runs = len(scenarios) * len(seeds)
    print(f"\nsweep: {len(scenarios)} scenarios × {len(seeds)} seeds = {runs} runs, {args.months} months, "
          f"{args.scale} world, {args.workers} workers")
    print("| way | seconds | per run | speed-up | figures identical to serial |")
    print("|---|---:|---:|---:|---|")
    for way, took in seconds.items():
        print(f"| {way} | {took:.1f} | {took / runs:.2f} | {seconds['serial'] / took:.2f}× | "
              f"{'yes' if results[way] == results['serial'] else 'NO'} |")


if __name__ == "__main__":
    main()
