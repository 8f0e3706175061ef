"""Trading (issue 16): fixed-price listings (挂牌) of achievements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
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
