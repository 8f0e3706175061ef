"""揭榜挂帅 challenge lists: a firm — or a science-and-technology department on behalf of one — publishes a problem
with a bounty, a deadline and scoring criteria; teams (offices and firms) submit proposals with PDF attachments
until the deadline. The panel's review is `panel`, the award and the milestones `award`.

A challenge's phase follows from its status and the date: open (taking proposals up to and including the
deadline) → reviewing (the deadline has passed, or the challenger closed it early) → awarded → completed (every
milestone paid). Phases are computed, not stored by a nightly job, so no page shows a stale one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import (
    Challenge,
    Demand,
    Organisation,
    PanelMember,
    Proposal,
    ProposalAttachment,
    TechnologyField,
)
from matchmaker.uploads import checked_pdf

MAX_DAYS = 365
MAX_CRITERIA = 8
MAX_ATTACHMENTS = 10
PUBLISHERS = (v.Role.FIRM, v.Role.ANALYST, v.Role.ADMIN)   # a firm for itself, a department for a firm
TEAMS = (v.Role.OFFICE, v.Role.FIRM)   # universities', institutes' and firms' teams answer
DEFAULT_CRITERIA = v.CHALLENGE_CRITERIA


def today_or(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def phase(challenge: Challenge, today: dt.date | None = None) -> str:
    """open | reviewing | awarded | completed | cancelled, by the status and today's date."""
    if challenge.status == "open" and today_or(today) > challenge.deadline:
        return "reviewing"
    return challenge.status


PHASE_NAMES = {"open": "征集中", "reviewing": "评审中", "awarded": "已揭榜", "completed": "已完成", "cancelled": "已撤榜"}


@dataclass
class Criterion:
    name: str
    weight: int


def check_criteria(criteria: list[Criterion]) -> list[dict]:
    if not 1 <= len(criteria) <= MAX_CRITERIA:
        raise InvalidInput.on("criteria", f"评分标准须有 1 到 {MAX_CRITERIA} 项")
    names = [c.name.strip() for c in criteria]
    if any(not 1 <= len(name) <= 40 for name in names) or len(set(names)) != len(names):
        raise InvalidInput.on("criteria", "每项评分标准须有名称（不超过 40 字），且名称不能重复")
    if any(not 1 <= c.weight <= 100 for c in criteria) or sum(c.weight for c in criteria) != 100:
        raise InvalidInput.on("criteria", f"各项权重须为 1–100 的整数，合计 100（现在合计 {sum(c.weight for c in criteria)}）")
    return [{"name": name, "weight": c.weight} for name, c in zip(names, criteria, strict=True)]


def _active(session: Session, organisation_id: int | None, *kinds: v.OrganisationKind) -> Organisation | None:
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or org.status != v.OrganisationStatus.ACTIVE.value or org.kind not in {k.value for k in kinds}:
        return None
    return org


def publish(session: Session, *, actor: Actor, title: str, requirements: str, bounty: Decimal, deadline: dt.date,
            criteria: list[Criterion], field_code: str | None = None, on_behalf_of_id: int | None = None,
            demand_id: int | None = None, today: dt.date | None = None) -> Challenge:
    """发榜: a firm for itself, or a department (analyst or admin) on behalf of a firm it names."""
    today = today_or(today)
    if actor.role is v.Role.FIRM:
        publisher = _active(session, actor.organisation_id, v.OrganisationKind.ENTERPRISE)
        if publisher is None:
            raise Forbidden("只有通过审核的企业可以发榜")
        if on_behalf_of_id is not None:
            raise InvalidInput.on("on_behalf_of_id", "企业以本单位名义发榜，不用填写“代哪家企业发榜”")
        firm_id = publisher.id
    elif actor.role in (v.Role.ANALYST, v.Role.ADMIN):
        publisher = _active(session, actor.organisation_id, v.OrganisationKind.GOVERNMENT)
        if publisher is None:
            raise Forbidden("只有科技管理部门可以代企业发榜")
        if on_behalf_of_id is not None and _active(session, on_behalf_of_id, v.OrganisationKind.ENTERPRISE) is None:
            raise InvalidInput.on("on_behalf_of_id", "代发榜的单位须是平台上通过审核的企业")
        firm_id = on_behalf_of_id
    else:
        raise Forbidden("只有企业或科技管理部门可以发榜")
    title, requirements = title.strip(), requirements.strip()
    if not 4 <= len(title) <= 200:
        raise InvalidInput.on("title", "榜单名称须为 4–200 字")
    if not 20 <= len(requirements) <= 10000:
        raise InvalidInput.on("requirements", "榜单需求须为 20–10000 字：写清要解决的问题、技术指标和交付要求")
    if bounty <= 0:
        raise InvalidInput.on("bounty", "悬赏金额须大于 0")
    if not today < deadline <= today + dt.timedelta(days=MAX_DAYS):
        raise InvalidInput.on("deadline", f"揭榜截止日期须在今天之后、{MAX_DAYS} 天之内")
    if field_code is not None and session.get(TechnologyField, field_code) is None:
        raise InvalidInput.on("field_code", "请从列表中选择技术领域")
    if demand_id is not None:
        demand = session.get(Demand, demand_id)
        if demand is None or firm_id is None or demand.organisation_id != firm_id:
            raise InvalidInput.on("demand_id", "关联的需求须是发榜企业自己发布的需求")
        field_code = field_code or demand.field_code
    challenge = Challenge(organisation_id=publisher.id, on_behalf_of_id=on_behalf_of_id, demand_id=demand_id,
                          title=title, requirements=requirements, field_code=field_code,
                          region_code=publisher.region_code, bounty=bounty, deadline=deadline,
                          criteria=check_criteria(criteria), status="open", created_by=actor.user_id)
    session.add(challenge)
    session.flush()
    return challenge


