"""Trading (issue 16): fixed-price listings (挂牌), public notices of negotiated prices (协议定价公示), auctions (拍卖)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.models.base import Base, Money, UTCDateTime, utcnow

LISTING_OPEN = "status = 'open'"


class Listing(Base):
    """An achievement on offer at a fixed price for a period: the first qualified buyer to accept takes it."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'expired', 'withdrawn')", name="status"),
        CheckConstraint("price > 0", name="price"),
        CheckConstraint("ends_at > starts_at", name="period"),
        # One open listing per achievement: a relisting follows the end of the last one.
        Index("uq_listings_open_achievement", "achievement_id", unique=True,
              sqlite_where=text(LISTING_OPEN), postgresql_where=text(LISTING_OPEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    price: Mapped[Decimal] = mapped_column(Money)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))   # the listing this one relists
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PriceNotice(Base):
    """协议定价公示: a negotiated price for a university's or institute's achievement, published for a period
    before the contract may be signed; anyone signed in may object until it ends."""

    __tablename__ = "price_notices"
    __table_args__ = (CheckConstraint("price > 0", name="price"), CheckConstraint("ends_on > starts_on", name="period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    price: Mapped[Decimal] = mapped_column(Money)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)   # the first day after the period: signing may happen from here
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Objection(Base):
    """An objection to a price notice (异议), resolved by the seller's office in writing before signing."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("price_notices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Auction(Base):
    """An open ascending auction (拍卖) of an achievement: registered bidders only; a bid in the last minutes
    extends the end (anti-sniping); the server's clock decides; the highest bid at or above the reserve wins."""

    __tablename__ = "auctions"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="status"),
                      CheckConstraint("starting_price > 0 AND increment > 0", name="prices"),
                      CheckConstraint("ends_at > starts_at", name="period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    starting_price: Mapped[Decimal] = mapped_column(Money)
    increment: Mapped[Decimal] = mapped_column(Money)
    reserve_price: Mapped[Decimal | None] = mapped_column(Money)   # 保留价: below it nobody wins
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())   # moves on with each late bid
    scheduled_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    extend_seconds: Mapped[int] = mapped_column(default=300)   # a bid this close to the end moves it this far
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    high_bid: Mapped[Decimal | None] = mapped_column(Money)
    bids: Mapped[int] = mapped_column(default=0)   # also the serial of the last bid: a bidder's page asks "since"
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuctionBidder(Base):
    """A firm registered to bid, with its deposit (保证金) confirmed by the seller's office or an admin."""

    __tablename__ = "auction_bidders"

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    deposit_paid: Mapped[bool] = mapped_column(default=False)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Bid(Base):
    """One accepted bid: final and audited (who, how much, when by the server's clock)."""

    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("auction_id", "serial", name="uq_bids_auction_serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), index=True)
    serial: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())   # the auction's end once this bid was in
