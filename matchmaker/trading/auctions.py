"""Auctions (拍卖): open ascending bids by registered bidders whose deposit (保证金) is confirmed. The server's clock
decides; a bid in the last `extend_seconds` moves the end to that long after it (anti-sniping, 5 minutes by
default); bids are
final and kept with their serial, time and the end they left; at the end the highest bid at or above the reserve
wins, and the result leads to a contract draft.

Every bid is one transaction that first writes the auction's row (a no-op UPDATE): PostgreSQL then holds the row's
lock and SQLite the database's write lock until commit, so bids are decided one after another against the current
high bid — each accepted bid is strictly above the one before it, and none is lost or doubled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Auction, AuctionBidder, Bid, Organisation
from matchmaker.notices.services import notify, organisation_users
from matchmaker.trading.offer import aware, now_or, offered_achievement

MAX_DAYS = 90


def create_auction(session: Session, *, actor: Actor, achievement_id: int, starting_price: Decimal,
                   increment: Decimal, reserve_price: Decimal | None, starts_at: dt.datetime, ends_at: dt.datetime,
                   extend_seconds: int = 300, now: dt.datetime | None = None) -> Auction:
    now = now_or(now)
    achievement = offered_achievement(session, actor, achievement_id, action="拍卖")
    if starting_price <= 0 or increment <= 0:
        raise InvalidInput.on("starting_price", "起拍价和加价幅度须大于 0")
    if reserve_price is not None and reserve_price < starting_price:
        raise InvalidInput.on("reserve_price", "保留价不能低于起拍价")
    starts_at, ends_at = aware(starts_at), aware(ends_at)
    if starts_at < now - dt.timedelta(minutes=5) or ends_at <= starts_at or ends_at > now + dt.timedelta(days=MAX_DAYS):
        raise InvalidInput.on("ends_at", f"开始时间不能早于现在，结束时间须在开始之后、{MAX_DAYS} 天之内")
    if not 0 <= extend_seconds <= 3600:
        raise InvalidInput.on("extend_seconds", "延时为 0 到 3600 秒（默认 300 秒，即最后 5 分钟内出价顺延 5 分钟）")
    auction = Auction(achievement_id=achievement.id, seller_id=achievement.organisation_id,
                      starting_price=starting_price, increment=increment, reserve_price=reserve_price,
                      starts_at=starts_at, ends_at=ends_at, scheduled_end=ends_at, extend_seconds=extend_seconds,
                      status="open", bids=0, created_by=actor.user_id)
    session.add(auction)
    session.flush()
    return auction


def register_bidder(session: Session, *, actor: Actor, auction_id: int) -> AuctionBidder:
    """A reviewed firm registers to bid; its deposit is then confirmed by the seller's office."""
    auction = _auction(session, auction_id)
    firm = session.get(Organisation, actor.organisation_id)
    if actor.role is not v.Role.FIRM or firm is None or firm.status != v.OrganisationStatus.ACTIVE.value:
        raise Forbidden("只有通过审核的企业可以报名竞拍")
    if auction.status != "open":
        raise Conflict("拍卖已结束，不能再报名")
    bidder = session.get(AuctionBidder, (auction.id, firm.id))
    if bidder is None:
        bidder = AuctionBidder(auction_id=auction.id, organisation_id=firm.id, deposit_paid=False)
        session.add(bidder)
        session.flush()
        notify(session, organisation_users(session, auction.seller_id), kind=v.NoticeKind.DEAL_STAGE,
               event=f"auction-bidder:{auction.id}:{firm.id}", title=f"{firm.name} 报名竞拍，请确认保证金",
               link=f"/web/auctions/{auction.id}")
    return bidder


def confirm_deposit(session: Session, *, actor: Actor, auction_id: int, organisation_id: int) -> AuctionBidder:
    auction = _auction(session, auction_id)
    if not (actor.role is v.Role.ADMIN or (actor.role is v.Role.OFFICE and actor.organisation_id == auction.seller_id)):
        raise Forbidden("保证金由拍卖方（成果所属单位）或平台管理员确认")
    bidder = session.get(AuctionBidder, (auction.id, organisation_id))
    if bidder is None:
        raise NotFound("该企业没有报名这场拍卖")
    bidder.deposit_paid = True
    session.flush()
    return bidder


