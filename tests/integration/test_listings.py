"""Fixed-price listings (挂牌, issue 16): 50 firms accept one listing at once against a real server with two
workers — exactly one wins, the other 49 get 409 — on SQLite and PostgreSQL; unaccepted listings expire and are
relisted at a new price; only the achievement's office lists, only a reviewed firm accepts."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import httpx
import pytest
from live_server import Server, own_clients
from sqlalchemy import select

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import actor_of, create_user
from matchmaker.models import Achievement, Listing, Organisation, User
from matchmaker.trading import listings

pytestmark = pytest.mark.trading

BIDDERS = 50
NOW = dt.datetime.now(dt.UTC)


def _office_and_achievement(factory):
    with transaction(factory) as session:
        achievement = session.scalar(select(Achievement).where(
            Achievement.status == "published", Achievement.organisation_id.is_not(None)).order_by(Achievement.id))
        user, token = create_user(session, role="office", organisation_id=achievement.organisation_id, name="挂牌人")
        return achievement.id, user.id, token


def _firms(factory, n: int) -> list[tuple[int, str]]:
    with transaction(factory) as session:
        orgs = session.scalars(select(Organisation.id).where(Organisation.kind == "enterprise",
                                                              Organisation.status == "active")
                               .order_by(Organisation.id).limit(n)).all()
        assert len(orgs) == n, f"the demo world has {len(orgs)} firms"
        out = []
        for org in orgs:
            _, token = create_user(session, role="firm", organisation_id=org, name=f"摘牌企业{org}")
            out.append((org, token))
        return out


@pytest.mark.slow
def test_fifty_acceptances_at_once_give_one_winner_and_409_for_the_rest(seeded_url, tmp_path):
    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    achievement_id, _, office_token = _office_and_achievement(factory)
    firms = _firms(factory, BIDDERS)
    server = Server(seeded_url, tmp_path, workers=2).start(timeout=60)
    try:
        listed = httpx.post(f"{server.base_url}/listings", headers={"Authorization": f"Bearer {office_token}"}, json={
            "achievement_id": achievement_id, "price": "880000.00",
            "ends_at": (NOW + dt.timedelta(days=30)).isoformat()}, timeout=30)
        assert listed.status_code == 201, listed.text
        listing_id = listed.json()["id"]

        async def everyone() -> list[httpx.Response]:
            async with own_clients(server.base_url, len(firms), timeout=60) as clients:
                start = asyncio.Event()

                async def accept(client: httpx.AsyncClient, token: str) -> httpx.Response:
                    await start.wait()
                    return await client.post(f"/listings/{listing_id}/accept",
                                             headers={"Authorization": f"Bearer {token}"})

                tasks = [asyncio.create_task(accept(client, token)) for client, (_, token) in zip(clients, firms)]
                await asyncio.sleep(0.2)
                start.set()
                return await asyncio.gather(*tasks)

        answers = asyncio.run(everyone())
    finally:
        server.stop()
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1 and statuses.count(409) == BIDDERS - 1, statuses
    winner = next(a for a in answers if a.status_code == 200).json()
    assert winner["contract_draft"]["amount"] == "880000.00"
    assert all("已被其他企业摘牌" in a.json()["detail"] for a in answers if a.status_code == 409)
    with transaction(factory) as session:
        stored = session.get(Listing, listing_id)
        assert (stored.status, stored.buyer_id) == ("accepted", winner["listing"]["buyer_id"])
    engine.dispose()


def test_a_listing_expires_unaccepted_and_is_relisted_at_a_new_price(seeded_url):
    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    achievement_id, office_user, _ = _office_and_achievement(factory)
    (firm_org, _), = _firms(factory, 1)
    with transaction(factory) as session:
        office = actor_of(session, office_user)
        first = listings.create_listing(session, actor=office, achievement_id=achievement_id,
                                        price=Decimal("500000"), ends_at=NOW + dt.timedelta(days=7),
                                        now=NOW)
        with pytest.raises(Exception, match="已有进行中的挂牌"):
            listings.create_listing(session, actor=office, achievement_id=achievement_id,
                                    price=Decimal("1"), ends_at=NOW + dt.timedelta(days=7), now=NOW)
        first_id = first.id
    later = NOW + dt.timedelta(days=8)
    with transaction(factory) as session:
        firm_user = session.scalar(select(User).where(User.organisation_id == firm_org).order_by(User.id.desc()))
        firm = actor_of(session, firm_user.id)
        with pytest.raises(Exception, match="已结束"):
            listings.accept_listing(session, actor=firm, listing_id=first_id, now=later)
    with transaction(factory) as session:
        office = actor_of(session, office_user)
        again = listings.relist(session, actor=office, listing_id=first_id,
                                price=Decimal("400000"), ends_at=later + dt.timedelta(days=7),
                                now=later)
        assert (again.previous_id, f"{again.price:.0f}") == (first_id, "400000")
        assert session.get(Listing, first_id).status == "expired"
        with pytest.raises(Exception, match="摘自己单位|企业"):
            listings.accept_listing(session, actor=office, listing_id=again.id, now=later)
    engine.dispose()
