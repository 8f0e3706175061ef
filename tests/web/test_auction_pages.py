"""An auction in Chromium (issue 16): two firms bid from two browser contexts and each sees the other's bid appear
within seconds (the board polls every second); when the auction ends by the server's clock, both see the winner."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from web_world import CHROMIUM, CHROMIUM_ARGS, build_world, login, playwright_or_skip, running_server

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import actor_of, create_user, set_password
from matchmaker.models import Achievement, Auction, AuctionBidder, Organisation, User
from matchmaker.trading import auctions

pytestmark = [pytest.mark.slow, pytest.mark.trading]
playwright_api = playwright_or_skip()
expect = playwright_api.expect
SECOND_FIRM = ("auction_rival", "Rival-bidder-2026!")


def _auction(url: str) -> tuple[int, str]:
    """An auction of the demo office's achievement; the demo firm and a rival firm registered, deposits confirmed."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        office = session.scalar(select(User).where(User.login == "demo_office"))
        firm = session.scalar(select(User).where(User.login == "demo_firm"))
        rival_org = session.scalar(select(Organisation.id).where(Organisation.kind == "enterprise",
                                                                  Organisation.id != firm.organisation_id))
        rival, _ = create_user(session, role="firm", organisation_id=rival_org, name="竞拍对手")
        rival.login = SECOND_FIRM[0]
        set_password(session, rival.id, SECOND_FIRM[1])
        achievement = session.scalar(select(Achievement).where(Achievement.organisation_id == office.organisation_id,
                                                               Achievement.status == "published"))
        now = dt.datetime.now(dt.UTC)
        auction = auctions.create_auction(session, actor=actor_of(session, office.id), achievement_id=achievement.id,
                                          starting_price=Decimal("100000"), increment=Decimal("5000"),
                                          reserve_price=None, starts_at=now, ends_at=now + dt.timedelta(minutes=30),
                                          extend_seconds=60, now=now)
        for org in (firm.organisation_id, rival_org):
            session.add(AuctionBidder(auction_id=auction.id, organisation_id=org, deposit_paid=True))
        rival_name = session.get(Organisation, rival_org).name
        auction_id = auction.id
    engine.dispose()
    return auction_id, rival_name


def test_two_bidders_see_each_others_bids_live_and_the_winner(tmp_path_factory, templates):
    folder = tmp_path_factory.mktemp("auction-pages")
    url, users = build_world(folder, templates)
    auction_id, rival_name = _auction(url)
    with running_server(url, folder) as server, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def bidder(user):
            context = browser.new_context(locale="zh-CN")
            context.set_default_timeout(15_000)
            page = context.new_page()
            login(page, server.base_url, user)
            page.goto(f"{server.base_url}/web/auctions/{auction_id}")
            return page

        firm, rival = bidder(users["firm"]), bidder(SECOND_FIRM)
        firm.get_by_label("出价（元）").fill("100000")
        firm.get_by_role("button", name="确认出价").click()
        expect(firm.locator(".notice-success")).to_contain_text("已接受")
        expect(rival.get_by_test_id("high-bid")).to_contain_text("10.00 万元", timeout=5_000)   # without a reload
        rival.get_by_label("出价（元）").fill("120000")
        rival.get_by_role("button", name="确认出价").click()
        expect(rival.locator(".notice-success")).to_contain_text("已接受")
        expect(firm.get_by_test_id("high-bid")).to_contain_text("12.00 万元", timeout=5_000)
        expect(firm.get_by_test_id("bids")).to_contain_text(rival_name)
        firm.get_by_label("出价（元）").fill("121000")            # below 120,000 + the 5,000 increment
        firm.get_by_role("button", name="确认出价").click()
        expect(firm.locator(".notice-error")).to_contain_text("出价须不低于")

        engine = make_engine(url)   # the end, brought forward: the server's clock then closes it on the next poll
        with engine.begin() as conn:
            conn.execute(update(Auction).where(Auction.id == auction_id)
                         .values(ends_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        engine.dispose()
        for page in (firm, rival):
            expect(page.get_by_test_id("auction-result")).to_contain_text(f"已成交：{rival_name}", timeout=5_000)
        browser.close()
