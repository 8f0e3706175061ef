"""Reference data and who acts on the platform: regions, technology fields, organisations, users, brokers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.sql.expression import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, Timestamped, UTCDateTime, one_of, utcnow


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
        CheckConstraint(one_of("status", v.OrganisationStatus), name="status"),
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
    # Self-registered organisations wait for the reviewer of their region: pending → active | rejected.
    # Organisations an admin or an import made are active from the start.
    status: Mapped[str] = mapped_column(String(10), default=v.OrganisationStatus.ACTIVE.value,
                                        server_default=v.OrganisationStatus.ACTIVE.value, index=True)
    review_note: Mapped[str | None] = mapped_column(Text)   # why an application was rejected


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", v.Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))   # what people see
    login: Mapped[str | None] = mapped_column(String(100), unique=True)   # a login name besides the email, if any
    role: Mapped[str] = mapped_column(String(10))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 hex; the token itself is never stored
    password_hash: Mapped[str | None] = mapped_column(String(200))  # scrypt, salted; null = API token only, no page login
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # null: a token issued before expiry
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # where notices are mailed; also a login
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The market an analyst or admin works in (a province sees its cities, a city its counties); null = the
    # whole platform. Other roles act for their organisation and ignore it.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    org_admin: Mapped[bool] = mapped_column(default=False, server_default=sa_false())  # invites colleagues


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


class AccountToken(Base):
    """A one-time link mailed to a person: verify an email, set a password after an invitation, reset it.

    Only the token's SHA-256 is stored, so a copy of the database opens no account; a token works once
    (used_at) and until expires_at.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (CheckConstraint(one_of("purpose", v.TokenPurpose), name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboundMail(Base):
    """An account email waiting for the job worker (same SMTP setting and queue as notices).

    queued ─claim→ sending ─accepted→ sent (the body, which carried a one-time link, is then blanked);
    errors go back to queued with a growing delay, failed after the last attempt.
    """

    __tablename__ = "outbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
