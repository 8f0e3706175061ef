"""Push (精准推送): tell the owners of matching open records, and subscribers, about a newly published record."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.access import is_visible
from matchmaker.catalog.references import reference_problems
from matchmaker.catalog.specs import LIBRARIES, PUBLISHED
from matchmaker.db import paged
from matchmaker.errors import InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.matching import impressions
from matchmaker.matching.ranking import Match
from matchmaker.matching.scoring import POSSIBLE, STRONG
from matchmaker.matching.service import MatchingService
from matchmaker.matching.wording import TIER_WORDS
from matchmaker.models import (
    Achievement,
    Demand,
    InboxEntry,
    Subscription,
    SubscriptionNotice,
    User,
)
from matchmaker.notices.services import notify, organisation_users
from matchmaker.regions import RegionCode

# A counterpart's owner is told of a pair at least 可能相关 (匹配度 ≥ scoring.POSSIBLE). Measured on the demo world
# (benchmarks/calibration/push_threshold.py): it tells owners of 27% of the related pairs at 2.8 pushes per demand;
# 高度匹配 alone (0.3) would reach 3% of them. Callers may pass their own.
PUSH_THRESHOLD = POSSIBLE
PUSH_CANDIDATES = 50  # counterparts ranked per publication; more than an inbox would show
KEYWORD_SPLIT = re.compile(r"[\s,，、;；]+")


def push_published(session: Session, *, matching: MatchingService, library: v.Library, record,
                   threshold: float = PUSH_THRESHOLD) -> int:
    """Create inbox entries for a record just published; returns how many were new.

    Runs inside the publishing transaction, so the entries exist exactly when the publication does.
    """
    matches = _counterpart_matches(matching, library, record)
    pushed = [m for m in matches if m.score >= threshold]
    if pushed:  # a push is a slate of its own in the impression log: every pushed pair was shown
        slate = impressions.Slate(uuid.uuid4().hex, pushed, [1.0] * len(pushed), [None] * len(pushed))
        target = v.Library.DEMANDS if library is v.Library.ACHIEVEMENTS else v.Library.ACHIEVEMENTS
        impressions.log_slate(session, slate, pushed, user_id=None, surface=v.Surface.PUSH, direction=target,
                              query_id=record.id, k=len(pushed), exploration=0.0,
                              ranker=matching.ranker_version(matching.weights))
    created = 0
    for match in matches:
        if match.score >= threshold:
            counterpart = _counterpart(session, library, match.id)
            if counterpart is not None:
                created += _add_entry(session, library, record, counterpart, match.score, _match_reason(counterpart, match))
                if match.score >= STRONG:
                    _tell_strong_match(session, library, record, counterpart, match)
    for subscription in matching_subscriptions(session, library, record):
        created += _notify_subscriber(session, library, record, subscription)
    return created


def _counterpart_matches(matching: MatchingService, library: v.Library, record) -> list[Match]:
    if library is v.Library.ACHIEVEMENTS:
        return matching.demands_for(record, k=PUSH_CANDIDATES)
    return matching.achievements_for(record, k=PUSH_CANDIDATES)


def _counterpart(session: Session, library: v.Library, record_id: int):
    model = Demand if library is v.Library.ACHIEVEMENTS else Achievement
    row = session.get(model, record_id)
    return row if row is not None and row.status == PUBLISHED and row.organisation_id else None


def _pair(library: v.Library, record, counterpart) -> tuple[int, int]:
    """(demand_id, achievement_id) of a new record and its counterpart."""
    return (counterpart.id, record.id) if library is v.Library.ACHIEVEMENTS else (record.id, counterpart.id)


def _add_entry(session: Session, library: v.Library, record, counterpart, score: float, reason: str) -> int:
    """One entry per organisation and pair: a re-publication or a second reason adds nothing."""
    if counterpart.organisation_id == record.organisation_id:
        return 0
    demand_id, achievement_id = _pair(library, record, counterpart)
    exists = session.scalar(select(InboxEntry.id).where(
        InboxEntry.organisation_id == counterpart.organisation_id,
        InboxEntry.demand_id == demand_id, InboxEntry.achievement_id == achievement_id))
    if exists:
        return 0
    session.add(InboxEntry(organisation_id=counterpart.organisation_id, demand_id=demand_id,
                           achievement_id=achievement_id, score=float(score), reason=reason[:200]))
    session.flush()
    return 1


def _tell_strong_match(session: Session, library: v.Library, record, counterpart, match: Match) -> None:
    """A 高度匹配 reaches the counterpart's people as a notice (and, by their preference, an email)."""
    if counterpart.organisation_id == record.organisation_id:
        return
    demand_id, achievement_id = _pair(library, record, counterpart)
    new_kind = "成果" if library is v.Library.ACHIEVEMENTS else "需求"
    notify(session, organisation_users(session, counterpart.organisation_id), kind=v.NoticeKind.STRONG_MATCH,
           event=f"match:{demand_id}:{achievement_id}", title=f"新的高度匹配{new_kind}：《{record.title[:80]}》",
           body=_match_reason(counterpart, match), link=f"/web/deals/{demand_id}/{achievement_id}")


def _match_reason(counterpart, match: Match) -> str:
    terms = "、".join(term for term, _ in match.explanation.shared_terms[:5])
    head = f"与您发布的《{counterpart.title[:60]}》{TIER_WORDS[match.tier]}（匹配度 {match.score:.0%}）"
    return f"{head}，共同关键词：{terms}" if terms else head


# ---------------------------------------------------------------- subscriptions


