"""Auctions (拍卖, issue 16) against a real two-worker server on SQLite and PostgreSQL: many registered firms bid at
once for a while (100 for 10 s in CI; the figures in docs/trading.md, 200 for 60 s) — every accepted bid is
strictly above the one before it, none is lost or doubled, every bid near the end moved it as the rule says, the
auction closes by the server's clock, and exactly one firm wins."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import time
from decimal import Decimal

import httpx
import pytest
from live_server import Server, own_clients
from sqlalchemy import select

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import actor_of, create_user
from matchmaker.models import Achievement, Auction, AuctionBidder, Bid, Organisation
from matchmaker.trading import auctions

pytestmark = pytest.mark.trading
# CI: 100 firms for 10 s, so a loaded two-core machine still decides several rounds; the documented figures run
# 200 for 60 s (MATCHMAKER_AUCTION_BIDDERS=200 MATCHMAKER_AUCTION_SECONDS=60).
BIDDERS = int(os.environ.get("MATCHMAKER_AUCTION_BIDDERS", "100"))
SECONDS = float(os.environ.get("MATCHMAKER_AUCTION_SECONDS", "10"))
EXTEND = 2   # seconds: a bid in the last two seconds moves the end to two seconds after it
START, STEP = Decimal("100000.00"), Decimal("1000.00")
RESERVE = START + 5 * STEP   # usually met within the run; the check says who wins either way


def prepare(url: str, bidders: int, seconds: float) -> tuple[int, list[tuple[int, str]]]:
    """An auction of an office's achievement ending in `seconds`, and `bidders` firms registered with deposits."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        achievement = session.scalar(select(Achievement).join(Organisation, Organisation.id == Achievement.organisation_id)
                                     .where(Achievement.status == "published").order_by(Achievement.id))
        office, _ = create_user(session, role="office", organisation_id=achievement.organisation_id, name="拍卖方")
        now = dt.datetime.now(dt.UTC)
        auction = auctions.create_auction(session, actor=actor_of(session, office.id), achievement_id=achievement.id,
                                          starting_price=START, increment=STEP, reserve_price=RESERVE,
                                          starts_at=now, ends_at=now + dt.timedelta(seconds=seconds),
                                          extend_seconds=EXTEND, now=now)
        firms = session.scalars(select(Organisation.id).where(Organisation.kind == "enterprise",
                                                               Organisation.status == "active")
                                .order_by(Organisation.id).limit(bidders)).all()
        tokens = []
        for org in firms:
            _, token = create_user(session, role="firm", organisation_id=org, name=f"竞买人{org}")
            session.add(AuctionBidder(auction_id=auction.id, organisation_id=org, deposit_paid=True))
            tokens.append((org, token))
        auction_id = auction.id
    engine.dispose()
    return auction_id, tokens


async def bid_for(base_url: str, auction_id: int, tokens, seconds: float) -> tuple[list[dict], list[int]]:
    """Every firm bids as fast as it can for `seconds`: the high bid it last saw plus one to three increments."""
    accepted: list[dict] = []
    statuses: list[int] = []
    stop = asyncio.get_running_loop().time() + seconds
    async with own_clients(base_url, len(tokens), timeout=60) as clients:
        async def send(client: httpx.AsyncClient, method: str, path: str, **kwargs) -> httpx.Response:
            # A dropped keep-alive connection is retried, as a browser would; a bid carries its Idempotency-Key,
            # so a retried bid that had gone through is answered with the same bid, never placed twice.
            for attempt in range(3):
                try:
                    return await client.request(method, path, **kwargs)
                except httpx.TransportError:
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        async def bidder(client: httpx.AsyncClient, org: int, token: str) -> None:
            rng = random.Random(org)
            headers = {"Authorization": f"Bearer {token}"}
            attempt = 0
            while asyncio.get_running_loop().time() < stop:
                state = (await send(client, "GET", f"/auctions/{auction_id}", headers=headers,
                                    params={"since": 10**9})).json()
                if state["status"] != "open":
                    return
                high = Decimal(state["high_bid"]) if state["high_bid"] else START - STEP
                attempt += 1
                answer = await send(client, "POST", f"/auctions/{auction_id}/bids",
                                    headers={**headers, "Idempotency-Key": f"bid-{org}-{attempt}"},
                                    json={"amount": f"{high + STEP * rng.randint(1, 3):.2f}"})
                statuses.append(answer.status_code)
                if answer.status_code == 201:
                    accepted.append(answer.json())

        await asyncio.gather(*(bidder(client, org, token) for client, (org, token) in zip(clients, tokens)))
    return accepted, statuses


