"""Reminders before a published posting closes by date: its people are told a few days ahead (a daily job)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.specs import LIBRARIES, PUBLISHED
from matchmaker.notices.services import notify, organisation_users

REMIND_DAYS = 7   # how long before the date the owner hears of it: time to extend, or to close it as solved
DATE_WORDS = {v.Library.ACHIEVEMENTS: ("成果", "有效期"), v.Library.DEMANDS: ("需求", "截止日期")}


def remind_expiring(session: Session, *, today: dt.date | None = None, days: int = REMIND_DAYS) -> int:
    """One notice per person and posting and date for published postings closing within `days`; returns how many."""
    today = today or dt.date.today()
    told = 0
    for library, spec in LIBRARIES.items():
        date = spec.column(spec.date_column)
        closing = session.scalars(select(spec.model).where(
            spec.model.status == PUBLISHED, date.is_not(None), date >= today,
            date <= today + dt.timedelta(days=days))).all()
        noun, date_name = DATE_WORDS[library]
        for record in closing:
            ends = getattr(record, spec.date_column)
            told += notify(session, organisation_users(session, record.organisation_id),
                           kind=v.NoticeKind.POSTING_EXPIRING, event=f"expiring:{spec.noun}:{record.id}:{ends}",
                           title=f"您发布的{noun}《{record.title[:80]}》将于 {ends:%Y年%m月%d日} 到期",
                           body=f"到期后将不再参与匹配和推送。如仍需要，请在到期前修改{date_name}；"
                                f"如已{'转化' if library is v.Library.ACHIEVEMENTS else '解决'}，请标记关闭。",
                           link=f"/web/{spec.name}/{record.id}/edit")
    return told
