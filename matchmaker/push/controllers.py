"""HTTP routes for the inbox (pushed matches of the caller's organisation), the caller's subscriptions and their notices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api import idempotency
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import Limit, Offset, Page, PathId
from matchmaker.api.patterns import REGION_CODE
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Demand
from matchmaker.push import services

RegionCode = Annotated[str, msgspec.Meta(pattern=REGION_CODE, description="a six-digit GB/T 2260 code")]
BodyFieldCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # checked against technology_fields
Keywords = Annotated[str, msgspec.Meta(max_length=200)]


class InboxEntryOut(msgspec.Struct):
    id: int
    demand_id: int
    demand_title: str
    achievement_id: int
    achievement_title: str
    score: float
    reason: str
    created_at: dt.datetime
    dismissed_at: dt.datetime | None



class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    library: v.Library
    field: BodyFieldCode | None = None
    region: RegionCode | None = None
    keywords: Keywords = ""  # any of these words (split on spaces, commas or 、) in the title or text


class SubscriptionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    library: v.Library | msgspec.UnsetType = msgspec.UNSET
    field: BodyFieldCode | None | msgspec.UnsetType = msgspec.UNSET
    region: RegionCode | None | msgspec.UnsetType = msgspec.UNSET
    keywords: Keywords | msgspec.UnsetType = msgspec.UNSET


class SubscriptionOut(msgspec.Struct):
    id: int
    library: str
    field: str | None
    region: str | None
    keywords: str
    created_at: dt.datetime


class NoticeOut(msgspec.Struct):
    """A new posting that fitted one of the caller's subscriptions; title is null if it is no longer visible."""

    id: int
    subscription_id: int | None
    library: str
    record_id: int
    title: str | None
    field: str | None
    region: str | None
    created_at: dt.datetime
    dismissed_at: dt.datetime | None



def notice_out(notice, record) -> NoticeOut:
    return NoticeOut(notice.id, notice.subscription_id, notice.library, notice.record_id,
                     record.title if record is not None else None, record.field_code if record is not None else None,
                     record.region_code if record is not None else None, notice.created_at, notice.dismissed_at)


def entries_out(session: Session, entries) -> list[InboxEntryOut]:
    """Inbox entries with both postings' titles: two queries for the page, not two per entry."""
    entries = list(entries)
    titles = {}
    for model, ids in ((Demand, {e.demand_id for e in entries}), (Achievement, {e.achievement_id for e in entries})):
        if ids:
            titles[model] = dict(session.execute(select(model.id, model.title).where(model.id.in_(ids))).all())
    return [InboxEntryOut(e.id, e.demand_id, titles[Demand][e.demand_id], e.achievement_id,
                          titles[Achievement][e.achievement_id], e.score, e.reason, e.created_at, e.dismissed_at)
            for e in entries]


def subscription_out(s) -> SubscriptionOut:
    return SubscriptionOut(s.id, s.library, s.field_code, s.region_code, s.keywords, s.created_at)


class InboxController(Controller):
    path = "/inbox"
    tags = ["push"]

    @get("/", operation_id="listInbox", sync_to_thread=True)
    def list_inbox(self, actor: Actor, session: Session, include_dismissed: bool = False,
                   limit: Limit = 20,
                   offset: Offset = 0) -> Page[InboxEntryOut]:
        """Matches pushed to the caller's organisation, newest first; dismissed ones only on request."""
        with session.begin():
            rows, total = services.list_inbox(session, actor=actor, include_dismissed=include_dismissed,
                                              limit=limit, offset=offset)
            return Page(entries_out(session, rows), total, limit, offset)

    @post("/{entry_id:int}/dismiss", operation_id="dismissInboxEntry", status_code=200, sync_to_thread=True)
    def dismiss(self, entry_id: PathId, actor: Actor, session: Session) -> InboxEntryOut:
        """Dismiss one of the organisation's entries."""
        with session.begin():
            return entries_out(session, [services.dismiss_entry(session, actor=actor, entry_id=entry_id)])[0]


class SubscriptionController(Controller):
    path = "/subscriptions"
    tags = ["push"]

    @get("/", operation_id="listSubscriptions", sync_to_thread=True)
    def list_subscriptions(self, actor: Actor, session: Session) -> list[SubscriptionOut]:
        """The caller's subscriptions."""
        return [subscription_out(s) for s in services.list_subscriptions(session, actor=actor)]

    @post("/", operation_id="createSubscription", status_code=201, sync_to_thread=True)
    def create_subscription(self, data: SubscriptionIn, actor: Actor, session: Session, request: Request,
                            idempotency_key: IdempotencyKey = None) -> Response[SubscriptionOut]:
        """Be told about new postings in a library by field, region (a province includes its cities) and keywords."""
        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=lambda: subscription_out(services.create_subscription(
                                       session, actor=actor, library=data.library.value, field=data.field,
                                       region=data.region, keywords=data.keywords)))

    @get("/{subscription_id:int}", operation_id="getSubscription", sync_to_thread=True)
    def get_subscription(self, subscription_id: PathId, actor: Actor, session: Session) -> SubscriptionOut:
        """One of the caller's subscriptions."""
        return subscription_out(services.own_subscription(session, actor=actor, subscription_id=subscription_id))

    @patch("/{subscription_id:int}", operation_id="updateSubscription", sync_to_thread=True)
    def update_subscription(self, subscription_id: PathId, data: SubscriptionUpdate, actor: Actor,
                            session: Session) -> SubscriptionOut:
        """Change one of the caller's subscriptions."""
        changes = {name: getattr(data, name) for name in data.__struct_fields__ if getattr(data, name) is not msgspec.UNSET}
        if "library" in changes:
            changes["library"] = changes["library"].value
        with session.begin():
            return subscription_out(services.update_subscription(session, actor=actor, subscription_id=subscription_id,
                                                                 changes=changes))

    @delete("/{subscription_id:int}", operation_id="deleteSubscription", sync_to_thread=True)
    def delete_subscription(self, subscription_id: PathId, actor: Actor, session: Session) -> None:
        """Delete one of the caller's subscriptions."""
        with session.begin():
            services.delete_subscription(session, actor=actor, subscription_id=subscription_id)


class NoticeController(Controller):
    path = "/notices"
    tags = ["push"]

    @get("/", operation_id="listNotices", sync_to_thread=True)
    def list_notices(self, actor: Actor, session: Session, include_dismissed: bool = False,
                     limit: Limit = 20,
                     offset: Offset = 0) -> Page[NoticeOut]:
        """New postings that fitted the caller's subscriptions, newest first; dismissed ones only on request."""
        with session.begin():
            rows, total = services.list_notices(session, actor=actor, include_dismissed=include_dismissed,
                                                limit=limit, offset=offset)
            return Page([notice_out(n, r) for n, r in rows], total, limit, offset)

    @post("/{notice_id:int}/dismiss", operation_id="dismissNotice", status_code=200, sync_to_thread=True)
    def dismiss(self, notice_id: PathId, actor: Actor, session: Session) -> NoticeOut:
        """Dismiss one of the caller's notices."""
        with session.begin():
            return notice_out(*services.dismiss_notice(session, actor=actor, notice_id=notice_id))
