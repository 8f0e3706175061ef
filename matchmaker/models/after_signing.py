"""Life after signing: payment milestones, royalty reports of licences, and the inventors' share of the proceeds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.models.base import Base, Money, UTCDateTime, utcnow


class ContractPayment(Base):
    """A payment milestone (付款节点): what is due when, and what arrived when."""

    __tablename__ = "contract_payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),
                      CheckConstraint("received_amount IS NULL OR received_amount >= 0", name="received_amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))   # 首付款, 验收款, …
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[dt.date | None] = mapped_column(Date)
    received_amount: Mapped[Decimal | None] = mapped_column(Money)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoyaltyReport(Base):
    """A licensee's report for a period (提成报告): its sales of the licensed product and the royalty owed."""

    __tablename__ = "royalty_reports"
    __table_args__ = (UniqueConstraint("contract_id", "period", name="uq_royalty_reports_contract_period"),
                      CheckConstraint("sales_amount >= 0 AND royalty_amount >= 0", name="amounts"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))   # 2026-Q2 or 2026
    sales_amount: Mapped[Decimal] = mapped_column(Money)
    royalty_amount: Mapped[Decimal] = mapped_column(Money)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProceedsShare(Base):
    """A person's share of a contract's proceeds (赋权 / 奖酬): the seeds ask that researchers are rewarded, and
    offices report what each inventor received."""

    __tablename__ = "proceeds_shares"
    __table_args__ = (UniqueConstraint("contract_id", "person", name="uq_proceeds_shares_contract_person"),
                      CheckConstraint("percent > 0 AND percent <= 100", name="percent"),
                      CheckConstraint("basis IN ('reward', 'ownership')", name="basis"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    person: Mapped[str] = mapped_column(String(100), index=True)   # the inventor's name, as the office records it
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    basis: Mapped[str] = mapped_column(String(10))   # reward 奖酬 (a share of the proceeds) or ownership 赋权
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