def check(url: str, auction_id: int, accepted: list[dict], statuses: list[int], base_url: str,
          token: str) -> dict:
    """The four rules, from the database and the answers; returns figures for the benchmark."""
    assert set(statuses) <= {201, 409}, sorted(set(statuses))   # no 500, no 503: every refusal is a 409
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        auction = session.get(Auction, auction_id)
        bids = session.scalars(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.serial)).all()
        first_end = auction.scheduled_end
    engine.dispose()
    assert [b.serial for b in bids] == list(range(1, len(bids) + 1))          # no gap, no double
    assert all(b.amount >= a.amount + STEP for a, b in zip(bids, bids[1:], strict=False))   # strictly above
    assert bids[0].amount >= START
    stored = {(b.serial, f"{b.amount:.2f}") for b in bids}
    answered = {(a["serial"], a["amount"]) for a in accepted}
    assert answered == stored and len(accepted) == len(bids)                   # none lost, none extra
    end = first_end
    for b in bids:                                                             # the extension rule, bid by bid
        assert b.placed_at < end, (b.serial, b.placed_at, end)
        end = max(end, b.placed_at + dt.timedelta(seconds=EXTEND))
        assert b.ends_at_after == end
    closed = httpx.get(f"{base_url}/auctions/{auction_id}", headers={"Authorization": f"Bearer {token}"},
                       params={"since": len(bids)}, timeout=30).json()
    met = bids[-1].amount >= RESERVE   # the highest bid wins if it reached the reserve; otherwise nobody does
    assert closed["status"] == "closed" and closed["high_bid"] == f"{bids[-1].amount:.2f}"
    assert closed["winner_id"] == (bids[-1].organisation_id if met else None) and closed["reserve_met"] is met
    return {"accepted": len(bids), "refused": statuses.count(409), "extensions": sum(
        1 for a, b in zip([first_end] + [x.ends_at_after for x in bids], bids, strict=False) if b.ends_at_after > a),
        "final": f"{bids[-1].amount:.2f}"}


def run(url: str, tmp_path, bidders: int = BIDDERS, seconds: float = SECONDS) -> dict:
    server = Server(url, tmp_path, workers=2).start(timeout=60)
    try:
        auction_id, tokens = prepare(url, bidders, seconds)   # the clock starts once the server is up
        accepted, statuses = asyncio.run(bid_for(server.base_url, auction_id, tokens, seconds + 1))
        # No one bids any more, so the end the last bid left stands: wait for it (and a little), then the server
        # must say closed by its own clock.
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            ends_at = session.get(Auction, auction_id).ends_at
        engine.dispose()
        time.sleep(max(0.0, (ends_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
        return check(url, auction_id, accepted, statuses, server.base_url, tokens[0][1])
    finally:
        server.stop()


@pytest.mark.slow
def test_many_bidders_at_once_one_winner_and_every_rule_kept(seeded_url, tmp_path):
    # Every auction's rules are checked (in run); the bidders must also have competed in one of them. On a machine
    # busy with the rest of the suite the server once answered so slowly that the ten seconds saw a single bid
    # (accepted 1, refused 277), so a quiet run is tried again, with fresh firms' tokens, up to twice more.
    for attempt in range(3):
        (tmp_path / f"auction-{attempt}").mkdir()
        figures = run(seeded_url, tmp_path / f"auction-{attempt}")
        print(f"\nauction {attempt + 1}: {figures}")
        if figures["accepted"] >= 2:
            break
    assert figures["accepted"] >= 2 and figures["refused"] > 0   # they competed (few win a step when 200 race for it)


def test_bids_need_registration_a_deposit_and_the_increment_and_stop_at_the_end(seeded_url):
    auction_id, tokens = prepare(seeded_url, 2, 60)
    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        (org, _), (other, _) = tokens
        session.get(AuctionBidder, (auction_id, other)).deposit_paid = False
        firm = actor_of(session, session.scalar(select(Organisation).where(Organisation.id == org)).id and
                        _user_of(session, org))
        unpaid = actor_of(session, _user_of(session, other))
        with pytest.raises(Exception, match="保证金"):
            auctions.place_bid(session, actor=unpaid, auction_id=auction_id, amount=START)
        with pytest.raises(Exception, match="不低于"):
            auctions.place_bid(session, actor=firm, auction_id=auction_id, amount=START - 1)
        auctions.place_bid(session, actor=firm, auction_id=auction_id, amount=START)
        with pytest.raises(Exception, match="不低于"):
            auctions.place_bid(session, actor=firm, auction_id=auction_id, amount=START + STEP - Decimal("0.01"))
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        with pytest.raises(Exception, match="已结束"):
            auctions.place_bid(session, actor=firm, auction_id=auction_id, amount=START * 3, now=later)
    with transaction(factory) as session:   # closed after the end; 100,000 is below the 105,000 reserve: no winner
        state = auctions.auction_state(session, auction_id, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        assert (state.auction.status, state.auction.winner_id) == ("closed", None)
    engine.dispose()


def _user_of(session, organisation_id: int) -> int:
    from matchmaker.models import User

    return session.scalar(select(User.id).where(User.organisation_id == organisation_id).order_by(User.id.desc()))
