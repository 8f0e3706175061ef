"""Load benchmark of the API over loopback: the match endpoint next to a plain listing, same server, same run.

Builds the province world (seed 1) in a SQLite file, starts `matchmaker serve --workers 2`, warms both workers up
(each builds or loads the matcher on its first match call), then runs N concurrent clients for a fixed duration
against each endpoint in turn:

    baseline   GET /achievements?limit=20
    match      GET /demands/{id}/matches          (ids cycle over published demands)

and prints requests/s and latency percentiles. `--readme` appends the table, the command and the date to
benchmarks/README.md under "## API load".

The server runs once per `--kept-rankings` value (`MATCHMAKER_KEPT_RANKINGS`; 0 scores every match request), and
each endpoint is loaded by each `--tools` client: `httpx` (asyncio, in Python: it takes a good share of the two
cores itself) and `wrk` (C, one thread; Debian's `wrk` package), so the client's own cost shows. The workers of
`serve --workers` share one socket, and the one holding the fewest connections takes each new one
(matchmaker/serving.py); "per worker" says how wrk's were split. `--balanced` runs the same load on that many
single-worker servers, a wrk each, at once: a balancer in front, for comparison.

    python -m benchmarks.speed.api_load --clients 8 --duration 20 [--tools httpx,wrk] [--kept-rankings 0,2000]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--semantic] [--balanced] [--readme]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
MATCHMAKER = Path(sys.executable).with_name("matchmaker")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_world(url: str) -> tuple[str, list[int], dict]:
    """Province world, seed 1; returns an API token (a broker's: sees every published record) and demand ids."""
    from sqlalchemy import select

    from matchmaker import migrate
    from matchmaker.db import make_engine, make_session_factory, transaction
    from matchmaker.identity.services import create_user
    from matchmaker.models import Demand, Organisation
    from matchmaker.reference import sync_reference_data
    from matchmaker.world.generate import generate_world

    migrate.upgrade(url)
    engine = make_engine(url)
    sync_reference_data(engine)
    result = generate_world(engine, scale="province", seed=1)
    with transaction(make_session_factory(engine)) as session:
        agency = session.scalar(select(Organisation.id).where(Organisation.kind == "agency").order_by(Organisation.id))
        _, token = create_user(session, role="broker", organisation_id=agency, name="load-test")
        demand_ids = list(session.scalars(select(Demand.id).where(Demand.status == "published").order_by(Demand.id)))
    engine.dispose()
    return token, demand_ids, result.counts


def fresh_postgres(server_url: str) -> str:
    """An empty database `mm_load` on the given PostgreSQL server (dropped first if a last run left it)."""
    from sqlalchemy import make_url, text

    from matchmaker.db import make_engine

    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS mm_load WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE mm_load"))
    admin.dispose()
    return make_url(server_url).set(database="mm_load").render_as_string(hide_password=False)


class Server:
    def __init__(self, url: str, tmp: Path, workers: int, kept_rankings: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MATCHMAKER_DATABASE_URL": url, "MATCHMAKER_INDEX_DIR": str(tmp / "index"), **(env or {})}
        if kept_rankings is not None:
            env["MATCHMAKER_KEPT_RANKINGS"] = str(kept_rankings)
        self.log = tmp / "server.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(MATCHMAKER), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                 "--no-job-worker"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 60, every: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1) as client:   # one client: each `httpx.get` builds a TLS context (24 ms of CPU)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
                try:
                    if client.get(f"{self.base_url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(every)
        raise RuntimeError("server did not come up")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def _batch(client: httpx.AsyncClient, paths: list[str]) -> list[float]:
    async def one(path: str) -> float:
        started = time.perf_counter()
        response = await client.get(path)
        response.raise_for_status()
        return time.perf_counter() - started

    return await asyncio.gather(*(one(p) for p in paths))


async def warm_up(client: httpx.AsyncClient, match_paths: list[str], concurrency: int, limit_s: float = 180) -> float:
    """Concurrent match calls until a whole batch is fast: every worker has its matcher (built or loaded)."""
    started = time.monotonic()
    i = 0
    while time.monotonic() - started < limit_s:
        paths = [match_paths[(i + j) % len(match_paths)] for j in range(concurrency * 2)]
        i += len(paths)
        latencies = await _batch(client, paths)
        await _batch(client, ["/achievements?limit=20"] * concurrency)
        if max(latencies) < 1.0 and time.monotonic() - started > 3:
            return time.monotonic() - started
    raise RuntimeError(f"the match endpoint was still slow after {limit_s}s of warm-up")


async def run_load(client: httpx.AsyncClient, paths: list[str], clients: int, duration: float) -> dict:
    latencies: list[float] = []
    errors = 0
    counter = 0
    stop_at = time.perf_counter() + duration

    async def worker(offset: int) -> None:
        nonlocal errors, counter
        k = offset
        while time.perf_counter() < stop_at:
            path = paths[k % len(paths)]
            k += clients
            started = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - started
            if ok:
                latencies.append(elapsed)
            else:
                errors += 1
            counter += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    wall = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": counter, "ok": len(latencies), "errors": errors, "wall": wall, "rps": len(latencies) / wall,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99)}


WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "errors": %%d, "wall_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def connection_split(port: int) -> str:
    """How the client's keep-alive connections are spread over the server's worker processes, e.g. "5/3": the
    busier worker sets the tail. Before matchmaker/serving.py the first worker awake accepted all that waited, and
    8 connections split anywhere from 4/4 to 8/0."""
    def sockets(side: str) -> list[str]:
        return subprocess.run(["ss", "-tnpH", "state", "established", side, f"= :{port}"], capture_output=True,
                              text=True).stdout.splitlines()

    # wrk's own connections only (the warm-up's Python client may still hold idle ones): their local ports,
    # then the server's sockets whose peer is one of them.
    wrk_ports = {line.split()[2].rsplit(":", 1)[1] for line in sockets("dport") if '"wrk"' in line}
    served = Counter(re.search(r"pid=(\d+)", line).group(1) for line in sockets("sport")
                     if line.split()[3].rsplit(":", 1)[1] in wrk_ports and "pid=" in line)
    counts = sorted(served.values(), reverse=True)
    return "/".join(map(str, counts + [0] * (len(counts) == 1))) or "?"   # "8/0": all on one worker


def run_wrk(base_url: str, token: str, paths: list[str], clients: int, duration: float, folder: Path) -> dict:
    """The same load from wrk: one thread, `clients` keep-alive connections, each path in turn."""
    script = folder / "load.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "token": token})
    process = subprocess.Popen(["wrk", "-t1", f"-c{clients}", f"-d{int(duration)}s", "--timeout", "10s", "-s",
                                str(script), base_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(min(3.0, duration / 2))
    split = connection_split(int(base_url.rsplit(":", 1)[1]))
    stdout, stderr = process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk failed: {stderr}")
    found = json.loads(stdout.split("RESULT ", 1)[1].splitlines()[0])
    wall = found["wall_us"] / 1e6
    return {"requests": found["requests"], "ok": found["requests"] - found["errors"], "errors": found["errors"],
            "wall": wall, "rps": (found["requests"] - found["errors"]) / wall, "split": split,
            **{p: found[p] / 1000 for p in ("p50", "p95", "p99")}}


async def benchmark(base_url: str, token: str, demand_ids: list[int], clients: int, duration: float,
                    tools: list[str], folder: Path, kept_rankings: int) -> dict:
    match_paths = match_paths_of(demand_ids)
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    results = {"match_paths": len(match_paths)}
    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=limits)

    # Each load on connections of its own: the workers balance open connections, idle ones included, so a client
    # left open from the warm-up would tilt wrk's split (5/3 seen).
    async with client() as warming:
        results["warm_up_s"] = await warm(warming, match_paths, clients, kept_rankings)
        results["ranker"] = (await warming.get(match_paths[0])).json()["ranker"]
    for tool in tools:
        for name, paths in (("baseline", ["/achievements?limit=20"]), ("match", match_paths)):
            if tool == "wrk":
                results[tool, name] = await asyncio.to_thread(run_wrk, base_url, token, paths, clients, duration,
                                                              folder)
            else:
                async with client() as loading:
                    results[tool, name] = await run_load(loading, paths, clients, duration)
    return results


def match_paths_of(demand_ids: list[int]) -> list[str]:
    return [f"/demands/{d}/matches" for d in demand_ids[:: max(1, len(demand_ids) // 500)]]


async def warm(client: httpx.AsyncClient, paths: list[str], clients: int, kept_rankings: int) -> float:
    """Every worker has its matcher; with kept rankings, each demand's matches are asked for four times more, so
    most demands have been seen by every worker (which worker answers depends on the connection: about 1 in 16
    demands is still new to one of two). Returns the warm-up's seconds."""
    seconds = await warm_up(client, paths, clients)
    for _ in range(4 if kept_rankings else 0):
        await _batch(client, paths)
    return seconds


async def warm_server(base_url: str, token: str, paths: list[str], clients: int, kept_rankings: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        await warm(client, paths, clients, kept_rankings)


def balanced(url: str, tmp: Path, token: str, demand_ids: list[int], workers: int, clients: int, duration: float,
             kept_rankings: int) -> dict:
    """The same load balanced by hand, as a least-connections balancer in front would: `workers` single-worker
    servers on ports of their own, each loaded at the same time by its own wrk with clients / workers connections.
    Against the shared socket of `serve --workers`, whose workers balance by their own counts (serving.py)."""
    servers = []
    for n in range(workers):
        (tmp / f"balanced-{n}").mkdir()
        servers.append(Server(url, tmp / f"balanced-{n}", 1, kept_rankings))
    paths = match_paths_of(demand_ids)
    results = {}
    try:
        for server in servers:
            server.wait()
            asyncio.run(warm_server(server.base_url, token, paths, clients // workers, kept_rankings))
        for name, load in (("baseline", ["/achievements?limit=20"]), ("match", paths)):
            with ThreadPoolExecutor(len(servers)) as pool:
                results[name] = list(pool.map(lambda n: run_wrk(servers[n].base_url, token, load, clients // workers,
                                                                duration, tmp / f"balanced-{n}"), range(workers)))
    finally:
        for server in servers:
            server.stop()
    return results


def balanced_table(results: dict, workers: int, clients: int) -> str:
    lines = [f"Balanced by hand: {workers} single-worker servers, {clients // workers} wrk connections each, at once.",
             "", "| endpoint | req/s, all servers | req/s each | p50 ms each | p95 ms each | p99 ms each |",
             "|---|---:|---|---|---|---|"]
    for name, label in (("baseline", "`GET /achievements?limit=20`"), ("match", "`GET /demands/{id}/matches`")):
        each = results[name]
        lines.append(f"| {label} | {sum(r['rps'] for r in each):.1f} | " + " | ".join(
            " / ".join(f"{r[key]:.1f}" for r in each) for key in ("rps", "p50", "p95", "p99")) + " |")
    return "\n".join(lines)


def table(runs: dict, clients: int, tools: list[str]) -> str:
    lines = ["| kept rankings | client | endpoint | clients | per worker | duration s | requests | errors | req/s "
             "| p50 ms | p95 ms | p99 ms |", "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kept, results in runs.items():
        for tool in tools:
            for name, label in (("baseline", "`GET /achievements?limit=20` (baseline)"),
                                ("match", f"`GET /demands/{{id}}/matches` (k=10, {results['match_paths']} demands)")):
                r = results[tool, name]
                if name == "match" and results.get("ranker"):
                    label += f", ranker {results['ranker']}"
                lines.append(f"| {kept} | {tool} | {label} | {clients} | {r.get('split', '-')} | {r['wall']:.1f} | "
                             f"{r['requests']:,} | "
                             f"{r['errors']} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} |")
    return "\n".join(lines)


def append_readme(text_block: str) -> None:
    readme = ROOT / "benchmarks" / "README.md"
    existing = readme.read_text()
    heading = "## API load"
    with open(readme, "a") as out:
        if heading not in existing:
            out.write(f"\n{heading}\n")
        out.write("\n" + text_block + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (asyncio tasks, keep-alive)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="`matchmaker serve --workers`")
    parser.add_argument("--tools", default="httpx,wrk", help="load clients, in turn: httpx (Python), wrk (C)")
    parser.add_argument("--kept-rankings", default="0,2000",
                        help="one server per value of MATCHMAKER_KEPT_RANKINGS, in turn (0 = score every request)")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL (postgresql://127.0.0.1:5432/test): "
                        "the world goes into a new database mm_load on it instead of a SQLite file")
    parser.add_argument("--balanced", action="store_true",
                        help="then the same load on --workers single-worker servers, one wrk each (wrk needed), "
                             "with the last --kept-rankings value")
    parser.add_argument("--readme", action="store_true", help="append the results to benchmarks/README.md")
    parser.add_argument("--semantic", action="store_true",
                        help="embed every open record first (the worker's job), so matches are ranked tfidf+semantic")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mm-load-") as tmp_name:
        tmp = Path(tmp_name)
        url = fresh_postgres(args.postgres) if args.postgres else f"sqlite:///{tmp / 'province.db'}"
        started = time.monotonic()
        token, demand_ids, counts = build_world(url)
        print(f"province world built in {time.monotonic() - started:.1f}s: {counts}", file=sys.stderr)
        if args.semantic:
            from matchmaker.db import make_engine, make_session_factory
            from matchmaker.matching.embedding import embed_pending

            started = time.monotonic()
            engine = make_engine(url)
            done = embed_pending(make_session_factory(engine))
            engine.dispose()
            print(f"embedded {done} records in {time.monotonic() - started:.0f}s", file=sys.stderr)
        tools = args.tools.split(",")
        runs = {}
        for kept in (int(value) for value in args.kept_rankings.split(",")):
            server = Server(url, tmp, args.workers, kept)
            try:
                server.wait()
                runs[kept] = asyncio.run(benchmark(server.base_url, token, demand_ids, args.clients, args.duration,
                                                   tools, tmp, kept))
            finally:
                server.stop()
            print(f"kept rankings {kept}: warm-up {runs[kept]['warm_up_s']:.1f}s", file=sys.stderr)
        if args.balanced:
            by_hand = balanced(url, tmp, token, demand_ids, args.workers, args.clients, args.duration, max(runs))

    rendered = table(runs, args.clients, tools)
    if args.balanced:
        rendered += "\n\n" + balanced_table(by_hand, args.workers, args.clients)
    print(rendered)
    if args.readme:
        command = "python " + " ".join([os.path.relpath(__file__, ROOT)] + sys.argv[1:])
        results = runs[max(runs)]
        ratio = results[tools[0], "baseline"]["rps"] / results[tools[0], "match"]["rps"]
        block = (f"Command: `{command}` — run {dt.date.today().isoformat()} on {platform.node() or 'this machine'} "
                 f"({os.cpu_count()} cores, shared; client and server on the same machine, over loopback). "
                 f"Province world (seed 1, {counts.get('achievements', '?'):,} achievements, "
                 f"{counts.get('demands', '?'):,} demands) in a SQLite file; `matchmaker serve --workers {args.workers}`; "
                 f"{args.clients} concurrent keep-alive clients ({args.tools}), {args.duration:.0f} s per endpoint after "
                 f"a {results['warm_up_s']:.0f} s warm-up in which both workers built or loaded the matcher. "
                 f"The listing serves {ratio:.1f}× the match endpoint's requests/s.\n\n{rendered}")
        append_readme(block)


if __name__ == "__main__":
    main()
