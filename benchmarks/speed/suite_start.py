"""What CI pays before the first test runs: `make install` in a fresh clone, then the test processes' collection
(`pytest -n 2 --collect-only`) twice, the first as CI meets it (nothing compiled yet) and the second as a developer's
next run does. Each round clones a baseline commit and this one (HEAD) in turn, so both see the same machine:

    python -m benchmarks.speed.suite_start --baseline a54a1d0 --rounds 2

The environment of each step is the one its Makefile gives: a checkout whose `make test` runs `compileall` first
(before 26th session) gets it, and runs with the machine's PYTHONDONTWRITEBYTECODE; a later one writes compiled files
as it goes (`export PYTHONDONTWRITEBYTECODE =` in the Makefile).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def one_round(commit: str, folder: Path) -> dict[str, float]:
    clone = folder / commit
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", commit], cwd=clone, check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DEBUG_TEMPROOT"}
    figures = {"install": _timed(["make", "install"], clone, env)}
    makefile = (clone / "Makefile").read_text()
    if "compileall" in makefile:   # the older recipe: compile the project, keep the machine's setting
        figures["install"] += _timed([".venv/bin/python", "-m", "compileall", "-q", "matchmaker", "tests"], clone, env)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = ""
    collect = [".venv/bin/python", "-m", "pytest", "-n", "2", "--collect-only", "-q", "-p", "no:cacheprovider"]
    figures["first collection"] = _timed(collect, clone, env)
    figures["next collection"] = _timed(collect, clone, env)
    shutil.rmtree(clone)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a commit to compare HEAD with")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    results: dict[str, list[dict[str, float]]] = {args.baseline: [], head: []}
    with tempfile.TemporaryDirectory(dir=ROOT.parent) as folder:
        for _ in range(args.rounds):
            for commit in results:
                results[commit].append(one_round(commit, Path(folder)))
                print(commit, {k: round(v, 2) for k, v in results[commit][-1].items()}, flush=True)
    for commit, rounds in results.items():
        medians = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        print(f"{commit} medians: " + ", ".join(f"{k} {v:.1f} s" for k, v in medians.items())
              + f"; before the first test {medians['install'] + medians['first collection']:.1f} s")


if __name__ == "__main__":
    main()
