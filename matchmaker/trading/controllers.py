"""HTTP routes for fixed-price listings (挂牌) and public notices of negotiated prices (协议定价公示)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from sqlalchemy.orm import Session

from matchmaker.api import idempotency
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import BodyId, PathId, Yuan
from matchmaker.identity.services import Actor
from matchmaker.trading import auctions, listings, price_notices


class ListingIn(msgspec.Struct, forbid_unknown_fields=True):
    achievement_id: BodyId
    price: Yuan
    ends_at: dt.datetime   # with a time zone; the server's clock decides


class RelistIn(msgspec.Struct, forbid_unknown_fields=True):
    price: Yuan
    ends_at: dt.datetime


class ListingOut(msgspec.Struct):
    id: int
    achievement_id: int
    seller_id: int
    price: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    buyer_id: int | None
    accepted_at: dt.datetime | None
    previous_id: int | None


class DraftOut(msgspec.Struct):
    seller_id: int
    buyer_id: int
    title: str
    contract_type: str
    amount: str
    field_code: str | None


class AcceptedOut(msgspec.Struct):
    listing: ListingOut
    contract_draft: DraftOut   # POST /contracts with these and the rest of the registration form


def listing_out(x) -> ListingOut:
    return ListingOut(x.id, x.achievement_id, x.seller_id, f"{x.price:.2f}", x.starts_at, x.ends_at, x.status,
                      x.buyer_id, x.accepted_at, x.previous_id)


class ListingController(Controller):
    path = "/listings"
    tags = ["trading"]

    @get("/", operation_id="listListings", sync_to_thread=True)
    def list_listings(self, actor: Actor, session: Session,
                      status: Annotated[Literal["open", "accepted", "expired", "withdrawn"] | None,
                                        Parameter(description="default open")] = "open") -> list[ListingOut]:
        """Listings (open ones by default), soonest ending first."""
        with session.begin():
            return [listing_out(x) for x in listings.list_listings(session, status=status)]

    @get("/{listing_id:int}", operation_id="getListing", sync_to_thread=True)
    def get_listing(self, listing_id: PathId, actor: Actor, session: Session) -> ListingOut:
        with session.begin():
            return listing_out(listings.get_listing(session, listing_id))

    @post("/", operation_id="createListing", status_code=201, sync_to_thread=True)
    def create(self, data: ListingIn, actor: Actor, session: Session, request: Request,
               idempotency_key: IdempotencyKey = None) -> Response[ListingOut]:
        """The achievement's office lists it at a fixed price until `ends_at` (挂牌)."""
        def write() -> ListingOut:
            return listing_out(listings.create_listing(session, actor=actor, achievement_id=data.achievement_id,
                                                       price=Decimal(data.price), ends_at=data.ends_at))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/{listing_id:int}/accept", operation_id="acceptListing", status_code=200, sync_to_thread=True)
    def accept(self, listing_id: PathId, actor: Actor, session: Session) -> AcceptedOut:
        """A qualified firm accepts (摘牌): the first valid acceptance wins; the others get 409."""
        with session.begin():
            listing, draft = listings.accept_listing(session, actor=actor, listing_id=listing_id)
            return AcceptedOut(listing_out(listing), DraftOut(**draft.__dict__))

    @post("/{listing_id:int}/relist", operation_id="relistListing", status_code=201, sync_to_thread=True)
    def relist(self, listing_id: PathId, data: RelistIn, actor: Actor, session: Session) -> ListingOut:
        """An expired listing goes up again at a new price (the achievement's office)."""
        with session.begin():
            return listing_out(listings.relist(session, actor=actor, listing_id=listing_id,
                                               price=Decimal(data.price), ends_at=data.ends_at))


class NoticeIn(msgspec.Struct, forbid_unknown_fields=True):
    achievement_id: BodyId
    buyer_id: BodyId
    price: Yuan
    days: Annotated[int, msgspec.Meta(ge=1, le=60)] = price_notices.NOTICE_DAYS


class ObjectionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ResolutionIn(msgspec.Struct, forbid_unknown_fields=True):
    resolution: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ObjectionOut(msgspec.Struct):
    id: int
    reason: str
    created_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None