def get(session: Session, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound("没有找到该榜单")
    return challenge


def is_challenger(actor: Actor, challenge: Challenge) -> bool:
    return actor.organisation_id == challenge.organisation_id and actor.role in PUBLISHERS


def challenger_of(session: Session, actor: Actor, challenge_id: int) -> Challenge:
    challenge = get(session, challenge_id)
    if not is_challenger(actor, challenge):
        raise Forbidden("只有发榜单位可以这样做")
    return challenge


def on_panel(session: Session, actor: Actor, challenge_id: int) -> bool:
    return actor.role is v.Role.EXPERT and session.get(PanelMember, (challenge_id, actor.user_id)) is not None


def sees_all_proposals(session: Session, actor: Actor, challenge: Challenge) -> bool:
    """The challenger, its panel and platform admins read every proposal; a team reads its own."""
    return is_challenger(actor, challenge) or actor.role is v.Role.ADMIN or on_panel(session, actor, challenge.id)


def list_challenges(session: Session, *, phase_wanted: str | None = "open", limit: int = 50, offset: int = 0,
                    today: dt.date | None = None) -> tuple[list[Challenge], int]:
    """Challenges in a phase (the open ones by default: nearest deadline first); all phases with None."""
    today = today_or(today)
    query = select(Challenge)
    if phase_wanted == "open":
        query = query.where(Challenge.status == "open", Challenge.deadline >= today)
    elif phase_wanted == "reviewing":
        query = query.where((Challenge.status == "reviewing")
                            | ((Challenge.status == "open") & (Challenge.deadline < today)))
    elif phase_wanted is not None:
        query = query.where(Challenge.status == phase_wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Challenge.deadline, Challenge.bounty.desc(), Challenge.id)
                           .limit(limit).offset(offset))
    return list(rows), total


def close_early(session: Session, *, actor: Actor, challenge_id: int, today: dt.date | None = None) -> Challenge:
    """The challenger stops taking proposals before the deadline (截止征集); the panel may then score."""
    challenge = challenger_of(session, actor, challenge_id)
    done = session.execute(update(Challenge).where(Challenge.id == challenge.id, Challenge.status == "open")
                           .values(status="reviewing").execution_options(synchronize_session=False)).rowcount
    session.refresh(challenge)
    if done != 1:
        raise Conflict(f"该榜单{PHASE_NAMES[phase(challenge, today)]}，不能再截止征集")
    return challenge


