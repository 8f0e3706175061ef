"""What starting a server and its command-line processes costs: `import matchmaker.app` in a fresh interpreter, and
`matchmaker serve --workers N` from launch to a ready /health and back down, with the CPU of all its processes.

The test suite starts some fifty such processes a run, so their start-up is part of what CI waits for (issue 12).
`--baseline DIR` runs the same measurements on another checkout (a `git worktree` of a baseline commit, put first
on PYTHONPATH), alternated with this one, so both see the same machine:

    git worktree add /tmp/base 14643b9
    python -m benchmarks.speed.server_start --repeat 5 --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.speed.api_load import MATCHMAKER, Server


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pythonpath(code: Path | None) -> dict[str, str]:
    """The environment that puts `code` (a checkout) first on the path; nothing for this checkout."""
    if code is None:
        return {}
    return {"PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])}


def import_app(code: Path | None, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `python -c "import matchmaker.app"` (run in `folder`: `-c` puts the working
    directory first on the path, ahead of PYTHONPATH)."""
    before, started = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "import matchmaker.app"], env={**os.environ, **_pythonpath(code)},
                   cwd=folder, check=True)
    return time.perf_counter() - started, _children_cpu() - before


def serve_once(code: Path | None, url: str, folder: Path, workers: int) -> tuple[float, float]:
    """Seconds from launch to a 200 on /health, and the CPU of every process of the server until it has stopped.
    A new folder each time, so every start builds its (empty) index as a first start does."""
    own = Path(tempfile.mkdtemp(dir=folder))
    before, started = _children_cpu(), time.perf_counter()
    server = Server(url, own, workers, env=_pythonpath(code))
    try:
        server.wait(timeout=90, every=0.05)
        ready = time.perf_counter() - started
    finally:
        server.stop()
    return ready, _children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=Path, help="another checkout, alternated with this one")
    args = parser.parse_args()
    codes = {"this code": None} | ({f"baseline {args.baseline}": args.baseline} if args.baseline else {})
    folder = Path(tempfile.mkdtemp(prefix="server-start-"))
    url = f"sqlite:///{folder / 'world.db'}"
    subprocess.run([str(MATCHMAKER), "db", "upgrade"], env={**os.environ, "MATCHMAKER_DATABASE_URL": url},
                   check=True, stdout=subprocess.DEVNULL)
    figures: dict[str, dict[str, list[float]]] = {name: {} for name in codes}
    for _ in range(args.repeat):
        for name, code in codes.items():   # alternated, so both see the same machine
            for key, value in zip(("import wall", "import CPU"), import_app(code, folder)):
                figures[name].setdefault(key, []).append(value)
            for key, value in zip(("ready", "serve CPU"), serve_once(code, url, folder, args.workers)):
                figures[name].setdefault(key, []).append(value)
    print(f"medians of {args.repeat}, seconds; serve --workers {args.workers}, from launch to /health, CPU until stopped")
    for name, found in figures.items():
        print(f"{name:>40}: " + ", ".join(f"{key} {statistics.median(values):.2f}" for key, values in found.items()))


if __name__ == "__main__":
    main()
