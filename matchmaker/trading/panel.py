"""The expert panel of a 揭榜挂帅 challenge: the challenger (or an admin) puts experts — users with the expert
role — on it; each expert declares, proposal by proposal, whether they have a conflict of interest, and only then
scores it against the challenge's criteria. A conflicted expert cannot score that proposal, and an expert of the
proposing, publishing or served organisation is conflicted whatever they declare.

Scoring opens when the challenge stops taking proposals, and closes with the award. Experts score independently:
each sees their own scores; the challenger and admins see the whole table, which the award is made on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Challenge, ConflictDeclaration, PanelMember, Proposal, ProposalScore, User
from matchmaker.trading.challenges import PHASE_NAMES, get, is_challenger, phase, proposal_of

REVIEWABLE = ("open", "reviewing")   # before the award: the panel may still change, declarations and scores be made


def experts(session: Session) -> list[User]:
    """Everyone who may sit on a panel (users with the expert role whose access is not revoked)."""
    return list(session.scalars(select(User).where(User.role == v.Role.EXPERT.value, User.revoked_at.is_(None))
                                .order_by(User.name, User.id)))


def panel(session: Session, challenge_id: int, *, actor: Actor | None = None) -> list[User]:
    """Who judges a challenge: told to its challenger, its panel and admins (teams cannot lobby a panel they do not
    know); with no actor, the service itself asks."""
    if actor is not None:
        challenge = get(session, challenge_id)
        if not (is_challenger(actor, challenge) or actor.role is v.Role.ADMIN
                or session.get(PanelMember, (challenge_id, actor.user_id)) is not None):
            raise Forbidden("评审专家名单只对发榜单位、评审专家和平台管理员公开")
    return list(session.scalars(select(User).join(PanelMember, PanelMember.user_id == User.id)
                                .where(PanelMember.challenge_id == challenge_id).order_by(User.name, User.id)))


def add_expert(session: Session, *, actor: Actor, challenge_id: int, user_id: int) -> PanelMember:
    """The challenger or an admin puts an expert on the panel before the award."""
    challenge = get(session, challenge_id)
    if not (is_challenger(actor, challenge) or actor.role is v.Role.ADMIN):
        raise Forbidden("只有发榜单位或平台管理员可以组建评审专家组")
    if challenge.status not in REVIEWABLE:
        raise Conflict(f"该榜单{PHASE_NAMES[phase(challenge)]}，评审专家组不能再调整")
    expert = session.get(User, user_id)
    if expert is None or expert.role != v.Role.EXPERT.value or expert.revoked_at is not None:
        raise InvalidInput.on("user_id", "请从专家库中选择评审专家")
    member = PanelMember(challenge_id=challenge.id, user_id=expert.id, added_by=actor.user_id)
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError:
        raise Conflict("该专家已在评审专家组中") from None
    return member


def bound_to(challenge: Challenge, proposal: Proposal, expert_organisation: int) -> bool:
    """An expert of the proposing team's, the publisher's or the served firm's organisation is conflicted."""
    return expert_organisation in (proposal.organisation_id, challenge.organisation_id, challenge.on_behalf_of_id)


def _panel_proposal(session: Session, actor: Actor, proposal_id: int) -> tuple[Proposal, Challenge]:
    proposal, challenge = proposal_of(session, proposal_id)
    if actor.role is not v.Role.EXPERT or session.get(PanelMember, (challenge.id, actor.user_id)) is None:
        raise NotFound("没有找到该方案：只有该榜单的评审专家可以声明和评分")
    if challenge.status not in REVIEWABLE:
        raise Conflict(f"该榜单{PHASE_NAMES[phase(challenge)]}，评审已结束")
    return proposal, challenge


def declare(session: Session, *, actor: Actor, proposal_id: int, conflicted: bool,
            reason: str | None = None) -> ConflictDeclaration:
    """利益冲突声明: once per expert and proposal, and final; a conflicted expert recuses from that proposal."""
    proposal, challenge = _panel_proposal(session, actor, proposal_id)
    reason = (reason or "").strip() or None
    if not conflicted and bound_to(challenge, proposal, actor.organisation_id):
        raise Conflict("您与申报单位或发榜单位同属一个单位，须声明存在利益冲突并回避")
    if conflicted and reason is None:
        raise InvalidInput.on("reason", "请写明利益冲突的情形（如：曾与申报团队合作、同一单位、亲属关系）")
    declaration = ConflictDeclaration(proposal_id=proposal.id, user_id=actor.user_id, conflicted=conflicted,
                                      reason=reason)
    try:
        with session.begin_nested():
            session.add(declaration)
            session.flush()
    except IntegrityError:
        raise Conflict("您已对该方案作出声明，声明不能更改") from None
    return declaration


