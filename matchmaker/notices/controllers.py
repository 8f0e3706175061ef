"""HTTP routes for the caller: the one inbox of notices, how each kind is delivered, and the email address."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post, put
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api.params import Limit, Offset, Page, PathId
from matchmaker.api.patterns import EMAIL
from matchmaker.identity.services import Actor
from matchmaker.models import User
from matchmaker.notices import services

Email = Annotated[str, msgspec.Meta(max_length=254, pattern=EMAIL)]


class NoticeOut(msgspec.Struct):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    emailed_at: dt.datetime | None


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Any of the kinds, each immediate (an email at once), daily (one digest a day) or off (the inbox only)."""

    strong_match: v.Delivery | None = None
    interest_received: v.Delivery | None = None
    introduction_answered: v.Delivery | None = None
    deal_message: v.Delivery | None = None
    deal_stage: v.Delivery | None = None
    review_outcome: v.Delivery | None = None
    posting_expiring: v.Delivery | None = None


class PreferencesOut(msgspec.Struct):
    strong_match: str
    interest_received: str
    introduction_answered: str
    deal_message: str
    deal_stage: str
    review_outcome: str
    posting_expiring: str


class MeIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email | None   # null: no email, notices stay in the inbox


class MeOut(msgspec.Struct):
    id: int
    name: str
    role: str
    organisation_id: int
    email: str | None
    unread_notices: int


def notice_out(n) -> NoticeOut:
    return NoticeOut(n.id, n.kind, n.title, n.body, n.link, n.created_at, n.read_at, n.emailed_at)


def preferences_out(chosen: dict) -> PreferencesOut:
    return PreferencesOut(**{kind.value: delivery.value for kind, delivery in chosen.items()})


class MeController(Controller):
    path = "/me"
    tags = ["notices"]

    @get("/", operation_id="getMe", sync_to_thread=True)
    def me(self, actor: Actor, session: Session) -> MeOut:
        """Who you are, where notices are mailed, and how many are unread."""
        with session.begin():
            user = session.get(User, actor.user_id)
            return MeOut(user.id, user.name, user.role, user.organisation_id, user.email,
                         services.unread_count(session, actor=actor))

    @patch("/", operation_id="updateMe", sync_to_thread=True)
    def update_me(self, data: MeIn, actor: Actor, session: Session) -> MeOut:
        """Set or clear your email address."""
        with session.begin():
            user = session.get(User, actor.user_id)
            user.email = data.email.strip() if data.email else None
            return MeOut(user.id, user.name, user.role, user.organisation_id, user.email,
                         services.unread_count(session, actor=actor))

    @get("/notices", operation_id="listMyNotices", sync_to_thread=True)
    def list_notices(self, actor: Actor, session: Session, unread_only: bool = False, limit: Limit = 20,
                     offset: Offset = 0) -> Page[NoticeOut]:
        """Your one inbox: strong matches, interest, answers, messages, meetings, deal stages and review outcomes."""
        with session.begin():
            rows, total = services.list_notices(session, actor=actor, unread_only=unread_only, limit=limit,
                                                offset=offset)
            return Page([notice_out(n) for n in rows], total, limit, offset)

    @post("/notices/{notice_id:int}/read", operation_id="readMyNotice", status_code=200, sync_to_thread=True)
    def read(self, notice_id: PathId, actor: Actor, session: Session) -> NoticeOut:
        """Mark one of your notices read."""
        with session.begin():
            return notice_out(services.mark_read(session, actor=actor, notice_id=notice_id))

    @get("/notice-preferences", operation_id="getMyNoticePreferences", sync_to_thread=True)
    def get_preferences(self, actor: Actor, session: Session) -> PreferencesOut:
        """How each kind of notice reaches you by email."""
        with session.begin():
            return preferences_out(services.preferences(session, actor.user_id))

    @put("/notice-preferences", operation_id="setMyNoticePreferences", sync_to_thread=True)
    def set_preferences(self, data: PreferencesIn, actor: Actor, session: Session) -> PreferencesOut:
        """Choose immediate, daily or off for any kinds; the others stay as they were."""
        choices = {name: getattr(data, name).value for name in data.__struct_fields__ if getattr(data, name)}
        with session.begin():
            return preferences_out(services.set_preferences(session, actor.user_id, choices))
