"""Telling people: one inbox of notices per person, and how each person wants each kind delivered.

Domain services call `notify` inside their own transaction, so a notice exists exactly when what it tells of
does. Email is decided and sent later by the job queue (notices/email.py); nothing slow runs in a request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.db import paged
from matchmaker.errors import NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Notice, NoticePreference, User

# What each kind is called on the preferences page and in digests.
KIND_WORDS = {
    v.NoticeKind.STRONG_MATCH: "新的高度匹配",
    v.NoticeKind.INTEREST_RECEIVED: "收到对接意向",
    v.NoticeKind.INTRODUCTION_ANSWERED: "对接意向的答复",
    v.NoticeKind.DEAL_MESSAGE: "对接记录中的新留言和约见",
    v.NoticeKind.DEAL_STAGE: "对接进展和合同签订",
    v.NoticeKind.REVIEW_OUTCOME: "发布审核结果",
    v.NoticeKind.POSTING_EXPIRING: "发布即将到期",
}
DELIVERY_WORDS = {v.Delivery.IMMEDIATE: "立即发邮件", v.Delivery.DAILY: "每日汇总一封", v.Delivery.OFF: "不发邮件，只在站内提醒"}


def notify(session: Session, user_ids, *, kind: v.NoticeKind, event: str, title: str, body: str = "",
           link: str = "", skip_user: int | None = None) -> int:
    """One notice per person for this event (a replay adds nothing); returns how many were new.

    The insert ignores a (person, event) pair that exists, so two workers or a retried request never tell twice.
    """
    wanted = sorted({uid for uid in user_ids if uid and uid != skip_user})
    if not wanted:
        return 0
    rows = [{"user_id": uid, "kind": kind.value, "event": event[:80], "title": title[:200], "body": body,
             "link": link[:300], "created_at": dt.datetime.now(dt.UTC)} for uid in wanted]
    waiting = session.info.get(_WAITING)
    if waiting is not None:   # notices_written_together: they go in with the block's others
        waiting.extend(rows)
        return len(rows)
    # RETURNING counts what was inserted on both databases (psycopg's rowcount is 0 for this statement).
    return len(session.scalars(_INSERT_COUNTED[session.get_bind().dialect.name], rows).all())


# Built once, the rows passed as parameters: building `insert(...).values(rows)` at every call cost twice running
# it (954 against 335 µs a notice to two people, SQLite, tmp/notify_bench-style loop), and every deal event notifies.
_INSERT = {name: insert(Notice).on_conflict_do_nothing(index_elements=["user_id", "event"])
           for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
_INSERT_COUNTED = {name: statement.returning(Notice.id) for name, statement in _INSERT.items()}
_WAITING = "notices_waiting"


@contextmanager
def notices_written_together(session: Session) -> Iterator[None]:
    """Every notice told inside the block is written at its end, all in one executemany, instead of one statement
    per `notify`: for a batch writer that reads no notices while it runs (the simulator's months; its national
    year writes 43,000 deal-stage notices). A person still gets one notice per event: the insert skips pairs that
    exist, the block's own repeats included. `notify` returns how many it queued. A request never uses it, so its
    notices are written, and counted, where they are told."""
    waiting = session.info[_WAITING] = []
    try:
        yield
        if waiting:
            session.execute(_INSERT[session.get_bind().dialect.name], waiting)
    finally:
        session.info.pop(_WAITING, None)


def organisation_users(session: Session, organisation_id: int | None) -> list[int]:
    """The people of an organisation who can act on its postings (not revoked)."""
    if organisation_id is None:
        return []
    known = session.info.get(_KNOWN_USERS)
    if known is not None and organisation_id in known:
        return list(known[organisation_id])
    found = list(session.scalars(_ORGANISATION_USERS, {"organisation_id": organisation_id}))
    if known is not None:
        known[organisation_id] = found
    return found


_ORGANISATION_USERS = select(User.id).where(User.organisation_id == bindparam("organisation_id"),
                                            User.revoked_at.is_(None))
_KNOWN_USERS = "organisation_users"


def remember_organisation_users(session: Session) -> None:
    """Each organisation's people read once in this session, not once per notice: for a batch writer that adds and
    revokes no users while it runs (a simulated month tells ~10,000 owners of review outcomes and deal stages;
    the query per notice was 5% of the national world's run). A request never asks for it."""
    session.info[_KNOWN_USERS] = {}


# ---------------------------------------------------------------- the inbox


def list_notices(session: Session, *, actor: Actor, unread_only: bool = False, limit: int = 20,
                 offset: int = 0) -> tuple[list[Notice], int]:
    """The caller's notices, newest first."""
    statement = select(Notice).where(Notice.user_id == actor.user_id)
    if unread_only:
        statement = statement.where(Notice.read_at.is_(None))
    rows, total = paged(session, statement.order_by(Notice.id.desc()), limit=limit, offset=offset)
    return [row[0] for row in rows], total


def unread_count(session: Session, *, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == actor.user_id, Notice.read_at.is_(None))) or 0


def mark_read(session: Session, *, actor: Actor, notice_id: int) -> Notice:
    """Mark one of the caller's notices read (idempotent); another person's is 404."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.user_id != actor.user_id:
        raise NotFound("找不到这条消息：它可能已被删除。请刷新消息列表后再操作。")
    notice.read_at = notice.read_at or dt.datetime.now(dt.UTC)
    session.flush()
    return notice


def mark_all_read(session: Session, *, actor: Actor) -> int:
    result = session.execute(update(Notice).where(Notice.user_id == actor.user_id, Notice.read_at.is_(None))
                             .values(read_at=dt.datetime.now(dt.UTC)))
    return result.rowcount or 0


# ---------------------------------------------------------------- preferences


def preferences(session: Session, user_id: int) -> dict[v.NoticeKind, v.Delivery]:
    """Every kind with the person's choice; immediate where they chose nothing."""
    chosen = dict(session.execute(select(NoticePreference.kind, NoticePreference.delivery)
                                  .where(NoticePreference.user_id == user_id)).all())
    return {kind: v.Delivery(chosen.get(kind.value, v.Delivery.IMMEDIATE.value)) for kind in v.NoticeKind}


def set_preferences(session: Session, user_id: int, choices: dict[str, str]) -> dict[v.NoticeKind, v.Delivery]:
    """Set some kinds' delivery (values already checked at the edge); the rest stay as they were."""
    for kind, delivery in choices.items():
        row = session.get(NoticePreference, (user_id, v.NoticeKind(kind).value))
        if row is None:
            session.add(NoticePreference(user_id=user_id, kind=v.NoticeKind(kind).value,
                                         delivery=v.Delivery(delivery).value))
        else:
            row.delivery = v.Delivery(delivery).value
    session.flush()
    return preferences(session, user_id)
