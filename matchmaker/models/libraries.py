"""The two libraries (achievements with their IP records, demands) and the generated world's truth about them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, ModeSet, Money, Timestamped, UTCDateTime, one_of


class Achievement(Timestamped, Base):
    """A 科技成果 posted by a university or institute office."""

    __tablename__ = "achievements"
    __table_args__ = (
        CheckConstraint("trl BETWEEN 1 AND 9", name="trl"),
        CheckConstraint("asking_price >= 0", name="asking_price"),
        CheckConstraint(f"transfer_modes BETWEEN 0 AND {v.ALL_MODES_MASK}", name="transfer_modes"),
        CheckConstraint(one_of("pricing_mode", v.PricingMode), name="pricing_mode"),
        CheckConstraint(one_of("status", v.AchievementStatus), name="status"),
        Index("ix_achievements_status_field", "status", "field_code"),
        Index("ix_achievements_status_posted", "status", "posted_on", "id"),  # the storefront's newest-first pages
        # The libraries' newest-first pages whatever the statuses shown: read backwards, SQLite stops after a page
        # instead of sorting every visible row (benchmarks/speed/listing.py).
        Index("ix_achievements_posted", "posted_on", "id"),
        Index("ix_achievements_field_posted", "field_code", "posted_on", "id"),   # the same within one field
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    confidential_detail: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500), default="")
    team: Mapped[str | None] = mapped_column(String(200))
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    trl: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    transfer_modes: Mapped[frozenset[str]] = mapped_column(ModeSet, default=0)
    pricing_mode: Mapped[str | None] = mapped_column(String(12))
    asking_price: Mapped[Decimal | None] = mapped_column(Money)
    use_first_pay_later: Mapped[bool] = mapped_column(default=False)  # 先使用后付费
    status: Mapped[str] = mapped_column(String(16), default=v.AchievementStatus.DRAFT.value)
    posted_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    review_note: Mapped[str | None] = mapped_column(Text)  # the reviewer's last rejection note; cleared on approval
    # A material change to a published posting waits here for review while the approved version stays visible.
    pending_changes: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    ip_records: Mapped[list[IPRecord]] = relationship(
        back_populates="achievement", cascade="all, delete-orphan", order_by="IPRecord.id"
    )


class IPRecord(Base):
    """A patent, software copyright or other IP right behind an achievement."""

    __tablename__ = "ip_records"
    __table_args__ = (
        CheckConstraint(one_of("ip_type", v.IPType), name="ip_type"),
        CheckConstraint(one_of("status", v.IPStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    ip_type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=v.IPStatus.GRANTED.value)

    achievement: Mapped[Achievement] = relationship(back_populates="ip_records")


class Demand(Timestamped, Base):
    """A 企业技术需求 posted by a firm; a challenge (揭榜挂帅) carries a bounty."""

    __tablename__ = "demands"
    __table_args__ = (
        CheckConstraint("min_trl BETWEEN 1 AND 9", name="min_trl"),
        CheckConstraint("budget_min >= 0", name="budget_min"),
        CheckConstraint("budget_max >= 0", name="budget_max"),
        CheckConstraint("budget_min <= budget_max", name="budget_range"),
        CheckConstraint("bounty >= 0", name="bounty"),
        CheckConstraint(f"cooperation_modes BETWEEN 0 AND {v.ALL_MODES_MASK}", name="cooperation_modes"),
        CheckConstraint(one_of("status", v.DemandStatus), name="status"),
        Index("ix_demands_status_field", "status", "field_code"),
        Index("ix_demands_status_posted", "status", "posted_on", "id"),
        Index("ix_demands_posted", "posted_on", "id"),
        Index("ix_demands_field_posted", "field_code", "posted_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    problem: Mapped[str] = mapped_column(Text, default="")  # 拟解决的技术难题
    targets: Mapped[str] = mapped_column(Text, default="")  # 预期目标
    conditions: Mapped[str] = mapped_column(Text, default="")  # 现有基础
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    min_trl: Mapped[int | None] = mapped_column(SmallInteger)
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money)
    cooperation_modes: Mapped[frozenset[str]] = mapped_column(ModeSet, default=0)
    is_challenge: Mapped[bool] = mapped_column(default=False)
    bounty: Mapped[Decimal | None] = mapped_column(Money)
    deadline: Mapped[dt.date | None] = mapped_column(Date, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=v.DemandStatus.DRAFT.value)
    posted_on: Mapped[dt.date | None] = mapped_column(Date)
    review_note: Mapped[str | None] = mapped_column(Text)  # the reviewer's last rejection note; cleared on approval
    # A material change to a published posting waits here for review while the approved version stays visible.
    pending_changes: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


# Newest first, undated last (the libraries' default order, `-posted_on`) on PostgreSQL. It sorts NULLs first in a
# descending scan, so the (posted_on, id) indexes above could not give that order and every default page read and
# sorted the whole library (13 ms a page at the province scale, a quarter of the listing's time); these hold the keys
# in that order. SQLite needs none: its indexes know no NULLS LAST, and its NULLs sort first ascending, so the plain
# index read backwards already gives it. `migrate.for_this_database` keeps them out of SQLite's comparisons.
for _model in (Achievement, Demand):
    for _name, _keys in (("posted_newest", ()), ("status_posted_newest", (_model.status,)),
                         ("field_posted_newest", (_model.field_code,))):
        Index(f"ix_{_model.__tablename__}_{_name}", *_keys, _model.posted_on.desc().nulls_last(),
              _model.id.desc()).ddl_if(dialect="postgresql")


# The expiry check before every read asks for the first published posting past its date (catalog/services.py). On
# (status, date) PostgreSQL's statistics, which take status and date as independent, expected thousands of such rows,
# so it walked the plain date index from the oldest date and read past every record expired long ago (6,203 at the
# province scale: 7.8 ms a request); these hold published postings only, and the answer is at the front (0.06 ms).
PUBLISHED_ONLY = text(f"status = '{v.AchievementStatus.PUBLISHED.value}'")   # the same word in both libraries
for _model, _date in ((Achievement, Achievement.expires_on), (Demand, Demand.deadline)):
    Index(f"ix_{_model.__tablename__}_published_{_date.key}", _date, postgresql_where=PUBLISHED_ONLY,
          sqlite_where=PUBLISHED_ONLY)


class LatentFit(Base):
    """The synthetic world's ground truth: how well an achievement answers a demand (4 strong … 1 unrelated)."""

    __tablename__ = "latent_fits"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level"),)

    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True)
    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger)


class World(Base):
    """One generated world (scale + seed); its row makes `matchmaker seed` idempotent."""

    __tablename__ = "worlds"
    __table_args__ = (UniqueConstraint("scale", "seed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scale: Mapped[str] = mapped_column(String(20))
    seed: Mapped[int] = mapped_column(Integer)
    generator_version: Mapped[str] = mapped_column(String(20))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), server_default=func.now())
