"""Trading pages: auctions (拍卖 — registered firms bid, everyone watching sees bids within a second), fixed-price
listings (挂牌 — offices list, firms accept) and public notices of negotiated prices
(协议定价公示 — offices publish and answer objections, anyone signed in objects)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage.submission import organisation_named
from matchmaker.catalog import directory
from matchmaker.errors import InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, AuctionBidder
from matchmaker.trading import auctions, listings, price_notices
from matchmaker.web.forms import yuan_field
from matchmaker.web.login import Form
from matchmaker.web.views import acted, render

def _price(data: dict, name: str = "price") -> Decimal:
    return yuan_field(data, name, "价格", "880000 或 88万")


def _own_achievements(session: Session, actor: Actor) -> list[Achievement]:
    if actor.role is not v.Role.OFFICE:
        return []
    return list(session.scalars(select(Achievement).where(
        Achievement.organisation_id == actor.organisation_id,
        Achievement.status == v.AchievementStatus.PUBLISHED.value).order_by(Achievement.title).limit(500)))


def _titles(session: Session, ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(select(Achievement.id, Achievement.title).where(Achievement.id.in_(ids))).all())


# ---------------------------------------------------------------- listings (挂牌)


@get("/listings", sync_to_thread=True)
def listing_page(request: Request, actor: Actor, session: Session) -> Template:
    with session.begin():
        rows = listings.list_listings(session)
        titles = _titles(session, (x.achievement_id for x in rows))
        names = directory.organisation_names(session, {x.seller_id for x in rows})
        own = _own_achievements(session, actor)
    return render(request, "listings.html", rows=rows, titles=titles, names=names, own=own,
                  default_end=(dt.date.today() + dt.timedelta(days=30)).isoformat())


@post("/listings", sync_to_thread=True)
def create_listing(request: Request, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    def action():
        try:
            ends = dt.date.fromisoformat(data.get("ends_on", ""))
        except ValueError:
            raise InvalidInput.on("ends_on", "请填写挂牌截止日期") from None
        return listings.create_listing(session, actor=actor, achievement_id=int(data.get("achievement_id") or 0),
                                       price=_price(data),
                                       ends_at=dt.datetime.combine(ends + dt.timedelta(days=1), dt.time(), dt.UTC))

    return acted(request, session, action, back="/web/listings", done="已挂牌，企业可在截止日期前摘牌")


@post("/listings/{listing_id:int}/accept", sync_to_thread=True)
def accept_listing(request: Request, listing_id: int, actor: Actor, session: Session) -> Redirect:
    return acted(request, session, lambda: listings.accept_listing(session, actor=actor, listing_id=listing_id)[0],
                 back="/web/listings", then="/web/contracts/new",
                 done=lambda listing: f"摘牌成功，成交价 {listing.price:,.2f} 元。请与成果方签订技术合同后，在此提交合同登记")


# ---------------------------------------------------------------- price notices (协议定价公示)


@get("/price-notices", sync_to_thread=True)
def notices_page(request: Request, actor: Actor, session: Session) -> Template:
    with session.begin():
        rows = price_notices.list_notices(session)
        titles = _titles(session, (n.achievement_id for n in rows))
        names = directory.organisation_names(session, {n.seller_id for n in rows} | {n.buyer_id for n in rows})
        own = _own_achievements(session, actor)
    return render(request, "price_notices.html", rows=rows, titles=titles, names=names, own=own)


@post("/price-notices", sync_to_thread=True)
def publish_notice(request: Request, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    def action():
        buyer = organisation_named(session, data.get("buyer", ""))
        if buyer is None:
            raise InvalidInput.on("buyer", "没有找到受让方单位；请填写平台上的单位全称")
        return price_notices.publish_notice(session, actor=actor, achievement_id=int(data.get("achievement_id") or 0),
                                            buyer_id=buyer, price=_price(data))

    return acted(request, session, action, back="/web/price-notices", then=lambda n: f"/web/price-notices/{n.id}",
                 done="已发布公示，公示期满且无未答复异议后方可签约")


@get("/price-notices/{notice_id:int}", sync_to_thread=True)
def notice_page(request: Request, notice_id: int, actor: Actor, session: Session) -> Template:
    with session.begin():
        state = price_notices.notice_state(session, notice_id)
        notice = state.notice
        title = _titles(session, [notice.achievement_id]).get(notice.achievement_id)
        names = directory.organisation_names(session, {notice.seller_id, notice.buyer_id})
    running = dt.date.today() < notice.ends_on
    return render(request, "price_notice.html", notice=notice, objections=state.objections, title=title,
                  names=names, running=running, seller=actor.role is v.Role.OFFICE and
                  actor.organisation_id == notice.seller_id,
                  last_day=notice.ends_on - dt.timedelta(days=1))


@post("/price-notices/{notice_id:int}/objections", sync_to_thread=True)
def object_to(request: Request, notice_id: int, actor: Actor, session: Session,
              data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: price_notices.lodge_objection(
        session, actor=actor, notice_id=notice_id, reason=data.get("reason", "")),
        back=f"/web/price-notices/{notice_id}", done="异议已提交，成果所属单位答复前不能签约")


@post("/price-notices/{notice_id:int}/objections/{objection_id:int}/resolve", sync_to_thread=True)
def resolve(request: Request, notice_id: int, objection_id: int, actor: Actor, session: Session,
            data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: price_notices.resolve_objection(
        session, actor=actor, objection_id=objection_id, resolution=data.get("resolution", "")),
        back=f"/web/price-notices/{notice_id}", done="已答复异议")


# ---------------------------------------------------------------- auctions (拍卖)


@get("/auctions", sync_to_thread=True)
def auctions_page(request: Request, actor: Actor, session: Session) -> Template:
    with session.begin():
        rows = auctions.list_auctions(session)
        titles = _titles(session, (a.achievement_id for a in rows))
        names = directory.organisation_names(session, {a.seller_id for a in rows} |
                                             {a.winner_id for a in rows if a.winner_id})
    return render(request, "auctions.html", rows=rows, titles=titles, names=names)


def _board(session: Session, actor: Actor, auction_id: int) -> dict:
    state = auctions.auction_state(session, auction_id)
    auction = state.auction
    names = directory.organisation_names(session, {b.organisation_id for b in state.bids} | {auction.seller_id} |
                                         ({auction.winner_id} if auction.winner_id else set()))
    mine = session.get(AuctionBidder, (auction.id, actor.organisation_id)) if actor.role is v.Role.FIRM else None
    return {"auction": auction, "bids": list(reversed(state.bids))[:50], "names": names, "now": state.now,
            "bidder": mine, "minimum": auctions.next_minimum(auction),
            "seconds_left": max(0, int((auction.ends_at - state.now).total_seconds()))}


@get("/auctions/{auction_id:int}", sync_to_thread=True)
def auction_page(request: Request, auction_id: int, actor: Actor, session: Session) -> Template:
    with session.begin():
        board = _board(session, actor, auction_id)
        title = _titles(session, [board["auction"].achievement_id]).get(board["auction"].achievement_id)
        seller = actor.role is v.Role.OFFICE and actor.organisation_id == board["auction"].seller_id
        registered = auctions.bidders(session, auction_id) if seller else []
        bidder_names = directory.organisation_names(session, {b.organisation_id for b in registered})
    return render(request, "auction.html", title=title, seller=seller, registered=registered,
                  bidder_names=bidder_names, **board)


@get("/auctions/{auction_id:int}/board", sync_to_thread=True)
def auction_board(request: Request, auction_id: int, actor: Actor, session: Session) -> Template:
    """The live part of the page, fetched every second (htmx polling): high bid, time left, bids, result."""
    with session.begin():
        board = _board(session, actor, auction_id)
    return render(request, "_auction_board.html", **board)


@post("/auctions/{auction_id:int}/bids", sync_to_thread=True)
def bid(request: Request, auction_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: auctions.place_bid(session, actor=actor, auction_id=auction_id,
                                                              amount=_price(data, "amount")),
                 back=f"/web/auctions/{auction_id}", done=lambda placed: f"出价 {placed.amount:,.2f} 元已接受")


@post("/auctions/{auction_id:int}/bidders", sync_to_thread=True)
def register_bidder(request: Request, auction_id: int, actor: Actor, session: Session) -> Redirect:
    return acted(request, session, lambda: auctions.register_bidder(session, actor=actor, auction_id=auction_id),
                 back=f"/web/auctions/{auction_id}", done="已报名，拍卖方确认保证金后即可出价")


@post("/auctions/{auction_id:int}/bidders/{organisation_id:int}/deposit", sync_to_thread=True)
def confirm_deposit(request: Request, auction_id: int, organisation_id: int, actor: Actor,
                    session: Session) -> Redirect:
    return acted(request, session, lambda: auctions.confirm_deposit(
        session, actor=actor, auction_id=auction_id, organisation_id=organisation_id),
        back=f"/web/auctions/{auction_id}", done="已确认保证金")


HANDLERS = [auctions_page, auction_page, auction_board, bid, register_bidder, confirm_deposit,
            listing_page, create_listing, accept_listing,
            notices_page, publish_notice, notice_page, object_to, resolve]