class NoticeOut(msgspec.Struct):
    id: int
    achievement_id: int
    seller_id: int
    buyer_id: int
    price: str
    starts_on: dt.date
    ends_on: dt.date   # the first day signing is allowed
    objections: list[ObjectionOut] = []


def objection_out(o) -> ObjectionOut:
    return ObjectionOut(o.id, o.reason, o.created_at, o.resolution, o.resolved_at)


def notice_out(n, objections=()) -> NoticeOut:
    return NoticeOut(n.id, n.achievement_id, n.seller_id, n.buyer_id, f"{n.price:.2f}", n.starts_on, n.ends_on,
                     [objection_out(o) for o in objections])


class PriceNoticeController(Controller):
    path = "/price-notices"
    tags = ["trading"]

    @get("/", operation_id="listPriceNotices", sync_to_thread=True)
    def list_notices(self, actor: Actor, session: Session) -> list[NoticeOut]:
        """Price notices still running (协议定价公示), ending soonest first."""
        with session.begin():
            return [notice_out(n) for n in price_notices.list_notices(session)]

    @get("/{notice_id:int}", operation_id="getPriceNotice", sync_to_thread=True)
    def get_notice(self, notice_id: PathId, actor: Actor, session: Session) -> NoticeOut:
        with session.begin():
            state = price_notices.notice_state(session, notice_id)
            return notice_out(state.notice, state.objections)

    @post("/", operation_id="publishPriceNotice", status_code=201, sync_to_thread=True)
    def publish(self, data: NoticeIn, actor: Actor, session: Session, request: Request,
                idempotency_key: IdempotencyKey = None) -> Response[NoticeOut]:
        """The achievement's office publishes the negotiated price and the parties for the notice period."""
        def write() -> NoticeOut:
            return notice_out(price_notices.publish_notice(
                session, actor=actor, achievement_id=data.achievement_id, buyer_id=data.buyer_id,
                price=Decimal(data.price), days=data.days))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/{notice_id:int}/objections", operation_id="lodgeObjection", status_code=201, sync_to_thread=True)
    def object_to(self, notice_id: PathId, data: ObjectionIn, actor: Actor, session: Session, request: Request,
                  idempotency_key: IdempotencyKey = None) -> Response[ObjectionOut]:
        """Anyone signed in objects while the notice runs; signing waits until the office has answered."""
        def write() -> ObjectionOut:
            return objection_out(price_notices.lodge_objection(session, actor=actor, notice_id=notice_id,
                                                               reason=data.reason))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/objections/{objection_id:int}/resolve", operation_id="resolveObjection", status_code=200,
          sync_to_thread=True)
    def resolve(self, objection_id: PathId, data: ResolutionIn, actor: Actor, session: Session) -> ObjectionOut:
        """The seller's office answers an objection in writing."""
        with session.begin():
            return objection_out(price_notices.resolve_objection(session, actor=actor, objection_id=objection_id,
                                                                 resolution=data.resolution))


class AuctionIn(msgspec.Struct, forbid_unknown_fields=True):
    achievement_id: BodyId
    starting_price: Yuan
    increment: Yuan
    starts_at: dt.datetime
    ends_at: dt.datetime
    reserve_price: Yuan | None = None
    extend_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 300   # anti-sniping: last 5 minutes by default


class BidIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Yuan


class BidOut(msgspec.Struct):
    serial: int
    organisation_id: int
    amount: str
    placed_at: dt.datetime
    ends_at_after: dt.datetime


class AuctionOut(msgspec.Struct):
    id: int
    achievement_id: int
    seller_id: int
    starting_price: str
    increment: str
    reserve_met: bool | None   # the reserve itself stays the seller's secret
    starts_at: dt.datetime
    ends_at: dt.datetime
    scheduled_end: dt.datetime
    extend_seconds: int
    status: str
    high_bid: str | None
    bid_count: int
    winner_id: int | None
    server_time: dt.datetime
    bids: list[BidOut] = []


class BidderOut(msgspec.Struct):
    organisation_id: int
    deposit_paid: bool


