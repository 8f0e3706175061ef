"""Brokerage records: deal pipelines and their moves, technology contracts, feedback on matches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, Money, Timestamped, UTCDateTime, one_of, utcnow

PIPELINE_LIVE = f"stage NOT IN ({', '.join(repr(s.value) for s in v.ENDED_WITHOUT_CONTRACT)})"


class Pipeline(Timestamped, Base):
    """A broker's claim on a (demand, achievement) match, moved stage by stage to a contract or an end."""

    __tablename__ = "pipelines"
    __table_args__ = (
        CheckConstraint(one_of("stage", v.PipelineStage), name="stage"),
        # One live or signed pipeline per pair; a declined or lapsed pair may be claimed again later.
        Index("uq_pipelines_live_pair", "demand_id", "achievement_id", unique=True,
              sqlite_where=text(PIPELINE_LIVE), postgresql_where=text(PIPELINE_LIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    broker_id: Mapped[int] = mapped_column(ForeignKey("brokers.id"), index=True)
    stage: Mapped[str] = mapped_column(String(12), default=v.PipelineStage.CLAIMED.value, index=True)
    score: Mapped[float | None] = mapped_column(Float)  # the match score when claimed
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock: a move names the version it saw

    events: Mapped[list[PipelineEvent]] = relationship(order_by="PipelineEvent.id", cascade="all, delete-orphan")

    # SQLAlchemy's own optimistic lock: a flush updates a pipeline WHERE id AND version are what this session read,
    # bumps the version, and raises StaleDataError when another writer moved it first (pipelines.advance).
    __mapper_args__ = {"version_id_col": version}


class PipelineEvent(Base):
    """One move of a pipeline: who, when, from which stage to which, and why."""

    __tablename__ = "pipeline_events"
    __table_args__ = (
        CheckConstraint(one_of("to_stage", v.PipelineStage), name="to_stage"),
        CheckConstraint(one_of("from_stage", v.PipelineStage), name="from_stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Contract(Timestamped, Base):
    """A 技术合同 as the registration form records it."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(one_of("contract_type", v.ContractType), name="contract_type"),
        CheckConstraint(one_of("payment_mode", v.PaymentMode), name="payment_mode"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("certified_amount >= 0 AND certified_amount <= amount", name="certified_amount"),
        CheckConstraint(
            "payment_mode <> 'use_first_pay_later' OR trial_ends_on IS NOT NULL", name="trial_end_for_use_first"
        ),
        CheckConstraint(one_of("licence_scope", v.LicenceScope), name="licence_scope"),
        CheckConstraint("licence_scope IS NULL OR contract_type = 'licence'", name="licence_scope_for_licence"),
        Index("ix_contracts_signed_on", "signed_on"),
        # A party in China has a GB/T 2260 region; one abroad (境外) has only its country.
        CheckConstraint("buyer_country <> 'CN' OR buyer_region_code IS NOT NULL", name="buyer_region_in_china"),
        CheckConstraint("seller_country <> 'CN' OR seller_region_code IS NOT NULL", name="seller_region_in_china"),
        CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from", name="validity"),
        CheckConstraint("trial_outcome IS NULL OR trial_outcome IN ('converted', 'ended')", name="trial_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int | None] = mapped_column(ForeignKey("pipelines.id"), unique=True)
    contract_type: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Money)  # 成交额
    certified_amount: Mapped[Decimal | None] = mapped_column(Money)  # 核定技术交易额
    payment_mode: Mapped[str] = mapped_column(String(20))
    licence_scope: Mapped[str | None] = mapped_column(String(10))  # licences only: 独占 / 排他 / 普通
    trial_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_on: Mapped[dt.date] = mapped_column(Date)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    seller_region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("brokers.id"), index=True)
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    registered_on: Mapped[dt.date | None] = mapped_column(Date)
    registration_office: Mapped[str | None] = mapped_column(String(6))   # the region code of the office that registered it
    return_reason: Mapped[str | None] = mapped_column(Text)   # why the registrar sent it back; cleared on registration
    # The registration form's other fields (brokerage/form.py holds their lists); empty on contracts signed before
    # the form was complete, required when a party submits one.
    sub_type: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(300))   # 项目名称
    buyer_party_type: Mapped[str | None] = mapped_column(String(20))
    seller_party_type: Mapped[str | None] = mapped_column(String(20))
    buyer_country: Mapped[str] = mapped_column(String(2), default="CN", server_default="CN")
    seller_country: Mapped[str] = mapped_column(String(2), default="CN", server_default="CN")
    field_code: Mapped[str | None] = mapped_column(ForeignKey("technology_fields.code"))
    ip_type: Mapped[str | None] = mapped_column(String(20))
    programme: Mapped[str | None] = mapped_column(String(12))   # 计划类别
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    foreign_related: Mapped[bool] = mapped_column(default=False, server_default=text("false"))   # 涉外
    tax_relief: Mapped[bool] = mapped_column(default=False, server_default=text("false"))   # 涉税: asks for the exemption
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))   # the party's user who submitted it
    # 先使用后付费: how the trial ended — converted to a paid contract, or ended (the firm stopped using it).
    trial_outcome: Mapped[str | None] = mapped_column(String(10))
    trial_outcome_on: Mapped[dt.date | None] = mapped_column(Date)


class ContractDocument(Base):
    """The contract's text as the parties signed it (a PDF), with the SHA-256 the registrar and parties can check."""

    __tablename__ = "contract_documents"

    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegistrationSequence(Base):
    """The last registration number an office gave in a year: one row per (office, year), raised by one in the
    registering transaction, so numbers are consecutive and a registration that rolls back takes its number back."""

    __tablename__ = "registration_sequences"

    office_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Feedback(Base):
    """A firm's, office's or broker's verdict on a match: data for the matcher to learn from."""

    __tablename__ = "feedback"
    # One verdict per person per pair: a repeat replaces the earlier one (brokerage.feedback.give_feedback).
    __table_args__ = (CheckConstraint(one_of("reason", v.FeedbackReason), name="reason"),
                      UniqueConstraint("user_id", "demand_id", "achievement_id", name="uq_feedback_user_pair"))

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    relevant: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
