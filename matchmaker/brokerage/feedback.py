"""Feedback on matches: one verdict per person per pair, from the firm, the office or a broker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage.common import READ_ALL_ROLES, choice_names, current_time, parse, visible_record
from matchmaker.db import paged
from matchmaker.errors import Conflict, Forbidden, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Demand, Feedback


def give_feedback(session: Session, *, actor: Actor, demand_id: int, achievement_id: int, relevant: bool,
                  reason: str | None = None, note: str = "", at: dt.datetime | None = None) -> Feedback:
    """A verdict on a match by the demand's firm, the achievement's office or a broker; data for the matcher.

    One verdict per person per pair: a repeat replaces the earlier one. Only postings the person may see can be
    judged (someone else's draft answers 404, as reading it does).
    """
    demand = visible_record(session, actor, Demand, demand_id, "demand_id")
    achievement = visible_record(session, actor, Achievement, achievement_id, "achievement_id")
    _check_may_judge(actor, demand, achievement)
    if relevant and reason is not None:
        raise InvalidInput.on("reason", "评价为“相关”时不用填写原因；请清空原因，或改评为“不相关”")
    if not relevant and reason is None:
        raise InvalidInput.on("reason", f"请选择不相关的原因：{choice_names(v.FeedbackReason)}")
    reason = parse(v.FeedbackReason, reason, "reason").value if reason is not None else None
    when = current_time(at)
    pair = (Feedback.user_id == actor.user_id, Feedback.demand_id == demand_id, Feedback.achievement_id == achievement_id)
    for _ in range(2):   # a concurrent first verdict on the same pair wins the insert; ours then updates it
        feedback = session.scalar(select(Feedback).where(*pair))
        if feedback is not None:
            feedback.relevant, feedback.reason, feedback.note, feedback.updated_at = relevant, reason, note or "", when
            session.flush()
            return feedback
        try:
            with session.begin_nested():
                feedback = Feedback(demand_id=demand_id, achievement_id=achievement_id, user_id=actor.user_id,
                                    relevant=relevant, reason=reason, note=note or "", created_at=when)
                session.add(feedback)
            return feedback
        except IntegrityError:
            continue
    raise Conflict("您的评价在保存时被同时修改了；请再提交一次。")


def _check_may_judge(actor: Actor, demand: Demand, achievement: Achievement) -> None:
    if actor.is_(v.Role.BROKER):
        return
    if actor.is_(v.Role.FIRM):
        if demand.organisation_id != actor.organisation_id:
            raise Forbidden("这条需求不属于贵单位；企业只能评价本单位需求的匹配结果。")
        return
    if actor.is_(v.Role.OFFICE):
        if achievement.organisation_id != actor.organisation_id:
            raise Forbidden("这项成果不属于贵单位；高校院所只能评价本单位成果的匹配结果。")
        return
    raise Forbidden(f"匹配评价由企业、高校院所技术转移机构和技术经纪人提交，"
                    f"您的身份是{v.ROLE_NAMES.get(actor.role.value, '其他用户')}，不能提交评价。")


def list_feedback(session: Session, *, actor: Actor, demand_id: int | None = None, achievement_id: int | None = None,
                  relevant: bool | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Feedback], int]:
    if not actor.is_(*READ_ALL_ROLES):
        raise Forbidden("匹配评价只对平台管理员和科技管理部门开放。")
    query = select(Feedback)
    for column, value in ((Feedback.demand_id, demand_id), (Feedback.achievement_id, achievement_id),
                          (Feedback.relevant, relevant)):
        if value is not None:
            query = query.where(column == value)
    rows, total = paged(session, query.order_by(Feedback.id), limit=limit, offset=offset)
    return [row[0] for row in rows], total
