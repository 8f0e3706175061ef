"""A posting's way through review: submit, approve or reject, withdraw, close as transferred or solved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.access import REVIEWERS, may_review
from matchmaker.catalog.services import apply_pending, editable_record, get_record, log_index_change
from matchmaker.catalog.specs import DEMANDS, DRAFT, EDITABLE, PENDING, PUBLISHED, WITHDRAWN, LibrarySpec
from matchmaker.errors import Conflict, FieldProblem, Forbidden, InvalidInput
from matchmaker.identity import audit
from matchmaker.identity.market import in_market
from matchmaker.identity.services import Actor
from matchmaker.notices.services import notify, organisation_users

# Called inside the publishing transaction with (session, library, record); the push service plugs in here.
OnPublish = Callable[[Session, v.Library, Any], None]


def submit_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int):
    """The owner sends a draft for review, once it says enough to be reviewed and matched."""
    record = editable_record(session, actor, spec, record_id)
    problems = submission_problems(spec, record)
    if problems:
        raise InvalidInput("提交审核前还需补充：" + "；".join(p.reason for p in problems), problems=problems)
    _move(record, spec, (DRAFT,), PENDING)
    return record


MIN_TEXT = 10   # characters: a title alone reached review once; the matcher reads this text, so must the reviewer


def submission_problems(spec: LibrarySpec, record) -> list[FieldProblem]:
    """What a draft still lacks before review, all at once, each saying what to write."""
    problems = []
    if spec is DEMANDS:
        if len((record.problem or "").strip()) < MIN_TEXT:
            problems.append(FieldProblem("problem", f"请描述拟解决的技术难题（至少 {MIN_TEXT} 字）：卡在哪里、影响什么"))
    elif len((record.summary or "").strip()) < MIN_TEXT:
        problems.append(FieldProblem("summary", f"请填写成果简介（至少 {MIN_TEXT} 字）：解决什么问题、指标如何"))
    if not record.field_code:
        problems.append(FieldProblem("field", "请选择技术领域：审核、检索和匹配都按领域进行"))
    return problems


def approve_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int,
                   today: dt.date | None = None, on_publish: OnPublish | None = None, flush: bool = True):
    """An admin publishes a pending posting: it becomes matchable and counterpart owners are told.

    `flush=False` is for a batch caller that is the only writer (the simulator publishes a month's postings in one
    transaction): the record's UPDATE, its change-log and audit rows wait for the session's next flush, together
    with the others'. A request always flushes, so the publish hook reads the posting as published.
    """
    today = today or dt.date.today()
    record = _reviewed_record(session, actor, spec, record_id, today)
    if record.status == PUBLISHED and record.pending_changes:   # a revision of a published posting
        apply_pending(session, spec, record)
        record.review_note = None
        audit.record(session, audit.REVISION_APPROVED, actor=actor, subject=f"{spec.noun}:{record.id}")
        session.flush()
        return record
    deadline = getattr(record, spec.date_column)
    if deadline is not None and deadline < today:
        raise InvalidInput.on(spec.date_column, f"这条{spec.words}的{spec.date_words}（{deadline}）已过，不能发布；请退回给发布单位，"
                                                "请其改为今天之后的日期后重新提交。")
    _move(record, spec, (PENDING,), PUBLISHED)
    record.review_note = None
    record.posted_on = record.posted_on or today
    log_index_change(session, spec, record.id)
    audit.record(session, audit.APPROVED, actor=actor, subject=f"{spec.noun}:{record.id}")
    if flush:
        session.flush()
    with session.no_autoflush:   # the owner's people and their notice do not depend on the UPDATE
        _tell_owner(session, spec, record, f"已通过审核并发布：《{record.title[:80]}》", "现在它可以被检索和匹配。")
    if on_publish is not None:
        on_publish(session, spec.library, record)
    return record


def reject_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int, note: str):
    """An admin sends a pending posting back to draft with a note for the owner."""
    if not note.strip():
        raise InvalidInput.on("note", "退回时请写明需要发布单位修改的内容")
    record = _reviewed_record(session, actor, spec, record_id)
    if record.status == PUBLISHED and record.pending_changes:   # the revision is dropped; the posting stays as it was
        record.pending_changes = None
        record.review_note = note.strip()
        audit.record(session, audit.REJECTED, actor=actor, subject=f"{spec.noun}:{record.id}", revision=True)
        return record
    _move(record, spec, (PENDING,), DRAFT)
    record.review_note = note.strip()  # kept through resubmission, so the reviewer sees what was asked
    audit.record(session, audit.REJECTED, actor=actor, subject=f"{spec.noun}:{record.id}")
    session.flush()
    _tell_owner(session, spec, record, f"审核退回：《{record.title[:80]}》",
                f"审核意见：{record.review_note}\n请按意见修改后重新提交审核。")
    return record


def _tell_owner(session: Session, spec: LibrarySpec, record, title: str, body: str) -> None:
    """The posting's organisation hears the review outcome (in the inbox, and by email as each person chose)."""
    notify(session, organisation_users(session, record.organisation_id), kind=v.NoticeKind.REVIEW_OUTCOME,
           event=f"review:{spec.noun}:{record.id}:{record.status}:{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}",
           title=title, body=body, link=f"/web/{spec.name}/{record.id}")


def withdraw_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int):
    """The owner takes a posting down; it is no longer matched."""
    record = editable_record(session, actor, spec, record_id)
    was_published = record.status == PUBLISHED
    _move(record, spec, EDITABLE, WITHDRAWN)
    if was_published:
        log_index_change(session, spec, record.id)
    return record


def close_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int):
    """The owner marks a published posting transferred (achievement) or solved (demand)."""
    record = editable_record(session, actor, spec, record_id)
    _move(record, spec, (PUBLISHED,), spec.closed_status)
    log_index_change(session, spec, record.id)
    return record


def _reviewed_record(session: Session, actor: Actor, spec: LibrarySpec, record_id: int, today: dt.date | None = None):
    record = get_record(session, actor=actor, spec=spec, record_id=record_id, today=today)
    if not may_review(actor):
        raise Forbidden(f"只有{'或'.join(v.ROLE_NAMES[r] for r in REVIEWERS)}可以审核发布的信息。")
    if not in_market(actor, record.region_code):
        raise Forbidden("这条信息属于其他地区的市场，由该地区的审核员审核")
    return record


def _move(record, spec: LibrarySpec, allowed_from: tuple[str, ...], to: str) -> None:
    if record.status not in allowed_from:
        names = v.STATUS_NAMES
        raise Conflict(f"这条信息现在是“{names.get(record.status, record.status)}”，不能改为“{names.get(to, to)}”"
                       f"（只有{'、'.join(names.get(s, s) for s in allowed_from)}的可以）。请刷新页面查看最新状态。")
    record.status = to
