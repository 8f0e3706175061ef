"""Two server options side by side, alternated in one run (issue 17), each under the same wrk load:

    loop       uvicorn's `--loop asyncio --http h11` (what was used before uvloop and httptools were dependencies)
               against `--loop uvloop --http httptools` (what uvicorn takes now), on GET /fields (the cheapest
               authenticated route) and GET /achievements?limit=20
    impressions  MATCHMAKER_IMPRESSIONS_EVERY=0 (each match request commits its own impression rows) against 0.2
               (a batch per process every 0.2 s), on GET /demands/{id}/matches with kept rankings, after a pass
               over the demands so both workers hold their rankings

The province world (seed 1) in a SQLite file, `uvicorn matchmaker.app:create_app --factory --workers 2`, wrk one
thread with 8 keep-alive connections (Debian's `wrk`).

    python -m benchmarks.speed.server_options [--rounds 2] [--duration 20] [--compare loop,impressions]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.speed.api_load import build_world, free_port, run_wrk

UVICORN = Path(sys.executable).with_name("uvicorn")
OPTIONS = {
    "loop": [("asyncio, h11", ["--loop", "asyncio", "--http", "h11"], {}),
             ("uvloop, httptools", ["--loop", "uvloop", "--http", "httptools"], {})],
    "impressions": [("in the request", [], {"MATCHMAKER_IMPRESSIONS_EVERY": "0"}),
                    ("behind, 0.2 s", [], {"MATCHMAKER_IMPRESSIONS_EVERY": "0.2"})],
}


def serve(url: str, folder: Path, arguments: list[str], env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [str(UVICORN), "matchmaker.app:create_app", "--factory", "--workers", "2", "--port", str(port),
         "--log-level", "warning", *arguments],
        env={**os.environ, "MATCHMAKER_DATABASE_URL": url, "MATCHMAKER_INDEX_DIR": str(folder / "index"), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:   # /health says ready once the matcher is loaded or built
        try:
            if '"ready"' in httpx.get(f"{base}/health", timeout=1).text:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--compare", default="loop,impressions")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mm-options-") as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'province.db'}"
        token, demand_ids, _ = build_world(url)
        match_paths = [f"/demands/{d}/matches" for d in demand_ids[:: max(1, len(demand_ids) // 500)]]
        for compare in args.compare.split(","):
            targets = ({"`GET /fields`": ["/fields"], "`GET /achievements?limit=20`": ["/achievements?limit=20"]}
                       if compare == "loop" else {"`GET /demands/{id}/matches`": match_paths})
            for round_ in range(1, args.rounds + 1):
                for label, arguments, env in OPTIONS[compare]:
                    process, base = serve(url, folder, arguments, env)
                    try:
                        for target, paths in targets.items():
                            # Warm: a pass over the paths (each demand's ranking kept by the worker that answered).
                            run_wrk(base, token, paths, 8, 45 if compare == "impressions" else 3, folder)
                            r = run_wrk(base, token, paths, 8, args.duration, folder)
                            rows.append((compare, round_, label, target, r))
                            print(f"{compare} round {round_} {label} {target}: {r['rps']:.1f} req/s", file=sys.stderr)
                    finally:
                        process.terminate()
                        process.wait(timeout=30)
    print("| compared | round | option | route | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|")
    for compare, round_, label, target, r in rows:
        print(f"| {compare} | {round_} | {label} | {target} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | "
              f"{r['p99']:.1f} | {r['errors']} |")


if __name__ == "__main__":
    main()
