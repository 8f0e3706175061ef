"""A pair's deal thread (对接记录): everything that happened between the people of one demand and one achievement,
in time order — interest, answer, undertakings, the broker's claim and stages, messages and meetings, the contract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.deals.introductions import introduction_of, undertakings_of
from matchmaker.deals.parties import Pair, party_pair, party_user_ids
from matchmaker.errors import Conflict, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.models import (
    Achievement,
    Broker,
    Contract,
    Demand,
    Introduction,
    Organisation,
    Pipeline,
    PipelineEvent,
    ThreadMessage,
    User,
)
from matchmaker.notices.services import notify

STAGE_WORDS = {"claimed": "技术经纪人认领了这一对接", "contacted": "技术经纪人已联系双方", "negotiating": "双方进入洽谈",
               "signed": "双方签订了技术合同", "declined": "对接终止（一方谢绝）", "lapsed": "对接因长期无进展而终止"}


@dataclass
class Entry:
    at: dt.datetime
    kind: str          # interest / answer / undertaking / stage / message / meeting / contract
    who: str           # a person's name and organisation, in words
    text: str
    meeting_at: dt.datetime | None = None
    meeting_place: str = ""


@dataclass
class Thread:
    pair: Pair
    introduction: Introduction | None
    entries: list[Entry] = field(default_factory=list)
    contacts: list[tuple[str, str, str]] = field(default_factory=list)   # (name, organisation, email) once accepted
    pipeline: Pipeline | None = None
    broker_name: str = ""
    contract: Contract | None = None
    undertaken_by_me: bool = False
    may_post: bool = False


def deal_thread(session: Session, *, actor: Actor, demand_id: int, achievement_id: int) -> Thread:
    """The thread, for the people in the deal only (404 for anyone else)."""
    pair = party_pair(session, actor, demand_id, achievement_id)
    introduction = introduction_of(session, pair)
    thread = Thread(pair, introduction)
    people = _people(session)
    if introduction is not None:
        side_words = "需求方" if introduction.from_side == v.Library.DEMANDS else "成果方"
        thread.entries.append(Entry(introduction.requested_at, "interest", people(introduction.requested_by),
                                    f"{side_words}表达了对接意向" + (f"：{introduction.message}" if introduction.message else "")))
        if introduction.answered_at is not None:
            verdict = "接受了对接意向" if introduction.status == v.IntroductionStatus.ACCEPTED else "谢绝了对接意向"
            thread.entries.append(Entry(introduction.answered_at, "answer", people(introduction.answered_by),
                                        verdict + (f"：{introduction.answer_note}" if introduction.answer_note else "")))
        for undertaking in undertakings_of(session, introduction):
            thread.entries.append(Entry(undertaking.at, "undertaking", people(undertaking.user_id), "签署了保密承诺"))
            thread.undertaken_by_me |= undertaking.user_id == actor.user_id
        if introduction.status == v.IntroductionStatus.ACCEPTED:
            thread.contacts = [_contact(session, uid) for uid in (introduction.requested_by, introduction.answered_by)]
    for pipeline in session.scalars(select(Pipeline).where(Pipeline.demand_id == demand_id,
                                                           Pipeline.achievement_id == achievement_id).order_by(Pipeline.id)):
        thread.pipeline = pipeline
        broker = session.get(Broker, pipeline.broker_id)
        thread.broker_name = broker.name if broker else ""
        for event in session.scalars(select(PipelineEvent).where(PipelineEvent.pipeline_id == pipeline.id)
                                     .order_by(PipelineEvent.id)):
            words = STAGE_WORDS.get(event.to_stage, event.to_stage)
            thread.entries.append(Entry(event.at, "stage", people(event.actor_user_id),
                                        words + (f"：{event.note}" if event.note else "")))
        contract = session.scalar(select(Contract).where(Contract.pipeline_id == pipeline.id))
        if contract is not None:
            thread.contract = contract
    for message in session.scalars(select(ThreadMessage).where(ThreadMessage.demand_id == demand_id,
                                                               ThreadMessage.achievement_id == achievement_id)
                                   .order_by(ThreadMessage.id)):
        thread.entries.append(Entry(message.at, "meeting" if message.meeting_at else "message", people(message.author_id),
                                    message.body, message.meeting_at, message.meeting_place))
    thread.entries.sort(key=lambda entry: _aware(entry.at))
    thread.may_post = _may_post(actor, thread)
    return thread


def post_message(session: Session, *, actor: Actor, demand_id: int, achievement_id: int, body: str,
                 meeting_at: dt.datetime | None = None, meeting_place: str = "",
                 at: dt.datetime | None = None) -> ThreadMessage:
    """A message (or a meeting request with a proposed time) to everyone else in the deal."""
    thread = deal_thread(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id)
    if not thread.may_post:
        raise Conflict("对接意向被接受、或有技术经纪人认领这项对接之后才能留言，请等待对方答复")
    now = at or dt.datetime.now(dt.UTC)
    if meeting_at is not None and _aware(meeting_at) <= now:
        raise InvalidInput.on("meeting_at", "约见时间须在现在之后，请重新选择")
    message = ThreadMessage(demand_id=demand_id, achievement_id=achievement_id, author_id=actor.user_id,
                            body=body.strip(), meeting_at=meeting_at, meeting_place=meeting_place.strip(), at=now)
    session.add(message)
    session.flush()
    pair = thread.pair
    heading = f"《{pair.demand.title[:40]}》×《{pair.achievement.title[:40]}》"
    if meeting_at is not None:
        kind, title = "meeting", f"约见请求：{heading}"
        body_text = f"提议时间：{_local(meeting_at)}（北京时间）" + (f"，地点：{meeting_place}" if meeting_place else "")
        body_text += f"\n{message.body}"
    else:
        kind, title, body_text = "message", f"对接记录有新留言：{heading}", message.body
    notify(session, party_user_ids(session, pair), kind=v.NoticeKind.DEAL_MESSAGE, event=f"{kind}:{message.id}",
           title=title, body=body_text, link=pair.link, skip_user=actor.user_id)
    return message


def _may_post(actor: Actor, thread: Thread) -> bool:
    accepted = thread.introduction is not None and thread.introduction.status == v.IntroductionStatus.ACCEPTED
    brokered = thread.pipeline is not None
    return accepted or brokered or actor.is_(v.Role.ADMIN)


def _people(session: Session):
    cache: dict[int | None, str] = {}

    def name(user_id: int | None) -> str:
        if user_id not in cache:
            row = session.execute(select(User.name, Organisation.name).join(
                Organisation, Organisation.id == User.organisation_id).where(User.id == user_id)).first()
            cache[user_id] = f"{row[0]}（{row[1]}）" if row else "系统"
        return cache[user_id]
    return name


def _contact(session: Session, user_id: int | None) -> tuple[str, str, str]:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return ("", "", "")
    return (user.name, session.get(Organisation, user.organisation_id).name, user.email or "")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _local(moment: dt.datetime) -> str:
    return _aware(moment).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def deals_of_posting(session: Session, *, library: v.Library, record_id: int) -> list[dict]:
    """Every deal on one posting (introductions and pipelines), for its owner's page: the counterpart, where the
    deal stands in words, the broker and the contract."""
    column = "demand_id" if library is v.Library.DEMANDS else "achievement_id"
    pairs: dict[tuple[int, int], dict] = {}
    for intro in session.scalars(select(Introduction).where(getattr(Introduction, column) == record_id)):
        pairs[(intro.demand_id, intro.achievement_id)] = {
            "status": {"pending": "等待答复", "accepted": "双方已对接", "declined": "对方已谢绝"}[intro.status]}
    for pipeline in session.scalars(select(Pipeline).where(getattr(Pipeline, column) == record_id)
                                    .order_by(Pipeline.id)):
        broker = session.get(Broker, pipeline.broker_id)
        contract = session.scalar(select(Contract).where(Contract.pipeline_id == pipeline.id))
        pairs[(pipeline.demand_id, pipeline.achievement_id)] = {
            "status": STAGE_WORDS.get(pipeline.stage, pipeline.stage), "broker": broker.name if broker else "",
            "contract_id": contract.id if contract else None}
    counterpart = Achievement if library is v.Library.DEMANDS else Demand
    out = []
    for (demand_id, achievement_id), facts in pairs.items():
        other = session.get(counterpart, achievement_id if library is v.Library.DEMANDS else demand_id)
        out.append({"demand_id": demand_id, "achievement_id": achievement_id, "title": other.title, **facts})
    return out
