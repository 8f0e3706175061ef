"""A multi-host deployment (issue 17): two server processes on different ports against one PostgreSQL, as two app
hosts behind a load balancer. An achievement published through one is matchable on the other within a second:
every matcher process replays the shared change log (index_changes) before it answers, so no host serves a stale
index, and nothing but the database connects the hosts."""

from __future__ import annotations

import time

import httpx
import pytest
from live_server import Server
from sqlalchemy import select

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import create_user
from matchmaker.models import Demand, Organisation

PROPAGATION_SECONDS = 1.0


@pytest.fixture
def seeded_postgres_url(postgres_url, templates) -> str:
    return templates.copy_into("seeded", postgres_url)


@pytest.mark.postgres
def test_a_change_through_one_host_is_matchable_on_the_other_within_a_second(seeded_postgres_url, tmp_path):
    url = seeded_postgres_url
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        demand = session.scalar(select(Demand).where(Demand.status == "published").order_by(Demand.id).limit(1))
        university = session.scalar(select(Organisation.id).where(Organisation.kind == "university").limit(1))
        platform = session.scalar(select(Organisation.id).where(Organisation.kind == "government").limit(1))
        _, firm = create_user(session, role="firm", organisation_id=demand.organisation_id, name="两台主机企业")
        _, office = create_user(session, role="office", organisation_id=university, name="两台主机成果办")
        _, admin = create_user(session, role="admin", organisation_id=platform, name="两台主机审核员")
        demand_id, title, field = demand.id, demand.title[:100], demand.field_code
        words = f"{demand.title} {demand.problem or ''} {demand.targets or ''}"[:2000]
    engine.dispose()

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    one, other = Server(url, tmp_path / "a", workers=1), Server(url, tmp_path / "b", workers=1)
    one.start(timeout=90), other.start(timeout=90)
    try:
        with httpx.Client(base_url=one.base_url, timeout=30) as a, httpx.Client(base_url=other.base_url, timeout=30) as b:
            def bearer(token: str) -> dict:
                return {"Authorization": f"Bearer {token}"}

            before = b.get(f"/demands/{demand_id}/matches", params={"k": 10}, headers=bearer(firm))
            assert before.status_code == 200, before.text
            # An answer written in the demand's own words, posted and published through the first host only.
            created = a.post("/achievements", headers=bearer(office), json={
                "title": title, "summary": words, "field": field, "trl": 7,
                "transfer_modes": ["licence"], "asking_price": "300000.00"})
            assert created.status_code == 201, created.text
            new_id = created.json()["id"]
            assert new_id not in [m["id"] for m in before.json()["items"]]
            assert a.post(f"/achievements/{new_id}/submit", headers=bearer(office)).status_code == 200
            approved = a.post(f"/achievements/{new_id}/approve", headers=bearer(admin))
            assert approved.status_code == 200, approved.text
            published_at = time.monotonic()
            while True:
                found = b.get(f"/demands/{demand_id}/matches", params={"k": 10}, headers=bearer(firm))
                waited = time.monotonic() - published_at
                if new_id in [m["id"] for m in found.json()["items"]]:
                    break
                assert waited < PROPAGATION_SECONDS, "the other host did not see the new achievement within 1 s"
                time.sleep(0.05)
            assert waited < PROPAGATION_SECONDS
            # Withdrawn through the other host, it leaves the first host's matches as fast.
            assert b.post(f"/achievements/{new_id}/withdraw", headers=bearer(office)).status_code == 200
            gone = a.get(f"/demands/{demand_id}/matches", params={"k": 10}, headers=bearer(firm))
            assert new_id not in [m["id"] for m in gone.json()["items"]]
            print(f"\ntwo hosts on one PostgreSQL: matchable on the other host {waited * 1000:.0f} ms after publishing")
    finally:
        one.stop(), other.stop()
