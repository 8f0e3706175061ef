"""The simulator's speed against a baseline commit, the two alternated in one run: these machines' speed drifts by
up to a third within an hour (the same code, seed and world took 35.9 to 49.5 s on 2026-12-03), so only alternated
rounds and their medians compare.

    python -m benchmarks.speed.simulation_speed --baseline e4e2976 [--rounds 5] [--scale province] [--months 12] [--together]

`--together` runs the two sides at the same time instead, each on its own core (swapped every round), so both see
the same moment of the machine; the ratio of each round's pair is then the measure (the median of those is printed).
On 2026-12-03 (twelfth session) the same code took 41.4 to 51.3 s in alternated runs minutes apart, which drowned a
10% change; side by side its rounds agreed within 4%.

The baseline is checked out in a temporary git worktree. Each side runs its own `matchmaker simulate --json` (cwd
its source tree, so `-m` imports its own package) on its own scratch platform database, migrated by its own code;
both use the world files in --worlds (made once, on first use). Printed: every run's `seconds` (the run's own
figure, world copy to summary) and CPU seconds, the medians and their ratio, and whether the figures are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT

FIGURES = ("contracts", "turnover_yuan", "local_conversion_rate")


def start(source: Path, scratch: Path, worlds: Path, args: list[str], core: int | None = None):
    """Start one `matchmaker` command with the code in `source` (on one core when `core` is given)."""
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "worlds").exists():
        (scratch / "worlds").symlink_to(worlds)
    env = {**os.environ, "MATCHMAKER_DATABASE_URL": f"sqlite:///{scratch / 'platform.db'}",
           "MATCHMAKER_INDEX_DIR": str(scratch / "index"), "PYTHONPATH": str(source)}
    output = tempfile.TemporaryFile(mode="w+")
    pin = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
    process = subprocess.Popen([sys.executable, "-m", "matchmaker.cli", *args], cwd=source, env=env,
                               stdout=output, stderr=subprocess.DEVNULL, text=True, preexec_fn=pin)
    return process, output, "--json" in args


def finish(started) -> tuple[dict, float]:
    """Wait for a started command: its JSON output (if any) and its own CPU seconds."""
    process, output, is_json = started
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{process.args} failed")
    output.seek(0)
    return (json.loads(output.read()) if is_json else {}), usage.ru_utime + usage.ru_stime


def run(source: Path, scratch: Path, worlds: Path, args: list[str]) -> tuple[dict, float]:
    return finish(start(source, scratch, worlds, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="a commit to compare this checkout's code with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worlds", type=Path, default=ROOT / "var" / "worlds")
    parser.add_argument("--together", action="store_true", help="both sides at once, one core each")
    args = parser.parse_args()
    args.worlds.mkdir(parents=True, exist_ok=True)
    simulate = ["simulate", "--scale", args.scale, "--months", str(args.months), "--seed", str(args.seed), "--json"]
    with tempfile.TemporaryDirectory(prefix="mm-sim-speed-") as folder:
        baseline = Path(folder) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline), args.baseline],
                       check=True, capture_output=True)
        sides = {"baseline": baseline, "this checkout": ROOT}
        try:
            for name, source in sides.items():
                run(source, Path(folder) / "scratch" / name, args.worlds, ["db", "upgrade"])
            results: dict[str, list[tuple[float, float, tuple]]] = {name: [] for name in sides}
            for round_ in range(1, args.rounds + 1):
                if args.together:
                    started = {name: start(source, Path(folder) / "scratch" / name, args.worlds, simulate,
                                           core=(round_ + n) % 2) for n, (name, source) in enumerate(sides.items())}
                    done = {name: finish(process) for name, process in started.items()}
                else:
                    done = {name: run(source, Path(folder) / "scratch" / name, args.worlds, simulate)
                            for name, source in sides.items()}
                for name, (out, cpu) in done.items():
                    results[name].append((out["seconds"], cpu, tuple(out[key] for key in FIGURES)))
                    print(f"round {round_} {name}: {out['seconds']:.1f} s, CPU {cpu:.1f} s, "
                          + ", ".join(f"{key} {out[key]}" for key in FIGURES), flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False)
    medians = {name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
               for name, rows in results.items()}
    print("\n| code | runs | median seconds | median CPU seconds |\n|---|---:|---:|---:|")
    for name, (seconds, cpu) in medians.items():
        print(f"| {name} | {len(results[name])} | {seconds:.1f} | {cpu:.1f} |")
    ratio = medians["baseline"][0] / medians["this checkout"][0]
    same = len({r[2] for rows in results.values() for r in rows}) == 1
    print(f"\nspeed-up (median seconds): {ratio:.2f}x; figures identical in every run: {'yes' if same else 'NO'}")
    if args.together:
        pairs = [b[0] / t[0] for b, t in zip(results["baseline"], results["this checkout"])]
        print("each round's pair: " + ", ".join(f"{r:.3f}x" for r in pairs)
              + f"; median {statistics.median(pairs):.3f}x")


if __name__ == "__main__":
    main()
