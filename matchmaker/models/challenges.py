"""揭榜挂帅 (issue 16): a challenge with a bounty and scoring criteria, the teams' proposals with attachments, an
expert panel whose members declare conflicts of interest before they score, the challenger's award and the
milestones the bounty is paid against."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.models.base import Base, Money, UTCDateTime, utcnow


class Challenge(Base):
    """A challenge list (榜单): a firm, or a department on behalf of a firm, asks teams for solutions."""

    __tablename__ = "challenges"
    __table_args__ = (CheckConstraint("status IN ('open', 'reviewing', 'awarded', 'completed', 'cancelled')",
                                      name="status"),
                      CheckConstraint("bounty > 0", name="bounty"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)   # 发榜单位
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))   # the firm a department serves
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    title: Mapped[str] = mapped_column(String(200))
    requirements: Mapped[str] = mapped_column(Text)
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    bounty: Mapped[Decimal] = mapped_column(Money)
    deadline: Mapped[dt.date] = mapped_column(Date, index=True)   # proposals are taken up to and including this day
    criteria: Mapped[list] = mapped_column(JSON)   # [{"name": "技术先进性", "weight": 40}, …], weights sum to 100
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("challenge_proposals.id", use_alter=True))
    awarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Proposal(Base):
    """揭榜方案: one team's (one organisation's) answer to a challenge."""

    __tablename__ = "challenge_proposals"
    __table_args__ = (UniqueConstraint("challenge_id", "organisation_id", name="uq_challenge_proposals_team"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    team: Mapped[str] = mapped_column(String(200))   # the team's name and lead, as the proposal gives them
    summary: Mapped[str] = mapped_column(Text)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProposalAttachment(Base):
    """A PDF attached to a proposal (the full 揭榜方案, a team's qualifications, …), with its SHA-256."""

    __tablename__ = "proposal_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("challenge_proposals.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PanelMember(Base):
    """An expert (a user with the expert role) on a challenge's review panel."""

    __tablename__ = "panel_members"

    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConflictDeclaration(Base):
    """An expert's declaration on one proposal, made before scoring it and final: a conflicted expert recuses."""

    __tablename__ = "conflict_declarations"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("challenge_proposals.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    conflicted: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProposalScore(Base):
    """One expert's scores of one proposal, criterion by criterion (0-100), and their weighted total."""

    __tablename__ = "proposal_scores"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("challenge_proposals.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    scores: Mapped[list] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Milestone(Base):
    """A stage of the awarded work with the part of the bounty paid against it: planned → delivered → paid."""

    __tablename__ = "challenge_milestones"
    __table_args__ = (UniqueConstraint("challenge_id", "seq", name="uq_challenge_milestones_seq"),
                      CheckConstraint("status IN ('planned', 'delivered', 'paid')", name="status"),
                      CheckConstraint("amount > 0", name="amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), default="planned")
    delivery_note: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
