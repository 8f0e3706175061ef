"""HTTP routes for 揭榜挂帅: challenges, proposals and their PDFs, the expert panel (declarations, scores), the
award and the milestones."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from matchmaker.api import idempotency
from matchmaker.api.files import gives, takes
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import BodyId, FieldCode, Limit, Offset, Page, PathId, Yuan
from matchmaker.identity.services import Actor
from matchmaker.models import User
from matchmaker.trading import award, challenges, panel

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=10000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CriterionIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    weight: Annotated[int, msgspec.Meta(ge=1, le=100)]


class ChallengeIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Short
    requirements: Text
    bounty: Yuan
    deadline: dt.date   # proposals are taken up to and including this day
    criteria: Annotated[list[CriterionIn], msgspec.Meta(min_length=1, max_length=challenges.MAX_CRITERIA)] = \
        msgspec.field(default_factory=lambda: [CriterionIn(**c) for c in challenges.DEFAULT_CRITERIA])
    field_code: FieldCode | None = None
    on_behalf_of_id: BodyId | None = None   # a department publishing for a firm
    demand_id: BodyId | None = None


class CriterionOut(msgspec.Struct):
    name: str
    weight: int


class ChallengeOut(msgspec.Struct):
    id: int
    title: str
    requirements: str
    organisation_id: int
    on_behalf_of_id: int | None
    demand_id: int | None
    field_code: str | None
    bounty: str
    deadline: dt.date
    criteria: list[CriterionOut]
    phase: Literal["open", "reviewing", "awarded", "completed", "cancelled"]
    winner_id: int | None


def challenge_out(c) -> ChallengeOut:
    return ChallengeOut(c.id, c.title, c.requirements, c.organisation_id, c.on_behalf_of_id, c.demand_id, c.field_code,
                        f"{c.bounty:.2f}", c.deadline, [CriterionOut(**x) for x in c.criteria],
                        challenges.phase(c), c.winner_id)


class ProposalIn(msgspec.Struct, forbid_unknown_fields=True):
    team: Short
    summary: Text
    budget: Yuan | None = None


class AttachmentOut(msgspec.Struct):
    id: int
    filename: str
    size: int
    sha256: str


class ProposalOut(msgspec.Struct):
    id: int
    challenge_id: int
    organisation_id: int
    team: str
    summary: str
    budget: str | None
    created_at: dt.datetime
    attachments: list[AttachmentOut] = []


def proposal_out(p, files=()) -> ProposalOut:
    return ProposalOut(p.id, p.challenge_id, p.organisation_id, p.team, p.summary,
                       f"{p.budget:.2f}" if p.budget is not None else None, p.created_at,
                       [AttachmentOut(f.id, f.filename, f.size, f.sha256) for f in files])


class ExpertOut(msgspec.Struct):
    user_id: int
    name: str
    organisation_id: int


class PanelIn(msgspec.Struct, forbid_unknown_fields=True):
    user_id: BodyId


class DeclarationIn(msgspec.Struct, forbid_unknown_fields=True):
    conflicted: bool
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class DeclarationOut(msgspec.Struct):
    proposal_id: int
    conflicted: bool
    reason: str | None
    declared_at: dt.datetime


class ScoreIn(msgspec.Struct, forbid_unknown_fields=True):
    scores: Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=100)]],
                      msgspec.Meta(min_length=1, max_length=challenges.MAX_CRITERIA)]
    comment: Annotated[str, msgspec.Meta(max_length=5000)] | None = None


class ScoreOut(msgspec.Struct):
    proposal_id: int
    expert_id: int
    expert: str
    scores: list[int]
    total: str
    comment: str | None


class ScoreLineOut(msgspec.Struct):
    proposal_id: int
    organisation_id: int
    team: str
    mean: str | None
    scores: list[ScoreOut]
    recused: list[ExpertOut]


def score_out(expert, row) -> ScoreOut:
    return ScoreOut(row.proposal_id, expert.id, expert.name, list(row.scores), f"{row.total:.2f}", row.comment)


class MilestoneIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Short
    due_on: dt.date
    amount: Yuan


class AwardIn(msgspec.Struct, forbid_unknown_fields=True):
    proposal_id: BodyId
    milestones: Annotated[list[MilestoneIn], msgspec.Meta(min_length=1, max_length=award.MAX_MILESTONES)]


class MilestoneOut(msgspec.Struct):
    id: int
    seq: int
    title: str
    due_on: dt.date
    amount: str
    status: Literal["planned", "delivered", "paid"]
    delivery_note: str | None
    payment_reference: str | None


def milestone_out(m) -> MilestoneOut:
    return MilestoneOut(m.id, m.seq, m.title, m.due_on, f"{m.amount:.2f}", m.status, m.delivery_note,
                        m.payment_reference)


class DeliveryIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    reference: Short


class ChallengeController(Controller):
    path = "/challenges"
    tags = ["trading"]

    @get("/", operation_id="listChallenges", sync_to_thread=True)
    def list_challenges(self, actor: Actor, session: Session, limit: Limit = 50, offset: Offset = 0,
                        phase: Literal["open", "reviewing", "awarded", "completed", "cancelled", "all"] = "open",
                        ) -> Page[ChallengeOut]:
        """Challenge lists (揭榜挂帅), the open ones by default, nearest deadline first."""
        with session.begin():
            rows, total = challenges.list_challenges(session, phase_wanted=None if phase == "all" else phase,
                                                     limit=limit, offset=offset)
            return Page([challenge_out(c) for c in rows], total, limit, offset)

    @get("/{challenge_id:int}", operation_id="getChallenge", sync_to_thread=True)
    def get_challenge(self, challenge_id: PathId, actor: Actor, session: Session) -> ChallengeOut:
        with session.begin():
            return challenge_out(challenges.get(session, challenge_id))

    @post("/", operation_id="publishChallenge", status_code=201, sync_to_thread=True)
    def publish(self, data: ChallengeIn, actor: Actor, session: Session, request: Request,
                idempotency_key: IdempotencyKey = None) -> Response[ChallengeOut]:
        """发榜: a firm for itself, or a department (analyst, admin) on behalf of a firm (`on_behalf_of_id`)."""
        def write() -> ChallengeOut:
            return challenge_out(challenges.publish(
                session, actor=actor, title=data.title, requirements=data.requirements, bounty=Decimal(data.bounty),
                deadline=data.deadline, criteria=[challenges.Criterion(c.name, c.weight) for c in data.criteria],
                field_code=data.field_code, on_behalf_of_id=data.on_behalf_of_id, demand_id=data.demand_id))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/{challenge_id:int}/close", operation_id="closeChallenge", status_code=200, sync_to_thread=True)
    def close(self, challenge_id: PathId, actor: Actor, session: Session) -> ChallengeOut:
        """The challenger stops taking proposals before the deadline; the panel may then score."""
        with session.begin():
            return challenge_out(challenges.close_early(session, actor=actor, challenge_id=challenge_id))

    @get("/{challenge_id:int}/proposals", operation_id="listProposals", sync_to_thread=True)
    def list_proposals(self, challenge_id: PathId, actor: Actor, session: Session) -> list[ProposalOut]:
        """Every proposal for the challenger, its panel and admins; a team sees its own."""
        with session.begin():
            rows = challenges.proposals(session, actor, challenges.get(session, challenge_id))
            files = challenges.attachments(session, (p.id for p in rows))
            return [proposal_out(p, files.get(p.id, ())) for p in rows]

    @post("/{challenge_id:int}/proposals", operation_id="submitProposal", status_code=201, sync_to_thread=True)
    def propose(self, challenge_id: PathId, data: ProposalIn, actor: Actor, session: Session, request: Request,
                idempotency_key: IdempotencyKey = None) -> Response[ProposalOut]:
        """揭榜方案: an office's or a firm's team answers an open challenge (once per organisation)."""
        def write() -> ProposalOut:
            return proposal_out(challenges.submit_proposal(
                session, actor=actor, challenge_id=challenge_id, team=data.team, summary=data.summary,
                budget=Decimal(data.budget) if data.budget is not None else None))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/proposals/{proposal_id:int}/attachments", operation_id="attachToProposal", status_code=201,
          sync_to_thread=True, operation_class=takes("a proposal document", pdf="a PDF (at most 20 MB)"))
    def attach(self, proposal_id: PathId, body: bytes, actor: Actor, session: Session, request: Request,
               filename: Annotated[str, QueryParameter(max_length=200)] = "方案.pdf",
               idempotency_key: IdempotencyKey = None) -> Response[AttachmentOut]:
        """A PDF for the team's proposal (Content-Type application/pdf), until the challenge closes."""
        def write() -> AttachmentOut:
            found = challenges.attach(session, actor=actor, proposal_id=proposal_id, filename=filename, content=body)
            return AttachmentOut(found.id, found.filename, found.size, found.sha256)

        fingerprint = {"filename": filename, "sha256": hashlib.sha256(body).hexdigest()}
        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=fingerprint,
                                   write=write)

    @get("/attachments/{attachment_id:int}", operation_id="getProposalAttachment", sync_to_thread=True,
         operation_class=gives(pdf="the attachment; X-Checksum-SHA256 is its checksum"))
    def download(self, attachment_id: PathId, actor: Actor, session: Session) -> Response[bytes]:
        with session.begin():
            found = challenges.attachment(session, actor, attachment_id)
            return Response(found.content, media_type="application/pdf", headers={
                "X-Checksum-SHA256": found.sha256,
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}"})

    @get("/experts", operation_id="listExperts", sync_to_thread=True)
    def experts(self, actor: Actor, session: Session) -> list[ExpertOut]:
        """The expert pool a challenger builds a panel from."""
        with session.begin():
            return [ExpertOut(u.id, u.name, u.organisation_id) for u in panel.experts(session)]

    @get("/{challenge_id:int}/panel", operation_id="getPanel", sync_to_thread=True)
    def get_panel(self, challenge_id: PathId, actor: Actor, session: Session) -> list[ExpertOut]:
        """The panel: for the challenger, its experts and admins."""
        with session.begin():
            return [ExpertOut(u.id, u.name, u.organisation_id) for u in panel.panel(session, challenge_id, actor=actor)]

    @post("/{challenge_id:int}/panel", operation_id="addPanelExpert", status_code=201, sync_to_thread=True)
    def add_expert(self, challenge_id: PathId, data: PanelIn, actor: Actor, session: Session, request: Request,
                   idempotency_key: IdempotencyKey = None) -> Response[list[ExpertOut]]:
        """The challenger (or an admin) puts an expert on the review panel; the answer is the whole panel."""
        def write() -> list[ExpertOut]:
            panel.add_expert(session, actor=actor, challenge_id=challenge_id, user_id=data.user_id)
            return [ExpertOut(u.id, u.name, u.organisation_id) for u in panel.panel(session, challenge_id)]

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/proposals/{proposal_id:int}/declaration", operation_id="declareConflict", status_code=201,
          sync_to_thread=True)
    def declare(self, proposal_id: PathId, data: DeclarationIn, actor: Actor, session: Session, request: Request,
                idempotency_key: IdempotencyKey = None) -> Response[DeclarationOut]:
        """利益冲突声明, once per proposal and final: a conflicted expert cannot score it."""
        def write() -> DeclarationOut:
            d = panel.declare(session, actor=actor, proposal_id=proposal_id, conflicted=data.conflicted,
                              reason=data.reason)
            return DeclarationOut(d.proposal_id, d.conflicted, d.reason, d.declared_at)

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @put("/proposals/{proposal_id:int}/score", operation_id="scoreProposal", sync_to_thread=True)
    def score(self, proposal_id: PathId, data: ScoreIn, actor: Actor, session: Session) -> ScoreOut:
        """A panel expert's scores (0–100 per criterion, in the challenge's order), after declaring no conflict;
        revisable until the award."""
        with session.begin():
            row = panel.score(session, actor=actor, proposal_id=proposal_id, scores=data.scores, comment=data.comment)
            return score_out(session.get(User, actor.user_id), row)

    @get("/{challenge_id:int}/scores", operation_id="getScores", sync_to_thread=True)
    def scores(self, challenge_id: PathId, actor: Actor, session: Session) -> list[ScoreLineOut]:
        """The score table, best mean first: whole for the challenger and admins, an expert's own for an expert."""
        with session.begin():
            return [ScoreLineOut(line.proposal.id, line.proposal.organisation_id, line.proposal.team,
                                 f"{line.mean:.2f}" if line.mean is not None else None,
                                 [score_out(u, s) for u, s in line.scores],
                                 [ExpertOut(u.id, u.name, u.organisation_id) for u in line.recused])
                    for line in panel.score_table(session, actor, challenge_id)]

    @post("/{challenge_id:int}/award", operation_id="awardChallenge", status_code=200, sync_to_thread=True)
    def appoint(self, challenge_id: PathId, data: AwardIn, actor: Actor, session: Session) -> ChallengeOut:
        """The challenger appoints a scored proposal after the deadline; milestone amounts add up to the bounty."""
        with session.begin():
            plans = [award.MilestonePlan(m.title, m.due_on, Decimal(m.amount)) for m in data.milestones]
            return challenge_out(award.appoint(session, actor=actor, challenge_id=challenge_id,
                                               proposal_id=data.proposal_id, milestones=plans))

    @get("/{challenge_id:int}/milestones", operation_id="listMilestones", sync_to_thread=True)
    def list_milestones(self, challenge_id: PathId, actor: Actor, session: Session) -> list[MilestoneOut]:
        with session.begin():
            return [milestone_out(m) for m in award.milestones(session, challenge_id, actor=actor)]

    @post("/milestones/{milestone_id:int}/deliver", operation_id="deliverMilestone", status_code=200,
          sync_to_thread=True)
    def deliver(self, milestone_id: PathId, data: DeliveryIn, actor: Actor, session: Session) -> MilestoneOut:
        """The winning team reports a milestone delivered."""
        with session.begin():
            return milestone_out(award.deliver(session, actor=actor, milestone_id=milestone_id, note=data.note))

    @post("/milestones/{milestone_id:int}/pay", operation_id="payMilestone", status_code=200, sync_to_thread=True)
    def pay(self, milestone_id: PathId, data: PaymentIn, actor: Actor, session: Session) -> MilestoneOut:
        """The challenger records the payment of a delivered milestone; the last one completes the challenge."""
        with session.begin():
            return milestone_out(award.pay(session, actor=actor, milestone_id=milestone_id, reference=data.reference))
