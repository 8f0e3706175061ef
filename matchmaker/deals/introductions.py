"""Interest in a match and the introduction it leads to (对接意向 → 对接), with the confidentiality undertaking.

A firm (for its demand) or an office (for its achievement) marks interest in a counterpart, with an optional
message; the counterpart's people are told and accept or decline with a reason. Interest from the second side
on a pending request accepts it: both want to talk. Once accepted, the contact persons are shown to both, and
the firm may read the achievement's confidential detail after one of its people acknowledges the undertaking.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.db import paged
from matchmaker.deals.parties import NO_DEAL, Pair, load_pair, party_pair
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity import audit
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, ConfidentialGrant, Demand, Introduction, Pipeline, Undertaking
from matchmaker.notices.services import notify, organisation_users

Status = v.IntroductionStatus
_ANSWERED = {Status.ACCEPTED: "被接受", Status.DECLINED: "被谢绝"}   # how a refusal names an earlier answer
UNDERTAKING_WORDING = ("本人代表所在单位承诺：对在本次对接中获悉的对方技术秘密和保密信息严格保密，"
                       "仅用于评估和洽谈本项合作，未经对方书面同意不向任何第三方披露，也不用于其他目的。")


def express_interest(session: Session, *, actor: Actor, demand_id: int, achievement_id: int, message: str = "",
                     at: dt.datetime | None = None) -> Introduction:
    """Interest from the actor's own posting in the counterpart; idempotent for the same side."""
    pair = load_pair(session, actor, demand_id, achievement_id)
    side = pair.side_of(actor)
    if side is None:
        raise Forbidden("只有需求所属的企业或成果所属的单位可以表达对接意向；技术经纪人请改为认领这一对需求与成果")
    now = at or dt.datetime.now(dt.UTC)
    own, counterpart = ((pair.demand, pair.achievement) if side is v.Library.DEMANDS else (pair.achievement, pair.demand))
    if own.status != "published" or counterpart.status != "published":
        raise Conflict("对接意向只能在两条都已发布的需求与成果之间表达，请先发布您这一方的需求或成果")
    found = _introduction(session, pair)
    if found is None:
        try:
            with session.begin_nested():
                found = Introduction(demand_id=demand_id, achievement_id=achievement_id, from_side=side.value,
                                     requested_by=actor.user_id, message=message.strip(), requested_at=now)
                session.add(found)
        except IntegrityError:   # the other side asked at the same moment: answer theirs
            found = _introduction(session, pair)
        else:
            _tell_counterpart(session, pair, found, side)
            return found
    if found.status == Status.PENDING and found.from_side != side.value:
        return _answer(session, actor, pair, found, accept=True, note=message.strip() or "我方也有对接意向", now=now)
    if found.status == Status.DECLINED and found.from_side == side.value:
        raise Conflict("对方已谢绝这次对接，谢绝的原因请在对接记录中查看")
    return found


def interest_status(session: Session, *, actor: Actor, demand_id: int, achievement_id: int) -> str:
    """Express interest and say where it stands (pending, accepted, or declined when the other side had declined)."""
    try:
        with session.begin_nested():
            return express_interest(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id).status
    except Conflict:
        return Status.DECLINED.value


def answer_introduction(session: Session, *, actor: Actor, introduction_id: int, accept: bool, note: str = "",
                        at: dt.datetime | None = None) -> Introduction:
    """The counterpart's people accept or decline (a decline says why); answering the same way again is a no-op."""
    introduction = session.get(Introduction, introduction_id)
    if introduction is None:
        raise NotFound(NO_DEAL)
    pair = party_pair(session, actor, introduction.demand_id, introduction.achievement_id)
    side = pair.side_of(actor)
    if side is None or side.value == introduction.from_side:
        raise Forbidden("对接意向由被联系的一方（该需求或成果所属的单位）答复，您不能答复自己一方发出的意向")
    wanted = Status.ACCEPTED if accept else Status.DECLINED
    if introduction.status == wanted:
        return introduction
    if introduction.status != Status.PENDING:
        raise Conflict(f"这次对接意向已经{_ANSWERED.get(introduction.status, '答复过了')}，请刷新页面查看")
    if not accept and not note.strip():
        raise InvalidInput.on("note", "谢绝时请写明原因，方便对方了解什么样的合作更合适")
    return _answer(session, actor, pair, introduction, accept=accept, note=note.strip(),
                   now=at or dt.datetime.now(dt.UTC))


