"""科技成果评价: a third-party evaluator — an organisation of the evaluator kind, through its experts — files a report
on a published achievement: the TRL as it assessed it, a value range, the method (市场法, 收益法 or 成本法), the date
and the signatory. Reports are final (a new evaluation is a new report); the achievement shows the latest, and its
office is told. Who may read a report is who may read the achievement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.access import is_visible
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, EvaluationReport, Organisation
from matchmaker.notices.services import notify, organisation_users

MAX_AGE_DAYS = 3 * 365   # an evaluation older than three years is not filed as current


def file_report(session: Session, *, actor: Actor, achievement_id: int, trl_assessed: int, value_low: Decimal,
                value_high: Decimal, method: str, evaluated_on: dt.date, signatory: str, conclusion: str,
                today: dt.date | None = None) -> EvaluationReport:
    today = today or dt.date.today()
    evaluator = session.get(Organisation, actor.organisation_id)
    if actor.role is not v.Role.EXPERT or evaluator is None or evaluator.kind != v.OrganisationKind.EVALUATOR.value \
            or evaluator.status != v.OrganisationStatus.ACTIVE.value:
        raise Forbidden("只有第三方评价机构的评价人员可以提交科技成果评价报告")
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or not is_visible(actor, achievement):
        raise NotFound("没有找到该成果")
    if achievement.status != v.AchievementStatus.PUBLISHED.value:
        raise Conflict("只能评价已发布的成果")
    try:
        method = v.EvaluationMethod(method).value
    except ValueError:
        raise InvalidInput.on("method", "评价方法须为市场法、收益法或成本法") from None
    if not 1 <= trl_assessed <= 9:
        raise InvalidInput.on("trl_assessed", "评定的技术成熟度须为 1–9 级")
    if value_low <= 0 or value_high < value_low:
        raise InvalidInput.on("value_high", "评估价值区间须大于 0，且上限不低于下限")
    if not today - dt.timedelta(days=MAX_AGE_DAYS) <= evaluated_on <= today:
        raise InvalidInput.on("evaluated_on", "评价日期须在今天或以前，且不早于三年前")
    signatory, conclusion = signatory.strip(), conclusion.strip()
    if not 2 <= len(signatory) <= 100:
        raise InvalidInput.on("signatory", "请填写评价负责人（签字人）姓名")
    if not 10 <= len(conclusion) <= 5000:
        raise InvalidInput.on("conclusion", "评价结论须为 10–5000 字")
    report = EvaluationReport(achievement_id=achievement.id, evaluator_id=evaluator.id, trl_assessed=trl_assessed,
                              value_low=value_low, value_high=value_high, method=method, evaluated_on=evaluated_on,
                              signatory=signatory, conclusion=conclusion, created_by=actor.user_id)
    session.add(report)
    session.flush()
    notify(session, organisation_users(session, achievement.organisation_id), kind=v.NoticeKind.REVIEW_OUTCOME,
           event=f"evaluation:{report.id}", title=f"《{achievement.title[:60]}》收到科技成果评价报告",
           body=f"{evaluator.name}评定技术成熟度 {trl_assessed} 级，评估价值 {value_low:,.2f}–{value_high:,.2f} 元"
                f"（{v.LABELS_ZH[v.EvaluationMethod(method)]}）。",
           link=f"/web/achievements/{achievement.id}")
    return report


def reports_of(session: Session, actor: Actor, achievement_id: int) -> list[EvaluationReport]:
    """An achievement's reports, the latest first, for whoever may read the achievement."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or not is_visible(actor, achievement):
        raise NotFound("没有找到该成果")
    return latest_first(session, achievement_id)


def latest_first(session: Session, achievement_id: int) -> list[EvaluationReport]:
    return list(session.scalars(select(EvaluationReport).where(EvaluationReport.achievement_id == achievement_id)
                                .order_by(EvaluationReport.evaluated_on.desc(), EvaluationReport.id.desc())))


def filed_by(session: Session, organisation_id: int, *, limit: int = 100) -> list[EvaluationReport]:
    """An evaluator's own reports (its page)."""
    return list(session.scalars(select(EvaluationReport).where(EvaluationReport.evaluator_id == organisation_id)
                                .order_by(EvaluationReport.id.desc()).limit(limit)))