def bid_out(b) -> BidOut:
    return BidOut(b.serial, b.organisation_id, f"{b.amount:.2f}", b.placed_at, b.ends_at_after)


def auction_out(a, now: dt.datetime, bids=()) -> AuctionOut:
    met = None if a.reserve_price is None or a.high_bid is None else a.high_bid >= a.reserve_price
    return AuctionOut(a.id, a.achievement_id, a.seller_id, f"{a.starting_price:.2f}", f"{a.increment:.2f}", met,
                      a.starts_at, a.ends_at, a.scheduled_end, a.extend_seconds, a.status,
                      None if a.high_bid is None else f"{a.high_bid:.2f}", a.bids, a.winner_id, now,
                      [bid_out(b) for b in bids])


class AuctionController(Controller):
    path = "/auctions"
    tags = ["trading"]

    @get("/", operation_id="listAuctions", sync_to_thread=True)
    def list_auctions(self, actor: Actor, session: Session) -> list[AuctionOut]:
        """Auctions, open ones first."""
        now = dt.datetime.now(dt.UTC)
        with session.begin():
            return [auction_out(a, now) for a in auctions.list_auctions(session, now=now)]

    @get("/{auction_id:int}", operation_id="getAuction", sync_to_thread=True)
    def get_auction(self, auction_id: PathId, actor: Actor, session: Session,
                    since: Annotated[int, Parameter(ge=0, le=2**31 - 1, description="bids after this serial")] = 0
                    ) -> AuctionOut:
        """The auction by the server's clock, with its bids after `since` (poll with the last serial you saw)."""
        with session.begin():
            state = auctions.auction_state(session, auction_id, since=since)
            return auction_out(state.auction, state.now, state.bids)

    @post("/", operation_id="createAuction", status_code=201, sync_to_thread=True)
    def create(self, data: AuctionIn, actor: Actor, session: Session, request: Request,
               idempotency_key: IdempotencyKey = None) -> Response[AuctionOut]:
        """The achievement's office opens an auction: starting price, increment, reserve, start and end, and the
        seconds a late bid extends the end by."""
        def write() -> AuctionOut:
            a = auctions.create_auction(
                session, actor=actor, achievement_id=data.achievement_id, starting_price=Decimal(data.starting_price),
                increment=Decimal(data.increment),
                reserve_price=Decimal(data.reserve_price) if data.reserve_price else None,
                starts_at=data.starts_at, ends_at=data.ends_at, extend_seconds=data.extend_seconds)
            return auction_out(a, dt.datetime.now(dt.UTC))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/{auction_id:int}/bidders", operation_id="registerBidder", status_code=200, sync_to_thread=True)
    def register(self, auction_id: PathId, actor: Actor, session: Session) -> BidderOut:
        """A reviewed firm registers to bid (again: no change)."""
        with session.begin():
            b = auctions.register_bidder(session, actor=actor, auction_id=auction_id)
            return BidderOut(b.organisation_id, b.deposit_paid)

    @post("/{auction_id:int}/bidders/{organisation_id:int}/deposit", operation_id="confirmDeposit", status_code=200,
          sync_to_thread=True)
    def deposit(self, auction_id: PathId, organisation_id: PathId, actor: Actor, session: Session) -> BidderOut:
        """The seller's office (or an admin) confirms a registered firm's deposit; it may then bid."""
        with session.begin():
            b = auctions.confirm_deposit(session, actor=actor, auction_id=auction_id, organisation_id=organisation_id)
            return BidderOut(b.organisation_id, b.deposit_paid)

    @post("/{auction_id:int}/bids", operation_id="placeBid", status_code=201, sync_to_thread=True)
    def bid(self, auction_id: PathId, data: BidIn, actor: Actor, session: Session, request: Request,
            idempotency_key: IdempotencyKey = None) -> Response[BidOut]:
        """A bid by a registered firm with a confirmed deposit: at least the high bid plus the increment (the
        starting price first); after the end, or too low, 409. Accepted bids are final."""
        def write() -> BidOut:
            return bid_out(auctions.place_bid(session, actor=actor, auction_id=auction_id,
                                              amount=Decimal(data.amount)))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)