def matching_subscriptions(session: Session, library: v.Library, record) -> list[Subscription]:
    """Subscriptions to this record's library whose field, region and keywords all fit it."""
    text = " ".join(filter(None, (getattr(record, name, "") for name in LIBRARIES[library].search_columns)))
    found = []
    for subscription in session.scalars(select(Subscription).where(Subscription.library == library.value)):
        if subscription.field_code and subscription.field_code != record.field_code:
            continue
        if subscription.region_code and not RegionCode(subscription.region_code).contains(record.region_code):
            continue
        words = [w for w in KEYWORD_SPLIT.split(subscription.keywords or "") if w]
        if words and not any(word.lower() in text.lower() for word in words):
            continue
        found.append(subscription)
    return found


def _notify_subscriber(session: Session, library: v.Library, record, subscription: Subscription) -> int:
    """One notice per user and posting, whatever the user's organisation has posted (brokers and analysts too)."""
    exists = session.scalar(select(SubscriptionNotice.id).where(
        SubscriptionNotice.user_id == subscription.user_id, SubscriptionNotice.library == library.value,
        SubscriptionNotice.record_id == record.id))
    if exists or record.organisation_id == session.get(User, subscription.user_id).organisation_id:
        return 0
    session.add(SubscriptionNotice(user_id=subscription.user_id, subscription_id=subscription.id,
                                   library=library.value, record_id=record.id))
    session.flush()
    return 1


def create_subscription(session: Session, *, actor: Actor, library: str, field: str | None, region: str | None,
                        keywords: str) -> Subscription:
    _check_subscription(session, field, region)
    subscription = Subscription(user_id=actor.user_id, library=library, field_code=field, region_code=region,
                                keywords=keywords.strip())
    session.add(subscription)
    session.flush()
    return subscription


def _check_subscription(session: Session, field: str | None, region: str | None) -> None:
    problems = reference_problems(session, field=field, region=region)
    if problems:
        raise InvalidInput.of(problems)


def own_subscription(session: Session, *, actor: Actor, subscription_id: int) -> Subscription:
    """A subscription of the calling user; others' are 404, as if they did not exist."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.user_id != actor.user_id:
        raise NotFound("找不到这条订阅：它可能已被取消。请刷新“订阅推送”页面后再操作。")
    return subscription


def list_subscriptions(session: Session, *, actor: Actor) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(Subscription.user_id == actor.user_id).order_by(Subscription.id)))


def update_subscription(session: Session, *, actor: Actor, subscription_id: int, changes: dict) -> Subscription:
    subscription = own_subscription(session, actor=actor, subscription_id=subscription_id)
    _check_subscription(session, changes.get("field"), changes.get("region"))
    columns = {"field": "field_code", "region": "region_code", "keywords": "keywords", "library": "library"}
    for name, value in changes.items():
        setattr(subscription, columns[name], value.strip() if name == "keywords" else value)
    session.flush()
    return subscription


def delete_subscription(session: Session, *, actor: Actor, subscription_id: int) -> None:
    session.delete(own_subscription(session, actor=actor, subscription_id=subscription_id))
    session.flush()


# ---------------------------------------------------------------- inbox


def list_inbox(session: Session, *, actor: Actor, include_dismissed: bool = False, limit: int = 20,
               offset: int = 0) -> tuple[list[InboxEntry], int]:
    """The caller's organisation's entries, newest first."""
    statement = select(InboxEntry).where(InboxEntry.organisation_id == actor.organisation_id)
    if not include_dismissed:
        statement = statement.where(InboxEntry.dismissed_at.is_(None))
    rows, total = paged(session, statement.order_by(InboxEntry.id.desc()), limit=limit, offset=offset)
    return [row[0] for row in rows], total


def dismiss_entry(session: Session, *, actor: Actor, entry_id: int) -> InboxEntry:
    """Dismiss an entry of the caller's organisation (idempotent); another organisation's is 404."""
    entry = session.get(InboxEntry, entry_id)
    if entry is None or entry.organisation_id != actor.organisation_id:
        raise NotFound("找不到这条精准推送：它可能已被处理或删除。请刷新页面后再操作。")
    entry.dismissed_at = entry.dismissed_at or dt.datetime.now(dt.UTC)
    session.flush()
    return entry


# ---------------------------------------------------------------- subscription notices


def list_notices(session: Session, *, actor: Actor, include_dismissed: bool = False, limit: int = 20,
                 offset: int = 0) -> tuple[list[tuple[SubscriptionNotice, object]], int]:
    """The caller's notices, newest first, each with its posting (None once the posting is no longer visible)."""
    statement = select(SubscriptionNotice).where(SubscriptionNotice.user_id == actor.user_id)
    if not include_dismissed:
        statement = statement.where(SubscriptionNotice.dismissed_at.is_(None))
    rows, total = paged(session, statement.order_by(SubscriptionNotice.id.desc()), limit=limit, offset=offset)
    return [(notice, _notice_record(session, actor, notice)) for notice, in rows], total


def _notice_record(session: Session, actor: Actor, notice: SubscriptionNotice):
    record = session.get(LIBRARIES[v.Library(notice.library)].model, notice.record_id)
    return record if record is not None and is_visible(actor, record) else None


def dismiss_notice(session: Session, *, actor: Actor, notice_id: int) -> tuple[SubscriptionNotice, object]:
    """Dismiss one of the caller's notices (idempotent); another user's is 404."""
    notice = session.get(SubscriptionNotice, notice_id)
    if notice is None or notice.user_id != actor.user_id:
        raise NotFound("找不到这条订阅推送：它可能已被删除。请刷新“订阅推送”页面后再操作。")
    notice.dismissed_at = notice.dismissed_at or dt.datetime.now(dt.UTC)
    session.flush()
    return notice, _notice_record(session, actor, notice)
