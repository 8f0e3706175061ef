"""The end of a 揭榜挂帅 challenge: the challenger appoints the winning proposal with the panel's scores in front
of it, and splits the bounty into milestones; the winning team reports each delivered, the challenger pays it,
and the challenge is completed when the last is paid. Every step tells the people concerned."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Challenge, Milestone, Proposal, ProposalScore
from matchmaker.notices.services import notify, organisation_users
from matchmaker.trading.challenges import PHASE_NAMES, TEAMS, challenger_of, is_challenger, phase, today_or

MAX_MILESTONES = 10


@dataclass
class MilestonePlan:
    title: str
    due_on: dt.date
    amount: Decimal


def appoint(session: Session, *, actor: Actor, challenge_id: int, proposal_id: int, milestones: list[MilestonePlan],
            today: dt.date | None = None) -> Challenge:
    """揭榜: the challenger appoints a scored proposal after the deadline; the milestones' amounts add up to the
    bounty. Exactly one award: the status moves from open/reviewing to awarded in one conditional UPDATE."""
    today = today_or(today)
    challenge = challenger_of(session, actor, challenge_id)
    if phase(challenge, today) != "reviewing":
        raise Conflict(f"该榜单{PHASE_NAMES[phase(challenge, today)]}：揭榜截止并经专家评审后才能确定揭榜方")
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.challenge_id != challenge.id:
        raise InvalidInput.on("proposal_id", "请从该榜单的方案中选择揭榜方")
    if not session.scalar(select(func.count()).where(ProposalScore.proposal_id == proposal.id)):
        raise Conflict("该方案还没有专家评分；请等评审专家评分后再确定揭榜方")
    if not 1 <= len(milestones) <= MAX_MILESTONES:
        raise InvalidInput.on("milestones", f"请把悬赏金额分成 1 到 {MAX_MILESTONES} 个里程碑")
    for plan in milestones:
        if not 2 <= len(plan.title.strip()) <= 200 or plan.amount <= 0 or plan.due_on < today:
            raise InvalidInput.on("milestones", "每个里程碑须有名称（2–200 字）、今天或以后的完成日期和大于 0 的金额")
    if sum(plan.amount for plan in milestones) != challenge.bounty:
        raise InvalidInput.on("milestones", f"里程碑金额合计须等于悬赏金额 {challenge.bounty:,.2f} 元"
                                            f"（现在合计 {sum(p.amount for p in milestones):,.2f} 元）")
    won = session.execute(update(Challenge).where(Challenge.id == challenge.id,
                                                  Challenge.status.in_(("open", "reviewing")))
                          .values(status="awarded", winner_id=proposal.id, awarded_at=dt.datetime.now(dt.UTC))
                          .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise Conflict("该榜单已确定揭榜方")
    for seq, plan in enumerate(sorted(milestones, key=lambda p: p.due_on), start=1):
        session.add(Milestone(challenge_id=challenge.id, seq=seq, title=plan.title.strip(), due_on=plan.due_on,
                              amount=plan.amount, status="planned"))
    session.flush()
    session.refresh(challenge)
    teams = session.scalars(select(Proposal.organisation_id).where(Proposal.challenge_id == challenge.id)).all()
    notify(session, organisation_users(session, proposal.organisation_id), kind=v.NoticeKind.DEAL_STAGE,
           event=f"challenge-won:{challenge.id}", title=f"您的方案在《{challenge.title[:60]}》中揭榜成功",
           body=f"悬赏 {challenge.bounty:,.2f} 元按 {len(milestones)} 个里程碑支付；完成一个就在榜单页提交交付说明。",
           link=f"/web/challenges/{challenge.id}")
    others = [uid for org in teams if org != proposal.organisation_id for uid in organisation_users(session, org)]
    notify(session, others, kind=v.NoticeKind.DEAL_STAGE, event=f"challenge-awarded:{challenge.id}",
           title=f"《{challenge.title[:60]}》已确定揭榜方", body="感谢参与揭榜；评分结果可在榜单页查看。",
           link=f"/web/challenges/{challenge.id}")
    return challenge


def milestones(session: Session, challenge_id: int, *, actor: Actor | None = None) -> list[Milestone]:
    """The milestones and payments: for the challenger, the winning team and admins (with no actor, the service)."""
    if actor is not None:
        challenge = session.get(Challenge, challenge_id)
        winner = session.get(Proposal, challenge.winner_id) if challenge and challenge.winner_id else None
        if challenge is None or not (is_challenger(actor, challenge) or actor.role is v.Role.ADMIN
                                     or (winner is not None and winner.organisation_id == actor.organisation_id)):
            raise NotFound("没有找到该榜单的里程碑：只有发榜单位和揭榜团队可以查看")
    return list(session.scalars(select(Milestone).where(Milestone.challenge_id == challenge_id)
                                .order_by(Milestone.seq)))


def _milestone(session: Session, milestone_id: int) -> tuple[Milestone, Challenge]:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound("没有找到该里程碑")
    return milestone, session.get(Challenge, milestone.challenge_id)


def deliver(session: Session, *, actor: Actor, milestone_id: int, note: str) -> Milestone:
    """The winning team reports a milestone delivered (交付说明); the challenger is told to check and pay."""
    milestone, challenge = _milestone(session, milestone_id)
    winner = session.get(Proposal, challenge.winner_id) if challenge.winner_id else None
    if winner is None or actor.organisation_id != winner.organisation_id or actor.role not in TEAMS:
        raise Forbidden("只有揭榜团队可以提交里程碑交付")
    note = note.strip()
    if not 2 <= len(note) <= 5000:
        raise InvalidInput.on("note", "请写明交付了什么（2–5000 字），例如样机、测试报告、验收记录")
    done = session.execute(update(Milestone).where(Milestone.id == milestone.id, Milestone.status == "planned")
                           .values(status="delivered", delivery_note=note, delivered_at=dt.datetime.now(dt.UTC))
                           .execution_options(synchronize_session=False)).rowcount
    session.refresh(milestone)
    if done != 1:
        raise Conflict("该里程碑已提交过交付")
    notify(session, organisation_users(session, challenge.organisation_id), kind=v.NoticeKind.DEAL_STAGE,
           event=f"milestone-delivered:{milestone.id}", title=f"《{challenge.title[:60]}》里程碑“{milestone.title[:40]}”已交付",
           body=f"请核验交付内容并支付 {milestone.amount:,.2f} 元。", link=f"/web/challenges/{challenge.id}")
    return milestone


def pay(session: Session, *, actor: Actor, milestone_id: int, reference: str) -> Milestone:
    """The challenger records the payment of a delivered milestone; the last one completes the challenge."""
    milestone, challenge = _milestone(session, milestone_id)
    challenger_of(session, actor, challenge.id)
    reference = reference.strip()
    if not 2 <= len(reference) <= 100:
        raise InvalidInput.on("reference", "请填写付款凭证号（银行流水号等，2–100 字）")
    done = session.execute(update(Milestone).where(Milestone.id == milestone.id, Milestone.status == "delivered")
                           .values(status="paid", payment_reference=reference, paid_at=dt.datetime.now(dt.UTC))
                           .execution_options(synchronize_session=False)).rowcount
    session.refresh(milestone)
    if done != 1:
        raise Conflict("该里程碑已支付" if milestone.status == "paid" else "揭榜团队提交交付后才能支付该里程碑")
    if not session.scalar(select(func.count()).where(Milestone.challenge_id == challenge.id,
                                                     Milestone.status != "paid")):
        challenge.status = "completed"
    winner = session.get(Proposal, challenge.winner_id)
    notify(session, organisation_users(session, winner.organisation_id), kind=v.NoticeKind.DEAL_STAGE,
           event=f"milestone-paid:{milestone.id}", title=f"里程碑“{milestone.title[:40]}”的 {milestone.amount:,.2f} 元已支付",
           body=f"付款凭证号：{reference}", link=f"/web/challenges/{challenge.id}")
    session.flush()
    return milestone