def score(session: Session, *, actor: Actor, proposal_id: int, scores: list[int],
          comment: str | None = None) -> ProposalScore:
    """An expert scores a proposal (0–100 per criterion) after declaring no conflict; a second call revises it."""
    proposal, challenge = _panel_proposal(session, actor, proposal_id)
    if phase(challenge) == "open":
        raise Conflict(f"揭榜截止（{challenge.deadline:%Y年%-m月%-d日}）后才能评分")
    declaration = session.get(ConflictDeclaration, (proposal.id, actor.user_id))
    if bound_to(challenge, proposal, actor.organisation_id) or (declaration is not None and declaration.conflicted):
        raise Forbidden("您与该方案存在利益冲突，已回避，不能为它评分")
    if declaration is None:
        raise Conflict("请先声明与该方案有无利益冲突，再评分")
    criteria = challenge.criteria
    if len(scores) != len(criteria) or any(not 0 <= s <= 100 for s in scores):
        raise InvalidInput.on("scores", f"请为 {len(criteria)} 项评分标准各打 0–100 分")
    total = (sum(Decimal(s) * c["weight"] for s, c in zip(scores, criteria, strict=True)) / 100) \
        .quantize(Decimal("0.01"), ROUND_HALF_UP)
    row = session.get(ProposalScore, (proposal.id, actor.user_id)) or ProposalScore(proposal_id=proposal.id,
                                                                                    user_id=actor.user_id)
    row.scores, row.total, row.comment = list(scores), total, (comment or "").strip() or None
    session.add(row)
    session.flush()
    return row


@dataclass
class ProposalScores:
    """One proposal's line in the score table: each expert's total, who recused, and the mean."""

    proposal: Proposal
    scores: list[tuple[User, ProposalScore]] = field(default_factory=list)
    recused: list[User] = field(default_factory=list)

    @property
    def mean(self) -> Decimal | None:
        if not self.scores:
            return None
        return (sum(s.total for _, s in self.scores) / len(self.scores)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def score_table(session: Session, actor: Actor, challenge_id: int,
                members: list[User] | None = None) -> list[ProposalScores]:
    """The whole table for the challenger and admins, best mean first; an expert gets only their own scores.
    `members`: the panel, when the caller has already read it."""
    challenge = get(session, challenge_id)
    whole = is_challenger(actor, challenge) or actor.role is v.Role.ADMIN
    if not whole and not (actor.role is v.Role.EXPERT and session.get(PanelMember, (challenge.id, actor.user_id))):
        raise Forbidden("只有发榜单位、评审专家和平台管理员可以查看评分")
    lines = {p.id: ProposalScores(p) for p in session.scalars(
        select(Proposal).where(Proposal.challenge_id == challenge.id).order_by(Proposal.id))}
    people = {u.id: u for u in (members if members is not None else panel(session, challenge.id))}
    scored = select(ProposalScore).where(ProposalScore.proposal_id.in_(lines))
    declared = select(ConflictDeclaration).where(ConflictDeclaration.proposal_id.in_(lines),
                                                 ConflictDeclaration.conflicted)
    if not whole:
        scored = scored.where(ProposalScore.user_id == actor.user_id)
        declared = declared.where(ConflictDeclaration.user_id == actor.user_id)
    for row in session.scalars(scored):
        if row.user_id in people:
            lines[row.proposal_id].scores.append((people[row.user_id], row))
    for row in session.scalars(declared):
        if row.user_id in people:
            lines[row.proposal_id].recused.append(people[row.user_id])
    return sorted(lines.values(), key=lambda line: (line.mean is None, -(line.mean or 0), line.proposal.id))


def declarations_of(session: Session, user_id: int, proposal_ids) -> dict[int, ConflictDeclaration]:
    ids = list(proposal_ids)
    if not ids:
        return {}
    return {d.proposal_id: d for d in session.scalars(select(ConflictDeclaration).where(
        ConflictDeclaration.user_id == user_id, ConflictDeclaration.proposal_id.in_(ids)))}


def panels_of(session: Session, user_id: int) -> list[Challenge]:
    """The challenges an expert reviews (for the expert's home page)."""
    return list(session.scalars(select(Challenge).join(PanelMember, PanelMember.challenge_id == Challenge.id)
                                .where(PanelMember.user_id == user_id).order_by(Challenge.deadline.desc())))
