"""Where an API request's time goes (issue 17: "the time goes elsewhere; profile it"): three routes through the
whole application, in-process (ASGI calls one after another: no HTTP, no client competing for the cores), next to
what each handler's body does (its service calls and output structs), timed alone in the same run. What is left is
the web framework's share: routing, dependency injection, the hops to and from worker threads, validating
parameters and encoding the answer as JSON.

    GET /fields                      authentication + one 14-row query: the floor of any authenticated route
    GET /achievements?limit=20       the library's first page as a broker
    GET /demands/{id}/matches        the match endpoint (k=10), as a broker: each demand's ranking kept from its
                                     first view, then scored every time (MATCHMAKER_KEPT_RANKINGS=0)

    python -m benchmarks.speed.request_cost --scale province --repeat 300 [--world FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.common import scratch_settings
from matchmaker import migrate
from matchmaker import vocabulary as v
from matchmaker.app import create_app
from matchmaker.catalog import confidential, directory
from matchmaker.catalog import services as catalog
from matchmaker.catalog.controllers import achievement_out
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.authentication import _actor_for_token
from matchmaker.identity.services import create_user
from matchmaker.matching.presenting import match_list
from matchmaker.matching.service import LATE_COMMIT_GRACE, matching_service
from matchmaker.models import Demand, Organisation
from matchmaker.simulation.runs import world_file


def timings(call, repeat: int) -> tuple[float, float]:
    """(p50, p95) ms of `call(i)` over `repeat` calls, after a warm-up."""
    for i in range(10):
        call(i)
    times = []
    for i in range(repeat):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


class AsgiCaller:
    """GET requests straight into the application's ASGI callable, on one event loop, lifespan started."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._startup())

    async def _startup(self) -> None:
        started = asyncio.Event()
        messages: asyncio.Queue = asyncio.Queue()
        await messages.put({"type": "lifespan.startup"})

        async def send(message):
            if message["type"] == "lifespan.startup.complete":
                started.set()
            elif message["type"] == "lifespan.startup.failed":
                raise RuntimeError(message.get("message"))

        self._lifespan = asyncio.ensure_future(self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                                        messages.get, send))
        await started.wait()

    async def _get(self, target: str) -> int:
        path, _, query = target.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
                 "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {self.token}".encode())]}
        status = {}

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]

        await self.app(scope, receive, send)
        return status["code"]

    def get(self, target: str) -> None:
        code = self.loop.run_until_complete(self._get(target))
        if code != 200:
            raise RuntimeError(f"GET {target} answered {code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--world", default=None, help="an existing world database (copied, never written)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        scratch = scratch_settings(folder)
        migrate.upgrade(scratch.database_url)
        world = Path(folder) / "world.db"
        shutil.copy(args.world or world_file(scratch, args.scale, 1), world)
        url = f"sqlite:///{world}"
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            agency = session.scalar(select(Organisation.id).where(Organisation.kind == "agency").order_by(Organisation.id))
            _, token = create_user(session, role="broker", organisation_id=agency, name="request-cost")
            demands = list(session.scalars(select(Demand.id).where(Demand.status == "published")
                                           .order_by(Demand.id).limit(200)))
        settings = Settings(database_url=url, index_dir=Path(folder) / "index", warm_matcher=False)
        app = create_app(settings)
        caller = AsgiCaller(app, token)
        service = matching_service(app.state)   # the app's own matcher: built here, before any timing
        actor = _actor_for_token(engine, token)

        def demand(i: int):
            with transaction(factory) as session:
                return catalog.get_record(session, actor=actor, spec=DEMANDS, record_id=demands[i % len(demands)])

        def fields(_i: int) -> None:
            with factory() as session:
                directory.list_fields(session)

        def listing(_i: int) -> None:   # the handler's body: the page, who may read what, the output structs
            with transaction(factory) as session:
                rows, _ = catalog.list_records(session, actor=actor, spec=ACHIEVEMENTS, query=catalog.ListQuery(limit=20))
                readable = confidential.confidential_readable(session, actor, rows)
                [achievement_out(r, actor, readable) for r in rows]

        def matching(i: int) -> None:
            record = demand(i)
            with transaction(factory) as session:
                shown = service.show(session, record=record, target=v.Library.ACHIEVEMENTS, k=10,
                                     surface=v.Surface.API, user_id=actor.user_id)
                match_list(session, ACHIEVEMENTS, record, shown, directory.field_names(app.state))

        # Past the start-up window first: for LATE_COMMIT_GRACE after a start every match re-reads the change log's
        # recent rows (here the start's own expiries), which is not what a request costs in steady state.
        warm_until = time.perf_counter() + LATE_COMMIT_GRACE.total_seconds()
        while time.perf_counter() < warm_until:
            caller.get(f"/demands/{demands[0]}/matches")
        auth = timings(lambda _i: _actor_for_token(engine, token), args.repeat)
        for demand_id in demands:   # each demand's ranking kept once, as after its first view
            caller.get(f"/demands/{demand_id}/matches")
        rows = [
            ("`GET /fields`", timings(lambda _i: caller.get("/fields"), args.repeat),
             timings(fields, args.repeat)),
            ("`GET /achievements?limit=20`", timings(lambda _i: caller.get("/achievements?limit=20"), args.repeat),
             timings(listing, args.repeat)),
            ("`GET /demands/{id}/matches` (k=10), kept rankings",
             timings(lambda i: caller.get(f"/demands/{demands[i % len(demands)]}/matches"), args.repeat),
             timings(matching, args.repeat)),
        ]
        # The same, scoring every request (MATCHMAKER_KEPT_RANKINGS=0): what a demand's first view costs.
        service.settings = dataclasses.replace(service.settings, kept_rankings=0)
        service._forget_rankings()
        rows.append(("`GET /demands/{id}/matches` (k=10), scored each time",
                     timings(lambda i: caller.get(f"/demands/{demands[i % len(demands)]}/matches"), args.repeat),
                     timings(matching, args.repeat)))
        print(f"{args.scale} world, {args.repeat} calls each, in-process, one at a time (ms); authentication alone "
              f"p50 {auth[0]:.2f}\n")
        print("| route | whole request p50 | p95 | the handler's body p50 | authentication p50 | the rest (framework) "
              "p50 | requests/s per core (p50) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, (whole50, whole95), service_times in rows:
            own = service_times[0]
            print(f"| {label} | {whole50:.2f} | {whole95:.2f} | {own:.2f} | {auth[0]:.2f} | "
                  f"{whole50 - own - auth[0]:.2f} | {1000 / whole50:.0f} |")
        engine.dispose()


if __name__ == "__main__":
    main()
