"""HTTP routes for introductions (interest, answer, undertaking) and a pair's deal thread."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api import idempotency
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import BodyId, Limit, Offset, Page, PathId
from matchmaker.api.patterns import VISIBLE
from matchmaker.deals import introductions, thread
from matchmaker.deals.parties import NO_DEAL
from matchmaker.errors import NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Introduction

Message = Annotated[str, msgspec.Meta(max_length=2000)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=VISIBLE)]
Place = Annotated[str, msgspec.Meta(max_length=200)]


class InterestIn(msgspec.Struct, forbid_unknown_fields=True):
    demand_id: BodyId
    achievement_id: BodyId
    message: Message = ""   # what the other side should know: what you need, when you could talk


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    accept: bool
    note: Message = ""   # required when declining: why, so the other side knows what would fit


class IntroductionOut(msgspec.Struct):
    id: int
    demand_id: int
    achievement_id: int
    from_side: str
    message: str
    status: str
    answer_note: str
    requested_at: dt.datetime
    answered_at: dt.datetime | None


class UndertakingOut(msgspec.Struct):
    id: int
    introduction_id: int
    user_id: int
    organisation_id: int
    wording: str
    at: dt.datetime


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Body
    meeting_at: dt.datetime | None = None   # a proposed meeting time (with its time zone); the others get an .ics
    meeting_place: Place = ""


class MessageOut(msgspec.Struct):
    id: int
    demand_id: int
    achievement_id: int
    author_id: int
    body: str
    meeting_at: dt.datetime | None
    meeting_place: str
    at: dt.datetime


class EntryOut(msgspec.Struct):
    at: dt.datetime
    kind: str
    who: str
    text: str
    meeting_at: dt.datetime | None
    meeting_place: str


class ContactOut(msgspec.Struct):
    name: str
    organisation: str
    email: str


class ThreadOut(msgspec.Struct):
    demand_id: int
    demand_title: str
    achievement_id: int
    achievement_title: str
    introduction: IntroductionOut | None
    contacts: list[ContactOut]
    pipeline_id: int | None
    stage: str | None
    broker: str
    contract_id: int | None
    entries: list[EntryOut]


def introduction_out(i: Introduction) -> IntroductionOut:
    return IntroductionOut(i.id, i.demand_id, i.achievement_id, i.from_side, i.message, i.status, i.answer_note,
                           i.requested_at, i.answered_at)


def thread_out(t: thread.Thread) -> ThreadOut:
    return ThreadOut(
        t.pair.demand.id, t.pair.demand.title, t.pair.achievement.id, t.pair.achievement.title,
        introduction_out(t.introduction) if t.introduction else None,
        [ContactOut(*contact) for contact in t.contacts], t.pipeline.id if t.pipeline else None,
        t.pipeline.stage if t.pipeline else None, t.broker_name, t.contract.id if t.contract else None,
        [EntryOut(e.at, e.kind, e.who, e.text, e.meeting_at, e.meeting_place) for e in t.entries])


class IntroductionController(Controller):
    path = "/introductions"
    tags = ["deals"]

    @post("/", operation_id="createIntroduction", status_code=201, sync_to_thread=True)
    def create(self, data: InterestIn, actor: Actor, session: Session, request: Request,
               idempotency_key: IdempotencyKey = None) -> Response[IntroductionOut]:
        """Mark interest in a match from your own posting (firm: your demand; office: your achievement).

        The other side's people are told and accept or decline; interest from both sides accepts at once.
        """
        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=lambda: introduction_out(introductions.express_interest(
                                       session, actor=actor, demand_id=data.demand_id,
                                       achievement_id=data.achievement_id, message=data.message)))

    @get("/", operation_id="listIntroductions", sync_to_thread=True)
    def list_introductions(self, actor: Actor, session: Session, status: v.IntroductionStatus | None = None,
                           limit: Limit = 20, offset: Offset = 0) -> Page[IntroductionOut]:
        """Introductions on your organisation's postings, sent and received, newest first."""
        with session.begin():
            rows, total = introductions.list_introductions(session, actor=actor, status=status.value if status else None,
                                                           limit=limit, offset=offset)
            return Page([introduction_out(i) for i in rows], total, limit, offset)

    @get("/{introduction_id:int}", operation_id="getIntroduction", sync_to_thread=True)
    def get_introduction(self, introduction_id: PathId, actor: Actor, session: Session) -> IntroductionOut:
        """One introduction, for the people in its deal."""
        with session.begin():
            found = session.get(Introduction, introduction_id)
            if found is None:
                raise NotFound(NO_DEAL)
            thread.deal_thread(session, actor=actor, demand_id=found.demand_id, achievement_id=found.achievement_id)
            return introduction_out(found)

    @post("/{introduction_id:int}/answer", operation_id="answerIntroduction", status_code=200, sync_to_thread=True)
    def answer(self, introduction_id: PathId, data: AnswerIn, actor: Actor, session: Session) -> IntroductionOut:
        """Accept or decline interest in your posting (a decline says why)."""
        with session.begin():
            return introduction_out(introductions.answer_introduction(
                session, actor=actor, introduction_id=introduction_id, accept=data.accept, note=data.note))

    @post("/{introduction_id:int}/undertaking", operation_id="acknowledgeUndertaking", status_code=201,
          sync_to_thread=True)
    def undertaking(self, introduction_id: PathId, actor: Actor, session: Session, request: Request,
                    idempotency_key: IdempotencyKey = None) -> Response[UndertakingOut]:
        """Acknowledge the confidentiality undertaking (保密承诺) of an accepted introduction; for the demand's firm
        it opens the achievement's confidential detail. Recorded with time and person."""
        def write() -> UndertakingOut:
            u = introductions.acknowledge_undertaking(session, actor=actor, introduction_id=introduction_id)
            return UndertakingOut(u.id, u.introduction_id, u.user_id, u.organisation_id, u.wording, u.at)

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=None, write=write)


class DealController(Controller):
    path = "/deals"
    tags = ["deals"]

    @get("/{demand_id:int}/{achievement_id:int}", operation_id="getDealThread", sync_to_thread=True)
    def get_thread(self, demand_id: PathId, achievement_id: PathId, actor: Actor, session: Session) -> ThreadOut:
        """A pair's deal thread (对接记录): interest, answer, undertakings, the broker's stages, messages, meetings and
        the contract. Only for the demand's firm, the achievement's organisation and the deal's brokers."""
        with session.begin():
            return thread_out(thread.deal_thread(session, actor=actor, demand_id=demand_id,
                                                 achievement_id=achievement_id))

    @post("/{demand_id:int}/{achievement_id:int}/messages", operation_id="postDealMessage", status_code=201,
          sync_to_thread=True)
    def post_message(self, demand_id: PathId, achievement_id: PathId, data: MessageIn, actor: Actor,
                     session: Session, request: Request, idempotency_key: IdempotencyKey = None) -> Response[MessageOut]:
        """A message to the others in the deal, or a meeting request with a proposed time (they get an .ics)."""
        def write() -> MessageOut:
            m = thread.post_message(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id,
                                    body=data.body, meeting_at=data.meeting_at, meeting_place=data.meeting_place)
            return MessageOut(m.id, m.demand_id, m.achievement_id, m.author_id, m.body, m.meeting_at,
                              m.meeting_place, m.at)

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data, write=write)