def acknowledge_undertaking(session: Session, *, actor: Actor, introduction_id: int,
                            at: dt.datetime | None = None) -> Undertaking:
    """The actor's confidentiality undertaking in an accepted introduction, recorded with time and person.

    When the demand's firm acknowledges, its organisation may read the achievement's confidential detail.
    """
    introduction = session.get(Introduction, introduction_id)
    if introduction is None:
        raise NotFound(NO_DEAL)
    pair = party_pair(session, actor, introduction.demand_id, introduction.achievement_id)
    if pair.side_of(actor) is None:
        raise Forbidden("保密承诺由需求方和成果方两家单位的人员作出，您不属于其中任何一方")
    if introduction.status != Status.ACCEPTED:
        raise Conflict("对接意向被接受之后才能作出保密承诺，请等待对方答复")
    found = session.scalar(select(Undertaking).where(Undertaking.introduction_id == introduction.id,
                                                     Undertaking.user_id == actor.user_id))
    if found is not None:
        return found
    undertaking = Undertaking(introduction_id=introduction.id, user_id=actor.user_id,
                              organisation_id=actor.organisation_id, wording=UNDERTAKING_WORDING,
                              at=at or dt.datetime.now(dt.UTC))
    session.add(undertaking)
    if pair.side_of(actor) is v.Library.DEMANDS and pair.achievement.confidential_detail:
        if session.get(ConfidentialGrant, (pair.achievement.id, actor.organisation_id)) is None:
            session.add(ConfidentialGrant(achievement_id=pair.achievement.id, organisation_id=actor.organisation_id,
                                          granted_by=actor.user_id))
        audit.record(session, audit.CONFIDENTIAL_GRANTED, actor=actor, subject=f"achievement:{pair.achievement.id}",
                     organisation_id=actor.organisation_id, via="undertaking", introduction_id=introduction.id)
    session.flush()
    notify(session, organisation_users(session, pair.owner_of(_other(pair.side_of(actor)))),
           kind=v.NoticeKind.DEAL_MESSAGE, event=f"undertaking:{undertaking.id}",
           title=f"对方已签署保密承诺：《{pair.demand.title[:40]}》×《{pair.achievement.title[:40]}》",
           body="对方已确认保密承诺，可以在对接记录中继续沟通技术细节。", link=pair.link)
    return undertaking


def introduction_of(session: Session, pair: Pair) -> Introduction | None:
    return _introduction(session, pair)


def undertakings_of(session: Session, introduction: Introduction | None) -> list[Undertaking]:
    if introduction is None:
        return []
    return list(session.scalars(select(Undertaking).where(Undertaking.introduction_id == introduction.id)
                                .order_by(Undertaking.id)))


def list_introductions(session: Session, *, actor: Actor, status: str | None = None, limit: int = 20,
                       offset: int = 0) -> tuple[list[Introduction], int]:
    """Introductions on the actor's organisation's postings, sent or received, newest first."""
    mine = select(Introduction).outerjoin(Demand, Demand.id == Introduction.demand_id).outerjoin(
        Achievement, Achievement.id == Introduction.achievement_id).where(
        (Demand.organisation_id == actor.organisation_id) | (Achievement.organisation_id == actor.organisation_id))
    if status is not None:
        mine = mine.where(Introduction.status == status)
    rows, total = paged(session, mine.order_by(Introduction.id.desc()), limit=limit, offset=offset)
    return [row[0] for row in rows], total


def unclaimed_interest(session: Session, *, limit: int = 10) -> list[tuple[Introduction, Demand, Achievement]]:
    """Pairs someone has shown interest in (pending or accepted) that no broker holds: first in brokers' queue."""
    held = select(Pipeline.id).where(Pipeline.demand_id == Introduction.demand_id,
                                     Pipeline.achievement_id == Introduction.achievement_id,
                                     Pipeline.stage.not_in(v.ENDED_WITHOUT_CONTRACT)).exists()
    rows = session.execute(
        select(Introduction, Demand, Achievement).join(Demand, Demand.id == Introduction.demand_id)
        .join(Achievement, Achievement.id == Introduction.achievement_id)
        .where(Introduction.status != Status.DECLINED, ~held, Demand.status == "published",
               Achievement.status == "published")
        .order_by(Introduction.requested_at.desc(), Introduction.id.desc()).limit(limit)).all()
    return [tuple(row) for row in rows]


# ---------------------------------------------------------------- inside


def _introduction(session: Session, pair: Pair) -> Introduction | None:
    return session.scalar(select(Introduction).where(Introduction.demand_id == pair.demand.id,
                                                     Introduction.achievement_id == pair.achievement.id))


def _other(side: v.Library) -> v.Library:
    return v.Library.ACHIEVEMENTS if side is v.Library.DEMANDS else v.Library.DEMANDS


def _tell_counterpart(session: Session, pair: Pair, introduction: Introduction, side: v.Library) -> None:
    session.flush()
    mine, theirs = ((pair.demand, pair.achievement) if side is v.Library.DEMANDS else (pair.achievement, pair.demand))
    who = "企业" if side is v.Library.DEMANDS else "成果方"
    body = f"对方的{'需求' if side is v.Library.DEMANDS else '成果'}：《{mine.title}》"
    if introduction.message:
        body += f"\n对方留言：{introduction.message}"
    notify(session, organisation_users(session, theirs.organisation_id), kind=v.NoticeKind.INTEREST_RECEIVED,
           event=f"interest:{introduction.id}", title=f"有{who}希望就《{theirs.title[:60]}》与您对接",
           body=body + "\n请在对接记录中接受或谢绝。", link=pair.link)


def _answer(session: Session, actor: Actor, pair: Pair, introduction: Introduction, *, accept: bool, note: str,
            now: dt.datetime) -> Introduction:
    introduction.status = (Status.ACCEPTED if accept else Status.DECLINED).value
    introduction.answered_by, introduction.answer_note, introduction.answered_at = actor.user_id, note, now
    session.flush()
    requester_side = v.Library(introduction.from_side)
    words = "已接受您的对接意向，双方联系人已互相可见" if accept else "谢绝了您的对接意向"
    body = f"对方答复：{note}" if note else ""
    notify(session, organisation_users(session, pair.owner_of(requester_side)),
           kind=v.NoticeKind.INTRODUCTION_ANSWERED, event=f"answer:{introduction.id}:{introduction.status}",
           title=f"《{pair.demand.title[:40]}》×《{pair.achievement.title[:40]}》：对方{words}", body=body,
           link=pair.link)
    return introduction
