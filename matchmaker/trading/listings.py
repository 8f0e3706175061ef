"""Fixed-price listings (挂牌): an office offers an achievement at a price for a period; the first qualified buyer
to accept takes it — exactly one, however many accept at once — and the acceptance leads to a contract draft.
A listing nobody accepted expires, and may be relisted at a new price.

Exactly one winner: acceptance is one conditional UPDATE (`… WHERE id = ? AND status = 'open' AND ends_at > now`);
the database applies it to one transaction only (PostgreSQL's row lock, SQLite's single writer), and every other
acceptance finds the row no longer open and gets a 409. The server's clock decides when a listing has ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Listing, Organisation
from matchmaker.notices.services import notify, organisation_users
from matchmaker.trading.offer import aware, now_or, offered_achievement

MAX_DAYS = 365
BUYER_KINDS = (v.OrganisationKind.ENTERPRISE.value,)   # 受让方: firms that passed the platform's review


def create_listing(session: Session, *, actor: Actor, achievement_id: int, price: Decimal, ends_at: dt.datetime,
                   now: dt.datetime | None = None, previous_id: int | None = None) -> Listing:
    """The achievement's office lists it at a price until `ends_at`; one open listing per achievement."""
    now, ends_at = now_or(now), aware(ends_at)
    achievement = offered_achievement(session, actor, achievement_id, action="挂牌")
    if price <= 0:
        raise InvalidInput.on("price", "挂牌价须大于 0")
    if ends_at <= now or ends_at > now + dt.timedelta(days=MAX_DAYS):
        raise InvalidInput.on("ends_at", f"挂牌截止时间须在现在之后、{MAX_DAYS} 天之内")
    listing = Listing(achievement_id=achievement.id, seller_id=achievement.organisation_id, price=price,
                      starts_at=now, ends_at=ends_at, status="open", previous_id=previous_id, created_by=actor.user_id)
    try:
        with session.begin_nested():
            session.add(listing)
            session.flush()
    except IntegrityError:
        raise Conflict("该成果已有进行中的挂牌；等它结束后再重新挂牌") from None
    return listing


@dataclass
class ContractDraft:
    """What the acceptance settles, for the parties' contract (POST /contracts fills the rest of the form)."""

    seller_id: int
    buyer_id: int
    title: str
    contract_type: str
    amount: str
    field_code: str | None


def accept_listing(session: Session, *, actor: Actor, listing_id: int,
                   now: dt.datetime | None = None) -> tuple[Listing, ContractDraft]:
    """A qualified buyer accepts: the first valid acceptance wins, the rest get a 409."""
    now = now_or(now)
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("没有找到该挂牌")
    buyer = session.get(Organisation, actor.organisation_id)
    if actor.role is not v.Role.FIRM or buyer is None or buyer.kind not in BUYER_KINDS \
            or buyer.status != v.OrganisationStatus.ACTIVE.value:
        raise Forbidden("只有通过审核的企业可以摘牌")
    if buyer.id == listing.seller_id:
        raise Forbidden("不能摘自己单位的挂牌")
    won = session.execute(
        update(Listing).where(Listing.id == listing_id, Listing.status == "open", Listing.ends_at > now)
        .values(status="accepted", buyer_id=buyer.id, accepted_by=actor.user_id, accepted_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        session.refresh(listing)
        if listing.status == "accepted":
            reason = "您已摘得该挂牌，请与成果方签订技术合同" if listing.buyer_id == buyer.id else "该挂牌已被其他企业摘牌"
        else:
            reason = "该挂牌已结束，不能再摘牌"
        raise Conflict.on("listing_id", reason)
    session.refresh(listing)
    achievement = session.get(Achievement, listing.achievement_id)
    draft = ContractDraft(listing.seller_id, buyer.id, achievement.title[:300], v.ContractType.TRANSFER.value,
                          f"{listing.price:.2f}", achievement.field_code)
    notify(session, organisation_users(session, listing.seller_id) + organisation_users(session, buyer.id),
           kind=v.NoticeKind.DEAL_STAGE, event=f"listing-accepted:{listing.id}",
           title=f"挂牌成果《{achievement.title[:60]}》已被摘牌",
           body=f"成交价 {listing.price:,.2f} 元。请双方按挂牌条件签订技术合同，并提交合同登记。",
           link="/web/contracts/new")
    return listing, draft


def expire_listings(session: Session, *, now: dt.datetime | None = None) -> int:
    """Open listings past their end become expired (run before reads). A read first looks, and writes only when
    something has ended: an UPDATE, even of no row, would take SQLite's write lock on every page view."""
    ended = (Listing.status == "open", Listing.ends_at <= now_or(now))
    if session.scalar(select(Listing.id).where(*ended).limit(1)) is None:
        return 0
    return session.execute(update(Listing).where(*ended).values(status="expired")
                           .execution_options(synchronize_session=False)).rowcount


def relist(session: Session, *, actor: Actor, listing_id: int, price: Decimal, ends_at: dt.datetime,
           now: dt.datetime | None = None) -> Listing:
    """An expired (or withdrawn) listing goes up again at a new price."""
    expire_listings(session, now=now)
    old = session.get(Listing, listing_id)
    if old is None:
        raise NotFound("没有找到该挂牌")
    session.refresh(old)
    if old.status not in ("expired", "withdrawn"):
        raise Conflict("只有已结束且未成交的挂牌可以重新挂牌")
    return create_listing(session, actor=actor, achievement_id=old.achievement_id, price=price, ends_at=ends_at,
                          now=now, previous_id=old.id)


def list_listings(session: Session, *, status: str | None = "open", now: dt.datetime | None = None) -> list[Listing]:
    expire_listings(session, now=now)
    query = select(Listing).order_by(Listing.ends_at, Listing.id)
    if status is not None:
        query = query.where(Listing.status == status)
    return list(session.scalars(query.limit(200)))


def get_listing(session: Session, listing_id: int, *, now: dt.datetime | None = None) -> Listing:
    expire_listings(session, now=now)
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound("没有找到该挂牌")
    return listing
