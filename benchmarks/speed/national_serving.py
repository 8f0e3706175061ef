"""Serving the national world (issue 17): one `matchmaker serve` worker on SQLite with 1M achievements — time to
ready with no saved index (built at startup) and again after a restart (the saved index, memory-mapped), the
worker's memory, and the first page of `GET /achievements` and a match, sequential requests.

    python -m benchmarks.speed.national_serving [--folder /tmp/national] [--requests 100]

The world is seeded once into the folder (about 3 minutes) and reused by later runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

MATCHMAKER = Path(sys.executable).with_name("matchmaker")


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB of a process and its children (uvicorn's worker runs under the supervisor)."""
    rss = pss = 0.0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
                    .stdout.split()]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key == "Rss":
                    rss += int(rest.split()[0]) / 1024
                elif key == "Pss":
                    pss += int(rest.split()[0]) / 1024
        except FileNotFoundError:
            pass
    return rss, pss


def serve(env: dict, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    process = subprocess.Popen([str(MATCHMAKER), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                                "--no-job-worker"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def timed(client: httpx.Client, paths: list[str]) -> tuple[float, float]:
    times = []
    for path in paths:
        started = time.perf_counter()
        assert client.get(path).status_code == 200, path
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default="/tmp/national")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'national.db'}"
    env = {**os.environ, "MATCHMAKER_DATABASE_URL": url, "MATCHMAKER_INDEX_DIR": str(folder / "index"),
           "MATCHMAKER_SEMANTIC": "off"}
    if not (folder / "seeded").exists():
        subprocess.run([str(MATCHMAKER), "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([str(MATCHMAKER), "seed", "--scale", "national", "--seed", "1"], env=env, check=True,
                       capture_output=True)
        (folder / "seeded").touch()
    subprocess.run(["rm", "-rf", str(folder / "index")], check=True)
    from sqlalchemy import select

    from matchmaker.db import make_engine, make_session_factory, transaction
    from matchmaker.identity.services import create_user
    from matchmaker.models import Demand, Organisation

    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        agency = session.scalar(select(Organisation.id).where(Organisation.kind == "agency").order_by(Organisation.id))
        _, token = create_user(session, role="broker", organisation_id=agency, name="national-bench")
        demands = list(session.scalars(select(Demand.id).where(Demand.status == "published").order_by(Demand.id)
                                       .limit(args.requests)))
    engine.dispose()
    log = folder / "serve.log"
    rows = []
    for label in ("no saved index: built at startup", "restart: the saved index, memory-mapped"):
        process, ready_s = serve(env, args.port, log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=120,
                              headers={"Authorization": f"Bearer {token}"}) as client:
                listing = timed(client, ["/achievements?limit=20"] * args.requests)
                matches = timed(client, [f"/demands/{d}/matches" for d in demands])
            rss, pss = memory_mb(process.pid)
        finally:
            stop(process)
        rows.append((label, ready_s, rss, pss, listing, matches))
    print(f"national world (1M achievements, 200k demands), SQLite, one worker, semantic off; {args.requests} "
          f"sequential requests each\n")
    print("| start | ready s | RSS MB | PSS MB | list p50 / p95 ms | match p50 / p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, ready_s, rss, pss, listing, matches in rows:
        print(f"| {label} | {ready_s:.1f} | {rss:,.0f} | {pss:,.0f} | {listing[0]:.0f} / {listing[1]:.0f} | "
              f"{matches[0]:.0f} / {matches[1]:.0f} |")


if __name__ == "__main__":
    main()
