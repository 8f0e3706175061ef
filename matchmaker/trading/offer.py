"""What may be put on offer: a published achievement, by its own office (listings and auctions alike)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement


def offered_achievement(session: Session, actor: Actor, achievement_id: int, *, action: str) -> Achievement:
    """The achievement, if the actor's office owns it and it is published; `action` names the act (挂牌, 拍卖)."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None:
        raise NotFound("没有找到该成果")
    if actor.role is not v.Role.OFFICE or actor.organisation_id != achievement.organisation_id:
        raise Forbidden(f"只有成果所属单位可以{action}")
    if achievement.status != v.AchievementStatus.PUBLISHED.value:
        reason = f"只有已发布的成果可以{action}；请先发布成果"
        raise Conflict.on("achievement_id", reason)
    return achievement


def aware(moment: dt.datetime) -> dt.datetime:
    """A time a client sent without a zone is read as UTC (the API documents RFC 3339 times)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def now_or(now: dt.datetime | None) -> dt.datetime:
    """The server's clock, unless a caller (a test, the simulator) names the moment."""
    return now or dt.datetime.now(dt.UTC)
