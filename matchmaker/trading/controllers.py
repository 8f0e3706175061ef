"""HTTP routes for fixed-price listings (挂牌)."""

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
from matchmaker.trading import listings


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


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
                                                       price=Decimal(data.price), ends_at=_aware(data.ends_at)))

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
                                               price=Decimal(data.price), ends_at=_aware(data.ends_at)))
