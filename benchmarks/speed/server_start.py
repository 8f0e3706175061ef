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
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MATCHMAKER = Path(sys.executable).with_name("matchmaker")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(code: Path | None, **extra: str) -> dict:
    env = {**os.environ, **extra}
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")])
    return env


def import_app(code: Path | None, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `python -c "import matchmaker.app"` (run in `folder`: `-c` puts the working
    directory first on the path, ahead of PYTHONPATH)."""
    before, started = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "import matchmaker.app"], env=_env(code), cwd=folder, check=True)
    return time.perf_counter() - started, _children_cpu() - before


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_once(code: Path | None, url: str, folder: Path, workers: int) -> tuple[float, float]:
    """Seconds from launch to a 200 on /health, and the CPU of every process of the server until it has stopped."""
    port = _free_port()
    env = _env(code, MATCHMAKER_DATABASE_URL=url, MATCHMAKER_INDEX_DIR=str(folder / f"index-{port}"))
    before, started = _children_cpu(), time.perf_counter()
    server = subprocess.Popen([str(MATCHMAKER), "serve", "--port", str(port), "--workers", str(workers),
                               "--no-job-worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    ready = None
    with httpx.Client(timeout=1) as client:
        while ready is None and time.perf_counter() - started < 90:
            try:
                if client.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    ready = time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.05)
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    if ready is None:
        raise RuntimeError("the server did not answer /health within 90 s")
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
    subprocess.run([str(MATCHMAKER), "db", "upgrade"], env=_env(None, MATCHMAKER_DATABASE_URL=url), check=True,
                   stdout=subprocess.DEVNULL)
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
