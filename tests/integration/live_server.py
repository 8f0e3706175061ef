"""Helpers for tests against a real `matchmaker serve` process: a cheap deal world, start/stop, signing terms."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import create_user
from matchmaker.models import Achievement, Broker, Demand, Organisation, Pipeline, Region

MATCHMAKER = Path(sys.executable).with_name("matchmaker")


@dataclass
class DealWorld:
    """Brokers' tokens and, per broker, the negotiating pipelines it will sign."""

    tokens: list[str]
    pipelines: list[list[int]]


def build_deal_world(url: str, *, brokers: int, deals_per_broker: int) -> DealWorld:
    """One firm, one university, one agency; a published demand/achievement pair and a negotiating pipeline per deal."""
    engine = make_engine(url)
    deals = brokers * deals_per_broker
    with engine.begin() as conn:
        buyer_region, seller_region = conn.scalars(
            select(Region.code).where(Region.level == "city").order_by(Region.code).limit(2)).all()
        firm, office, agency = (conn.execute(insert(Organisation).returning(Organisation.id), [
            {"name": name, "kind": kind, "region_code": region}]).scalar_one()
            for name, kind, region in [("并发测试企业", "enterprise", buyer_region),
                                       ("并发测试大学", "university", seller_region),
                                       ("并发测试转移机构", "agency", buyer_region)])
        demand_ids = _insert_ids(conn, Demand, [
            {"title": f"需求{i}", "status": "published", "organisation_id": firm, "region_code": buyer_region}
            for i in range(deals)])
        achievement_ids = _insert_ids(conn, Achievement, [
            {"title": f"成果{i}", "status": "published", "organisation_id": office, "region_code": seller_region}
            for i in range(deals)])
    tokens = []
    factory = make_session_factory(engine)
    for n in range(brokers):
        with transaction(factory) as session:
            _, token = create_user(session, role="broker", organisation_id=agency, name=f"经纪人{n}")
        tokens.append(token)
    with engine.begin() as conn:
        broker_ids = list(conn.scalars(select(Broker.id).where(Broker.agency_id == agency).order_by(Broker.id)))
        rows = [{"demand_id": d, "achievement_id": a, "broker_id": broker_ids[i // deals_per_broker],
                 "stage": "negotiating", "version": 3} for i, (d, a) in enumerate(zip(demand_ids, achievement_ids))]
        pipeline_ids = _insert_ids(conn, Pipeline, rows)
    noticed(engine, pipeline_ids)   # the university's price notices, published and ended: signing may happen
    engine.dispose()
    per_broker = [pipeline_ids[i * deals_per_broker:(i + 1) * deals_per_broker] for i in range(brokers)]
    return DealWorld(tokens, per_broker)


def _insert_ids(conn, model, rows: list[dict]) -> list[int]:
    conn.execute(insert(model), rows)
    return list(conn.scalars(select(model.id).order_by(model.id)))[-len(rows):]


def noticed(engine, pipeline_ids) -> None:
    """A 协议定价公示 for each pipeline's pair, published three weeks ago and ended: the platform refuses to sign a
    negotiated transfer or licence of a university's or institute's achievement without one (trading.price_notices);
    tests about something else publish it, as the office would before signing."""
    from sqlalchemy.orm import Session

    from matchmaker.trading.price_notices import record_notice

    ids = [pipeline_ids] if isinstance(pipeline_ids, int) else list(pipeline_ids)
    with Session(engine) as session, session.begin():
        pairs = session.execute(select(Achievement, Demand.organisation_id)
                                .join(Pipeline, Pipeline.achievement_id == Achievement.id)
                                .join(Demand, Demand.id == Pipeline.demand_id).where(Pipeline.id.in_(ids))).all()
        for achievement, buyer_id in pairs:
            record_notice(session, achievement, buyer_id=buyer_id, price=100000,
                          starts_on=dt.date.today() - dt.timedelta(days=21))


def contract_terms(n: int) -> dict:
    """Distinct, exact amounts so a replayed body can be told from another request's."""
    return {"contract_type": "licence", "amount": f"{100000 + n}.{n % 100:02d}", "certified_amount": f"{50000 + n}.00",
            "payment_mode": "instalments", "signed_on": dt.date.today().isoformat()}


@contextlib.asynccontextmanager
async def own_clients(base_url: str, count: int, *, timeout: float):
    """`count` HTTP clients, one per simulated person, as people at their own computers are. One client with a
    pool of a hundred connections made httpx's pool (httpcore 1.0) walk every connection for every request: 70% of
    the auction test's client CPU (py-spy), taken from the server it was loading and from the other tests."""
    context = ssl.create_default_context()   # one for all: each client would make its own (21 ms of CPU)
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=timeout, verify=context))
               for _ in range(count)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`matchmaker serve` in its own process group, so kill -9 reaches the uvicorn workers too."""

    def __init__(self, url: str, tmp: Path, *, workers: int, job_worker: bool = False) -> None:
        # No job worker unless a test needs one: embedding the demo world in the background would take a core
        # from the test and change rankings while it runs.
        self.url, self.tmp, self.workers, self.job_worker = url, tmp, workers, job_worker
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    # Generous: a server starts in about 7 s on a quiet machine (imports, the app's routes, the index); on two
    # cores shared with other work that was seen to pass 30 s. The timeout catches a hung server, not a slow one.
    def start(self, timeout: float = 90) -> Server:
        env = {**os.environ, "MATCHMAKER_DATABASE_URL": self.url, "MATCHMAKER_INDEX_DIR": str(self.tmp / "index")}
        log = self.tmp / f"server-{self.port}.log"
        with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [str(MATCHMAKER), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                 "--job-worker" if self.job_worker else "--no-job-worker"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        # One client for the polls: each `httpx.get` builds a TLS context (24 ms of CPU), and a start polls 30 times.
        with httpx.Client(timeout=1) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}; see {log}")
                try:
                    if client.get(f"{self.base_url}/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server did not answer /health within {timeout}s")

    def kill(self) -> None:
        """SIGKILL the server's process group: no shutdown hooks, no flushing, like a power cut for the process."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return (self.tmp / f"server-{self.port}.log").read_text(errors="replace")
