"""Server time of every main page on the province world, next to the plain JSON listing, in one in-process run.

    python benchmarks/page_speed.py [--requests 20] [--write]

Generates the province world (seed 1) into a temporary SQLite file, adds the demo users and a few
deals through the brokerage services, then times each page with Litestar's TestClient after a
warm-up (the first match query builds the matcher). --write appends the table to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import select

from matchmaker import migrate
from matchmaker.app import create_app
from matchmaker.brokerage.contracts import sign_contract
from matchmaker.brokerage.pipelines import claim_pipeline, move_pipeline
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import actor_of, create_user
from matchmaker.models import Achievement, Demand, SimulationRun, User
from matchmaker.trading.price_notices import record_notice
from matchmaker.reference import sync_reference_data
from matchmaker.identity.demo import ensure_demo_users
from matchmaker.world.generate import generate_world

TARGET_MS = 200
README = Path(__file__).with_name("README.md")


def prepare(folder: Path) -> tuple[str, dict, dict]:
    url = f"sqlite:///{folder / 'province.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sync_reference_data(engine)
    started = time.perf_counter()
    generate_world(engine, scale="province", seed=1)
    print(f"province world generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        users = {login.removeprefix("demo_"): (login, password) for _role, login, password, _ in ensure_demo_users(session)}
        ids = _deals(session)
        analyst = session.scalar(select(User).where(User.name == users["analyst"][0]))
        _, token = create_user(session, role="analyst", organisation_id=analyst.organisation_id, name="bench-api")
        _simulation_runs(session)
    engine.dispose()
    return url, users, {**ids, "token": token}


def _deals(session) -> dict:
    """Ten claimed pairs for the demo broker, three negotiating, one signed: the board and contract pages have rows."""
    broker = session.scalar(select(User).where(User.login == "demo_broker"))
    actor = actor_of(session, broker.id)
    today = dt.date.today()
    demands = session.scalars(select(Demand).where(Demand.status == "published", (Demand.deadline.is_(None)) | (Demand.deadline > today)).order_by(Demand.id).limit(10)).all()
    achievements = session.scalars(select(Achievement).where(Achievement.status == "published", (Achievement.expires_on.is_(None)) | (Achievement.expires_on > today)).order_by(Achievement.id).limit(10)).all()
    pipelines = [claim_pipeline(session, actor=actor, demand_id=d.id, achievement_id=a.id, score=0.4)
                 for d, a in zip(demands, achievements)]
    for p in pipelines[:4]:
        move_pipeline(session, actor=actor, pipeline_id=p.id, to_stage="contacted")
        move_pipeline(session, actor=actor, pipeline_id=p.id, to_stage="negotiating")
    # the university's price notice, ended: signing may happen
    record_notice(session, achievements[0], buyer_id=demands[0].organisation_id, price=Decimal(800000),
                  starts_on=today - dt.timedelta(days=21))
    contract = sign_contract(session, actor=actor, pipeline_id=pipelines[0].id, contract_type="licence",
                             amount=Decimal(800000), payment_mode="lump_sum", signed_on=today)
    office = session.scalar(select(User).where(User.login == "demo_office"))
    own = session.scalar(select(Achievement.id).where(Achievement.organisation_id == office.organisation_id,
                                                      Achievement.status == "published").limit(1))
    return {"negotiating": pipelines[1].id, "contract": contract.id, "demand": demands[0].id,
            "achievement": own or achievements[0].id}


def _simulation_runs(session) -> None:
    """Stored runs of the shape run_scenario writes (figures made up: only the page's cost is measured here)."""
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    for i, scenario in enumerate(["baseline", "local_incentive", "more_brokers", "use_first_pay_later"] * 2):
        monthly = [{"month": m, "claimed": 40, "contacted": 30, "negotiating": 20, "signed": 8 + i % 4, "declined": 5,
                    "lapsed": 3, "turnover_yuan": 9_000_000.0 + 100_000 * j, "local_signed": 4, "home_seller_signed": 6,
                    "home_local_signed": 3} for j, m in enumerate(months)]
        session.add(SimulationRun(scenario=scenario, seed=1 + i // 4, world_scale="province", world_seed=1, months=12,
                                  version="bench", levers={}, monthly=monthly, seconds=1.0, summary={
                                      "contracts": 100 + i, "turnover_yuan": 1.1e8, "certified_yuan": 9e7,
                                      "local_conversion_rate": 0.4 + i / 100, "match_to_signed": 0.05,
                                      "median_days_claim_to_signed": 60.0, "agency_rewards_yuan": 1e5}))


def pages(ids: dict) -> list[tuple[str, str, str]]:
    """(page, role, path) for every main page."""
    return [
        ("office: own achievements + inbox", "office", "/web/office"),
        ("office: achievement with matching demands", "office", f"/web/achievements/{ids['achievement']}"),
        ("office: post achievement form", "office", "/web/achievements/new"),
        ("firm: own demands + inbox", "firm", "/web/firm"),
        ("firm: demand with matching achievements", "firm", f"/web/demands/{ids['demand']}"),
        ("firm: post demand form", "firm", "/web/demands/new"),
        ("broker: work queue", "broker", "/web/broker/queue"),
        ("broker: pipeline board", "broker", "/web/pipelines"),
        ("broker: contract form", "broker", f"/web/pipelines/{ids['negotiating']}/contract"),
        ("broker: contracts", "broker", "/web/contracts"),
        ("analyst: dashboard", "analyst", "/web/analyst"),
        ("analyst: review queue", "analyst", "/web/review?library=achievements"),
        ("analyst: simulation runs", "analyst", "/web/simulations"),
        ("search: achievements, keyword", "analyst", "/web/search?library=achievements&q=%E6%9D%90%E6%96%99"),
        ("search: demands, field + region + TRL", "analyst",
         "/web/search?library=demands&field=new_materials&region=210000&trl_min=3&trl_max=7"),
    ]


def _login(client: TestClient, user: tuple[str, str]) -> None:
    client.get("/web/login")
    response = client.post("/web/login", data={"login": user[0], "password": user[1],
                                               "_csrf_token": client.cookies.get("mm_csrf")})
    assert response.status_code == 200 and "退出登录" in response.text, response.text[:500]


def timed(client: TestClient, path: str, n: int, warmup: int, headers: dict | None = None) -> list[float]:
    for _ in range(warmup):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/README.md")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mm-page-speed-"))
    url, users, ids = prepare(folder)
    app = create_app(Settings(database_url=url, index_dir=folder / "index", secret_key="page-speed-benchmark"))
    rows = []
    with TestClient(app) as client:
        times = timed(client, "/achievements?limit=20", args.requests, args.warmup,
                      headers={"Authorization": f"Bearer {ids['token']}"})
        rows.append(("baseline: JSON `GET /achievements?limit=20`", "api", statistics.median(times), p95(times)))
        role_now = None
        for name, role, path in pages(ids):
            if role != role_now:  # one client, one person at a time: log out, log in as the page's role
                client.cookies.clear()
                _login(client, users[role])
                role_now = role
            times = timed(client, path, args.requests, args.warmup)
            rows.append((f"{name} `{path.split('?')[0]}`", role, statistics.median(times), p95(times)))
            print(f"{name}: median {statistics.median(times):.1f} ms", file=sys.stderr)
    lines = ["| page | role | median ms | p95 ms | ≤ 200 ms |", "|---|---|---:|---:|:---:|"]
    lines += [f"| {name} | {role} | {median:.1f} | {high:.1f} | {'yes' if high <= TARGET_MS else '**no**'} |"
              for name, role, median, high in rows]
    table = "\n".join(lines)
    print(table)
    if args.write:
        command = f"python benchmarks/page_speed.py --requests {args.requests}"
        with README.open("a", encoding="utf-8") as out:
            out.write(f"\n## Page speed\n\n`{command}` ({dt.date.today()}, province world seed 1: 20,000 achievements,"
                      f" 5,000 demands; SQLite; in-process TestClient, {args.requests} requests per page after "
                      f"{args.warmup} warm-up; 2 shared cores). Target: every page ≤ {TARGET_MS} ms.\n\n{table}\n")


if __name__ == "__main__":
    main()