def submit_proposal(session: Session, *, actor: Actor, challenge_id: int, team: str, summary: str,
                    budget: Decimal | None = None, today: dt.date | None = None) -> Proposal:
    """揭榜: an office's or a firm's team answers an open challenge, once per organisation."""
    challenge = get(session, challenge_id)
    if actor.role not in TEAMS or _active(session, actor.organisation_id, v.OrganisationKind.UNIVERSITY,
                                          v.OrganisationKind.INSTITUTE, v.OrganisationKind.ENTERPRISE) is None:
        raise Forbidden("只有通过审核的高校、科研院所和企业可以揭榜")
    if actor.organisation_id in (challenge.organisation_id, challenge.on_behalf_of_id):
        raise Forbidden("发榜单位不能揭自己的榜")
    if phase(challenge, today) != "open":
        raise Conflict(f"该榜单{PHASE_NAMES[phase(challenge, today)]}，已不再接收方案")
    team, summary = team.strip(), summary.strip()
    if not 2 <= len(team) <= 200:
        raise InvalidInput.on("team", "请填写团队名称和负责人（2–200 字）")
    if not 20 <= len(summary) <= 10000:
        raise InvalidInput.on("summary", "方案摘要须为 20–10000 字：技术路线、指标、进度和经费")
    if budget is not None and budget <= 0:
        raise InvalidInput.on("budget", "经费预算须大于 0，或不填")
    proposal = Proposal(challenge_id=challenge.id, organisation_id=actor.organisation_id, team=team, summary=summary,
                        budget=budget, created_by=actor.user_id)
    try:
        with session.begin_nested():
            session.add(proposal)
            session.flush()
    except IntegrityError:
        raise Conflict("本单位已提交过该榜单的方案；可在方案页补充附件") from None
    return proposal


def proposal_of(session: Session, proposal_id: int) -> tuple[Proposal, Challenge]:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("没有找到该方案")
    return proposal, session.get(Challenge, proposal.challenge_id)


def readable_proposal(session: Session, actor: Actor, proposal_id: int) -> tuple[Proposal, Challenge]:
    """A proposal the actor may read: its own team's, or any of a challenge the actor judges or published."""
    proposal, challenge = proposal_of(session, proposal_id)
    if actor.organisation_id != proposal.organisation_id and not sees_all_proposals(session, actor, challenge):
        raise NotFound("没有找到该方案")
    return proposal, challenge


def proposals(session: Session, actor: Actor, challenge: Challenge) -> list[Proposal]:
    query = select(Proposal).where(Proposal.challenge_id == challenge.id).order_by(Proposal.id)
    if not sees_all_proposals(session, actor, challenge):
        query = query.where(Proposal.organisation_id == actor.organisation_id)
    return list(session.scalars(query))


def attach(session: Session, *, actor: Actor, proposal_id: int, filename: str, content: bytes,
           today: dt.date | None = None) -> ProposalAttachment:
    """A PDF attached by the proposing team while the challenge takes proposals."""
    proposal, challenge = proposal_of(session, proposal_id)
    if actor.organisation_id != proposal.organisation_id or actor.role not in TEAMS:
        raise NotFound("没有找到该方案：只有提交方案的团队可以上传附件")
    if phase(challenge, today) != "open":
        raise Conflict("揭榜已截止，方案附件不能再更改")
    pdf = checked_pdf(content, filename, field="attachment", default_name="方案.pdf",
                      not_pdf="附件须为 PDF 文件；请导出为 PDF 后再上传", too_big="附件超过 {mb} MB，请压缩后再上传")
    held = session.scalar(select(func.count()).where(ProposalAttachment.proposal_id == proposal.id))
    if held >= MAX_ATTACHMENTS:
        raise Conflict(f"每个方案最多 {MAX_ATTACHMENTS} 个附件")
    attachment = ProposalAttachment(
        proposal_id=proposal.id, filename=pdf.filename, sha256=pdf.sha256, size=pdf.size, content=content,
        uploaded_by=actor.user_id)
    session.add(attachment)
    session.flush()
    return attachment


def attachments(session: Session, proposal_ids) -> dict[int, list[ProposalAttachment]]:
    """Attachments' metadata by proposal (the content is read only for a download)."""
    found: dict[int, list] = {}
    ids = list(proposal_ids)
    if ids:
        rows = session.execute(select(ProposalAttachment.id, ProposalAttachment.proposal_id, ProposalAttachment.filename,
                                      ProposalAttachment.size, ProposalAttachment.sha256)
                               .where(ProposalAttachment.proposal_id.in_(ids)).order_by(ProposalAttachment.id))
        for row in rows:
            found.setdefault(row.proposal_id, []).append(row)
    return found


def attachment(session: Session, actor: Actor, attachment_id: int) -> ProposalAttachment:
    found = session.get(ProposalAttachment, attachment_id)
    if found is None:
        raise NotFound("没有找到该附件")
    readable_proposal(session, actor, found.proposal_id)
    return found
