"""Deal records shared by the people in a pair: introductions, confidentiality undertakings, thread messages,
notices (the one inbox) and each person's notice preferences."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, UTCDateTime, one_of, utcnow


class Introduction(Base):
    """Interest in a match from one side (the demand's firm or the achievement's office) and the other's answer.

    One per pair: interest from the second side on a pending one accepts it (both want to talk).
    """

    __tablename__ = "introductions"
    __table_args__ = (
        CheckConstraint(one_of("status", v.IntroductionStatus), name="status"),
        CheckConstraint(one_of("from_side", v.Library), name="from_side"),
        UniqueConstraint("demand_id", "achievement_id", name="uq_introductions_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    from_side: Mapped[str] = mapped_column(String(12))   # the library of the initiator's own posting
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=v.IntroductionStatus.PENDING.value, index=True)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer_note: Mapped[str] = mapped_column(Text, default="")   # the reason of a decline, or a welcome
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Undertaking(Base):
    """A person's confidentiality undertaking (保密承诺) in an accepted introduction: it opens the detail."""

    __tablename__ = "undertakings"
    __table_args__ = (UniqueConstraint("introduction_id", "user_id", name="uq_undertakings_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    wording: Mapped[str] = mapped_column(Text)   # the text the person agreed to, as shown
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ThreadMessage(Base):
    """A message in a pair's deal thread (对接记录); a meeting request carries proposed times."""

    __tablename__ = "thread_messages"
    __table_args__ = (Index("ix_thread_messages_pair", "demand_id", "achievement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    meeting_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())   # a proposed meeting (with .ics)
    meeting_place: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notice(Base):
    """Something a person is told (the one inbox), and how far its email got.

    `event` names what happened (e.g. "interest:12"); with the person it is unique, so an event retried or
    replayed never tells anyone twice, and the email's Message-ID is derived from it.
    email_state: null = still to decide; queued (immediate) / digest (waiting for the daily digest) / sending
    (claimed by a worker) / sent / skipped (off, no address, or mail not configured when it happened) / failed.
    """

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(one_of("kind", v.NoticeKind), name="kind"),
        UniqueConstraint("user_id", "event", name="uq_notices_person_event"),
        Index("ix_notices_email_due", "email_state", "email_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    event: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")   # a path under the site, e.g. /web/deals/3/7
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    email_state: Mapped[str | None] = mapped_column(String(10))
    email_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_error: Mapped[str] = mapped_column(String(300), default="")
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class NoticePreference(Base):
    """How one person wants one kind of notice; no row means immediate."""

    __tablename__ = "notice_preferences"
    __table_args__ = (CheckConstraint(one_of("kind", v.NoticeKind), name="kind"),
                      CheckConstraint(one_of("delivery", v.Delivery), name="delivery"))

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))
