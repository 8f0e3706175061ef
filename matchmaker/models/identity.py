"""Reference data and who acts on the platform: regions, technology fields, organisations, users, brokers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, Timestamped, UTCDateTime, one_of


class Region(Base):
    """A GB/T 2260 administrative division (province, city or county)."""

    __tablename__ = "regions"
    __table_args__ = (CheckConstraint("level IN ('province', 'city', 'county')", name="level"),)

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)


class TechnologyField(Base):
    """A technology field from seeds/fields (新能源, 新材料, …)."""

    __tablename__ = "technology_fields"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


class Organisation(Timestamped, Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(one_of("kind", v.OrganisationKind), name="kind"),
        CheckConstraint(one_of("size", v.FirmSize), name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    size: Mapped[str | None] = mapped_column(String(10))
    high_tech: Mapped[bool] = mapped_column(default=False)  # 高新技术企业
    industry: Mapped[str | None] = mapped_column(String(60))


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", v.Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 hex; the token itself is never stored
    password_hash: Mapped[str | None] = mapped_column(String(200))  # scrypt, salted; null = API token only, no page login
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # null: a token issued before expiry
    email: Mapped[str | None] = mapped_column(String(254))  # where notices are mailed; null = inbox only


class Broker(Timestamped, Base):
    """A 技术经纪人; the credit score is computed from outcomes, so it is not a column."""

    __tablename__ = "brokers"
    __table_args__ = (CheckConstraint(one_of("level", v.BrokerLevel), name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    level: Mapped[str] = mapped_column(String(15))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    certified_on: Mapped[dt.date | None] = mapped_column(Date)
