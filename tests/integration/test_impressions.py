"""The impression log end to end on the demo world: what is logged where, simulated firms' verdicts, the off-policy
estimate against the truth, learn-weights on the log, the interleaving report and the CLI that prints them."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory
from matchmaker.matching.counterfactual import rescore
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.models import Demand, Impression
from matchmaker.simulation.people import study
from matchmaker.vocabulary import Library, Surface

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the rules live in Python

SHIPPED = ScoreWeights(semantic=0.0)


def test_every_list_shown_is_logged_with_who_where_and_its_pool(api):
    firm = api.users.headers("firm", api.orgs.firm)
    demand = api.get("/demands", params={"organisation_id": api.orgs.firm, "status": "published"},
                     headers=firm).json()["items"][0]
    shown = api.get(f"/demands/{demand['id']}/matches", params={"k": 5}, headers=firm).json()["items"]
    with api.users.engine.connect() as conn:
        rows = conn.execute(select(Impression).where(Impression.demand_id == demand["id"])
                            .order_by(Impression.pool_rank)).all()
    assert {r.surface for r in rows} == {"api"} and len({r.slate for r in rows}) == 1
    assert [r.achievement_id for r in rows if r.shown_rank] == [m["id"] for m in shown]
    assert len(rows) == 20 and all(r.user_id is not None for r in rows)   # the pool: 5 shown, 15 that could be
    assert all(r.propensity == 1.0 for r in rows if r.shown_rank) and all(r.propensity == 0 for r in rows if not r.shown_rank)
    assert {"text_z", "violations", "relevance"} <= set(rows[0].features) and rows[0].ranker.startswith("tfidf")


def test_a_writer_behind_the_requests_logs_each_shown_list_within_moments(api):
    """Server processes log shown lists in batches (`ImpressionWriter`): the request leaves its rows to the writer,
    which stores them at its next beat, in the same form as a request that writes them itself."""
    import time

    from matchmaker.matching import impressions
    from matchmaker.matching.service import MatchingService

    firm = api.users.headers("firm", api.orgs.firm)
    demand_id = api.get("/demands", params={"organisation_id": api.orgs.firm, "status": "published"},
                        headers=firm).json()["items"][0]["id"]
    factory = api.app.state.session_factory
    writer = impressions.ImpressionWriter(factory, every=0.05)
    service = MatchingService(api.app.state.settings, factory, impressions_behind=writer).start()

    def logged() -> int:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(Impression).where(Impression.demand_id == demand_id))

    try:
        with factory() as session, session.begin():
            shown = service.show(session, record=session.get(Demand, demand_id), target=Library.ACHIEVEMENTS, k=5,
                                 surface=Surface.API, user_id=None)
        deadline = time.monotonic() + 5
        while logged() < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert logged() == 20
        with factory() as session:
            rows = session.execute(select(Impression.achievement_id, Impression.shown_rank)
                                   .where(Impression.demand_id == demand_id)).all()
        assert sorted((r.shown_rank, r.achievement_id) for r in rows if r.shown_rank) == \
            [(n, int(m.id)) for n, m in enumerate(shown, 1)]
    finally:
        writer.close()


def test_a_server_leaves_its_shown_lists_to_the_writer_and_a_clean_stop_writes_them(seeded_url, tmp_path, monkeypatch):
    """`matchmaker serve` logs behind the request; with a beat longer than the test, only the shutdown hook can have
    written the rows, so this is the proof that a clean stop loses no shown list."""
    import httpx
    from live_server import Server

    from matchmaker.db import transaction
    from matchmaker.identity.services import create_user

    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        demand = session.scalar(select(Demand).where(Demand.status == "published").order_by(Demand.id).limit(1))
        demand_id = demand.id
        _, token = create_user(session, role="firm", organisation_id=demand.organisation_id, name="日志企业")

    def logged() -> int:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(Impression).where(Impression.demand_id == demand_id))

    monkeypatch.setenv("MATCHMAKER_IMPRESSIONS_EVERY", "600")
    server = Server(seeded_url, tmp_path, workers=1).start()
    try:
        answer = httpx.get(f"{server.base_url}/demands/{demand_id}/matches", timeout=60,
                           headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert logged() == 0   # answered, its rows still waiting in the process
    finally:
        server.stop()
    assert logged() == 20
    engine.dispose()


def test_simulated_firms_the_estimate_the_learning_and_the_interleaving(seeded_url, tmp_path):
    engine = make_engine(seeded_url)
    settings = Settings(database_url=seeded_url, index_dir=tmp_path / "index", semantic=False, exploration=0.5)
    weights_file = tmp_path / "strict.json"
    weights_file.write_text(json.dumps({"weights": dataclasses.asdict(dataclasses.replace(SHIPPED, trl=1.5))}))
    candidates = {"shipped": SHIPPED, "reversed": lambda features: -rescore(features, SHIPPED)}
    out = study(make_session_factory(engine), settings, demands=80, candidates=candidates,
                interleave_with=str(weights_file), seed=3)
    assert out["slates"] == 80 and out["shown"] == 800
    shipped, reversed_ = out["candidates"]["shipped"], out["candidates"]["reversed"]
    # The logging ranker is judged on what it showed; the reversed one only through exploration.
    assert shipped["log_covers"] > 0.9 and reversed_["log_covers"] < 0.2
    assert shipped["snips"] == pytest.approx(shipped["true"], abs=0.03)
    assert reversed_["true"] < shipped["true"] and reversed_["snips"] < shipped["snips"]
    assert "weights" in out["learned"] or "error" in out["learned"]
    report = out["interleaving"]
    assert report["slates"] == 80 and report["wins_a"] + report["wins_b"] + report["ties"] == report["with_interest"]
    with engine.connect() as conn:
        surfaces = dict(conn.execute(select(Impression.surface, func.count()).group_by(Impression.surface)).all())
        teams = conn.scalar(select(func.count()).select_from(Impression).where(Impression.team.is_not(None)))
    assert surfaces == {"page": surfaces["page"]} and teams == 800
    engine.dispose()

    from matchmaker.cli import app

    result = CliRunner().invoke(app, ["counterfactual"], env={"MATCHMAKER_DATABASE_URL": seeded_url,
                                                              "MATCHMAKER_INDEX_DIR": str(tmp_path / "index")})
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output[result.output.index("{"):])
    assert printed["interleaving"]["slates"] == 80 and printed["current"]["slates"] == 80


def test_a_push_is_logged_as_a_slate_of_its_own(api):
    with api.users.engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(Impression).where(Impression.surface == "push"))
        demand = conn.execute(select(Demand).where(Demand.status == "published", Demand.organisation_id == api.orgs.firm)
                              .limit(1)).first()
    office, admin = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform)
    a_id = api.post("/achievements", json={"title": demand.title, "summary": demand.problem, "field": demand.field_code,
                                           "trl": 6},
                    headers=office).json()["id"]
    api.post(f"/achievements/{a_id}/submit", headers=office)
    assert api.post(f"/achievements/{a_id}/approve", headers=admin).status_code == 200
    with api.users.engine.connect() as conn:
        pushed = conn.execute(select(Impression).where(Impression.surface == "push",
                                                       Impression.achievement_id == a_id)).all()
        after = conn.scalar(select(func.count()).select_from(Impression).where(Impression.surface == "push"))
    assert after > before and pushed and all(r.shown_rank and r.user_id is None for r in pushed)
    assert demand.id in {r.demand_id for r in pushed}
