"""科技成果评价 (issue 16): a third-party evaluator's report on an achievement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker import vocabulary as v
from matchmaker.models.base import Base, Money, UTCDateTime, one_of, utcnow


class EvaluationReport(Base):
    """An evaluator organisation's report: the TRL as assessed, a value range, the method, the date, who signed."""

    __tablename__ = "evaluation_reports"
    __table_args__ = (CheckConstraint(one_of("method", v.EvaluationMethod), name="method"),
                      CheckConstraint("trl_assessed BETWEEN 1 AND 9", name="trl"),
                      CheckConstraint("value_low > 0 AND value_high >= value_low", name="value_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    trl_assessed: Mapped[int]
    value_low: Mapped[Decimal] = mapped_column(Money)
    value_high: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(10))
    evaluated_on: Mapped[dt.date] = mapped_column(Date)
    signatory: Mapped[str] = mapped_column(String(100))   # the evaluator who signs the report (评价负责人)
    conclusion: Mapped[str] = mapped_column(Text)   # 评价结论
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