def place_bid(session: Session, *, actor: Actor, auction_id: int, amount: Decimal,
              now: dt.datetime | None = None) -> Bid:
    # The write first: from here to commit, no other bid on this auction is decided (see the module's docstring).
    taken = session.execute(update(Auction).where(Auction.id == auction_id).values(bids=Auction.bids)
                            .execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise NotFound("没有找到该拍卖")
    now = now_or(now)   # read after the lock: the clock that decides is the one when this bid's turn came
    auction = session.get(Auction, auction_id, populate_existing=True)
    if auction.status != "open" or now >= auction.ends_at:
        _close(session, auction, now)
        raise Conflict("拍卖已结束，出价未被接受", problems=[FieldProblem("amount", "拍卖已结束，出价未被接受")])
    if now < auction.starts_at:
        raise Conflict("拍卖尚未开始", problems=[FieldProblem("amount", "拍卖尚未开始")])
    bidder = session.get(AuctionBidder, (auction.id, actor.organisation_id))
    if actor.role is not v.Role.FIRM or bidder is None or not bidder.deposit_paid:
        raise Forbidden("请先报名并由拍卖方确认保证金后再出价")
    minimum = next_minimum(auction)
    if amount < minimum:
        reason = f"出价须不低于 {minimum:,.2f} 元（当前最高价加加价幅度）"
        raise Conflict.on("amount", reason)
    extended = now + dt.timedelta(seconds=auction.extend_seconds)
    ends = extended if auction.extend_seconds and extended > auction.ends_at else auction.ends_at
    auction.high_bid, auction.bids, auction.ends_at = amount, auction.bids + 1, ends
    bid = Bid(auction_id=auction.id, serial=auction.bids, organisation_id=actor.organisation_id,
              user_id=actor.user_id, amount=amount, placed_at=now, ends_at_after=ends)
    session.add(bid)
    session.flush()
    return bid


def next_minimum(auction: Auction) -> Decimal:
    """The lowest bid the auction takes next: the starting price, then the high bid plus the increment."""
    return auction.starting_price if auction.high_bid is None else auction.high_bid + auction.increment


def close_due(session: Session, *, now: dt.datetime | None = None) -> int:
    """Close every auction whose end has passed (the worker, every minute; reads close lazily too)."""
    now = now_or(now)
    due = session.scalars(select(Auction.id).where(Auction.status == "open", Auction.ends_at <= now)).all()
    for auction_id in due:
        session.execute(update(Auction).where(Auction.id == auction_id).values(bids=Auction.bids)
                        .execution_options(synchronize_session=False))
        _close(session, session.get(Auction, auction_id, populate_existing=True), now)
    return len(due)


def _close(session: Session, auction: Auction, now: dt.datetime) -> None:
    if auction.status != "open" or now < auction.ends_at:
        return
    auction.status = "closed"
    top = session.scalar(select(Bid).where(Bid.auction_id == auction.id).order_by(Bid.serial.desc()).limit(1))
    if top is not None and (auction.reserve_price is None or top.amount >= auction.reserve_price):
        auction.winner_id = top.organisation_id
    session.flush()
    achievement = session.get(Achievement, auction.achievement_id)
    people = organisation_users(session, auction.seller_id) + (
        organisation_users(session, auction.winner_id) if auction.winner_id else [])
    title = (f"拍卖《{achievement.title[:60]}》成交，成交价 {auction.high_bid:,.2f} 元" if auction.winner_id
             else f"拍卖《{achievement.title[:60]}》结束，未达到保留价，流拍")
    notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event=f"auction-closed:{auction.id}", title=title,
           body="请双方按拍卖结果签订技术合同并提交合同登记。" if auction.winner_id else "",
           link=f"/web/auctions/{auction.id}")


@dataclass
class AuctionState:
    auction: Auction
    bids: list[Bid]          # those after `since`, oldest first
    now: dt.datetime


def auction_state(session: Session, auction_id: int, *, since: int = 0, now: dt.datetime | None = None) -> AuctionState:
    now = now_or(now)
    auction = _auction(session, auction_id)
    if auction.status == "open" and now >= auction.ends_at:
        close_due(session, now=now)
        session.refresh(auction)
    bids = list(session.scalars(select(Bid).where(Bid.auction_id == auction.id, Bid.serial > since)
                                .order_by(Bid.serial)))
    return AuctionState(auction, bids, now)


def list_auctions(session: Session, *, now: dt.datetime | None = None) -> list[Auction]:
    close_due(session, now=now)
    return list(session.scalars(select(Auction).order_by(Auction.status.desc(), Auction.ends_at).limit(200)))


def bidders(session: Session, auction_id: int) -> list[AuctionBidder]:
    return list(session.scalars(select(AuctionBidder).where(AuctionBidder.auction_id == auction_id)))


def _auction(session: Session, auction_id: int) -> Auction:
    auction = session.get(Auction, auction_id)
    if auction is None:
        raise NotFound("没有找到该拍卖")
    return auction
