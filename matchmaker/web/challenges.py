"""揭榜挂帅 pages: the list (and the publishing form for firms and departments), and one page per challenge that
shows each person what they can do there — a team proposes and attaches PDFs, the challenger seats the panel,
closes the call, reads the score table, appoints the winner and pays milestones, an expert declares conflicts and
scores, the winning team reports milestones delivered."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage.submission import organisation_named
from matchmaker.catalog import directory
from matchmaker.errors import InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.models import Milestone
from matchmaker.trading import award, challenges, panel
from matchmaker.web.forms import yuan_field
from matchmaker.web.login import Form
from matchmaker.web.spreadsheets import check_csrf
from matchmaker.web.views import acted, refused, render

PHASES = (("open", "征集中"), ("reviewing", "评审中"), ("awarded", "已揭榜"), ("completed", "已完成"))
CRITERIA_ROWS = 6
MILESTONE_ROWS = 4


def _date(data: dict, name: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(data.get(name, "").strip())
    except ValueError:
        raise InvalidInput.on(name, f"请填写{label}（年-月-日）") from None


def _int(data: dict, name: str, label: str, low: int, high: int) -> int:
    text = data.get(name, "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput.on(name, f"{label}须为 {low}–{high} 的整数")
    return int(text)


@get("/challenges", sync_to_thread=True)
def challenge_list(request: Request, actor: Actor, session: Session, phase: str = "open") -> Template:
    phase = phase if phase in dict(PHASES) else "open"
    with session.begin():
        rows, total = challenges.list_challenges(session, phase_wanted=phase, limit=100)
        mine = panel.panels_of(session, actor.user_id) if actor.role is v.Role.EXPERT else []
        names = directory.organisation_names(session, {c.organisation_id for c in [*rows, *mine]})
        fields = directory.list_fields(session)
    return render(request, "challenges.html", rows=rows, total=total, phase=phase, phases=PHASES, mine=mine,
                  names=names, fields=fields, may_publish=actor.role in challenges.PUBLISHERS,
                  department=actor.role in (v.Role.ANALYST, v.Role.ADMIN), criteria=v.CHALLENGE_CRITERIA,
                  criteria_rows=CRITERIA_ROWS, phase_of=challenges.phase, phase_names=challenges.PHASE_NAMES,
                  default_deadline=(dt.date.today() + dt.timedelta(days=60)).isoformat())


@post("/challenges", sync_to_thread=True)
def publish(request: Request, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    def action():
        criteria = []
        for i in range(CRITERIA_ROWS):
            name = data.get(f"criterion_{i}", "").strip()
            if name:
                criteria.append(challenges.Criterion(name, _int(data, f"weight_{i}", f"“{name}”的权重", 1, 100)))
        behalf = data.get("on_behalf_of", "").strip()
        behalf_id = organisation_named(session, behalf) if behalf else None
        if behalf and behalf_id is None:
            raise InvalidInput.on("on_behalf_of", "没有找到这家企业；请填写平台上企业的全称")
        return challenges.publish(session, actor=actor, title=data.get("title", ""),
                                  requirements=data.get("requirements", ""),
                                  bounty=yuan_field(data, "bounty", "悬赏金额", "500000 或 50万"),
                                  deadline=_date(data, "deadline", "揭榜截止日期"), criteria=criteria,
                                  field_code=data.get("field_code") or None, on_behalf_of_id=behalf_id)

    return acted(request, session, action, back="/web/challenges", then=lambda c: f"/web/challenges/{c.id}",
                 done="榜单已发布，团队可在截止日期前提交方案；请组建评审专家组")


@get("/challenges/{challenge_id:int}", sync_to_thread=True)
def challenge_page(request: Request, challenge_id: int, actor: Actor, session: Session) -> Template:
    with session.begin():
        challenge = challenges.get(session, challenge_id)
        stage = challenges.phase(challenge)
        is_challenger = challenges.is_challenger(actor, challenge)
        sees_all = challenges.sees_all_proposals(session, actor, challenge)
        judging = challenges.on_panel(session, actor, challenge.id)
        proposals = challenges.proposals(session, actor, challenge)
        files = challenges.attachments(session, (p.id for p in proposals))
        own = next((p for p in proposals if p.organisation_id == actor.organisation_id), None)
        seated = panel.panel(session, challenge.id) if sees_all else []
        pool = [e for e in panel.experts(session) if e.id not in {s.id for s in seated}] \
            if (is_challenger or actor.role is v.Role.ADMIN) and stage in ("open", "reviewing") else []
        table = panel.score_table(session, actor, challenge.id, seated) if sees_all and proposals else []
        declared = panel.declarations_of(session, actor.user_id, (p.id for p in proposals)) if judging else {}
        winner = next((p for p in proposals if p.id == challenge.winner_id), None)
        stones = award.milestones(session, challenge.id) if challenge.winner_id and (
            is_challenger or actor.role is v.Role.ADMIN or (winner and winner.organisation_id == actor.organisation_id)) else []
        names = directory.organisation_names(session, {challenge.organisation_id, challenge.on_behalf_of_id,
                                                       *(p.organisation_id for p in proposals),
                                                       *(e.organisation_id for e in [*seated, *pool])})
    may_propose = stage == "open" and own is None and actor.role in challenges.TEAMS \
        and actor.organisation_id not in (challenge.organisation_id, challenge.on_behalf_of_id)
    return render(request, "challenge.html", challenge=challenge, stage=stage, stage_name=challenges.PHASE_NAMES[stage],
                  is_challenger=is_challenger, judging=judging, proposals=proposals, files=files, own=own,
                  seated=seated, pool=pool, table=table, declared=declared, winner=winner, milestones=stones,
                  names=names, may_propose=may_propose, milestone_rows=MILESTONE_ROWS,
                  bound={p.id: panel.bound_to(challenge, p, actor.organisation_id) for p in proposals},
                  scored={line.proposal.id for line in table if line.scores},
                  is_winner=winner is not None and winner.organisation_id == actor.organisation_id
                  and actor.role in challenges.TEAMS)


def _back(challenge_id: int) -> str:
    return f"/web/challenges/{challenge_id}"


@post("/challenges/{challenge_id:int}/proposals", sync_to_thread=True)
def propose(request: Request, challenge_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    def action():
        budget = yuan_field(data, "budget", "经费预算", "450000 或 45万") if data.get("budget", "").strip() else None
        return challenges.submit_proposal(session, actor=actor, challenge_id=challenge_id, team=data.get("team", ""),
                                          summary=data.get("summary", ""), budget=budget)

    return acted(request, session, action, back=_back(challenge_id),
                 done="方案已提交；可在下方上传方案全文等 PDF 附件，截止前都可补充")


@post("/upload/proposals/{proposal_id:int}", sync_to_thread=True)
def attach(request: Request, proposal_id: int, actor: Actor, session: Session,
           data: dict = Body(media_type=RequestEncodingType.MULTI_PART)) -> Redirect:
    check_csrf(request, data)
    with session.begin():
        proposal, _ = challenges.readable_proposal(session, actor, proposal_id)
        back = _back(proposal.challenge_id)
    upload = data.get("attachment")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return refused(request, back, InvalidInput.on("attachment", "请选择要上传的 PDF 文件"))
    return acted(request, session, lambda: challenges.attach(session, actor=actor, proposal_id=proposal_id,
                                                             filename=upload.filename, content=upload.file.read()),
                 back=back, done=lambda a: f"已上传附件《{a.filename}》")


@get("/challenges/attachments/{attachment_id:int}", sync_to_thread=True)
def download(attachment_id: int, actor: Actor, session: Session) -> Response[bytes]:
    with session.begin():
        found = challenges.attachment(session, actor, attachment_id)
        return Response(found.content, media_type="application/pdf", headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}"})


@post("/challenges/{challenge_id:int}/panel", sync_to_thread=True)
def seat(request: Request, challenge_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: panel.add_expert(
        session, actor=actor, challenge_id=challenge_id, user_id=_int(data, "user_id", "评审专家", 1, 2**31 - 1)),
        back=_back(challenge_id), done="已加入评审专家组；专家会在评审任务中看到该榜单")


@post("/challenges/{challenge_id:int}/close", sync_to_thread=True)
def close(request: Request, challenge_id: int, actor: Actor, session: Session) -> Redirect:
    return acted(request, session, lambda: challenges.close_early(session, actor=actor, challenge_id=challenge_id),
                 back=_back(challenge_id), done="已截止征集，评审专家现在可以评分")


@post("/challenges/proposals/{proposal_id:int}/declaration", sync_to_thread=True)
def declare(request: Request, proposal_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    with session.begin():
        back = _back(challenges.proposal_of(session, proposal_id)[0].challenge_id)
    conflicted = data.get("conflicted") == "yes"
    return acted(request, session, lambda: panel.declare(session, actor=actor, proposal_id=proposal_id,
                                                         conflicted=conflicted, reason=data.get("reason")),
                 back=back, done="已声明存在利益冲突，您将回避该方案的评审" if conflicted else "已声明无利益冲突，可以评分")


@post("/challenges/proposals/{proposal_id:int}/score", sync_to_thread=True)
def score(request: Request, proposal_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    with session.begin():
        proposal, challenge = challenges.proposal_of(session, proposal_id)
        criteria = [c["name"] for c in challenge.criteria]

    def action():
        marks = [_int(data, f"score_{i}", f"“{name}”的得分", 0, 100) for i, name in enumerate(criteria)]
        return panel.score(session, actor=actor, proposal_id=proposal_id, scores=marks, comment=data.get("comment"))

    return acted(request, session, action, back=_back(challenge.id),
                 done=lambda row: f"已评分，加权总分 {row.total}；揭榜方确定前可以修改")


@post("/challenges/{challenge_id:int}/award", sync_to_thread=True)
def appoint(request: Request, challenge_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    def action():
        plans = []
        for i in range(MILESTONE_ROWS):
            title = data.get(f"milestone_{i}", "").strip()
            if title:
                plans.append(award.MilestonePlan(title, _date(data, f"due_{i}", f"“{title}”的完成日期"),
                                                 yuan_field(data, f"amount_{i}", f"“{title}”的金额", "200000 或 20万")))
        return award.appoint(session, actor=actor, challenge_id=challenge_id,
                             proposal_id=_int(data, "proposal_id", "揭榜方案", 1, 2**31 - 1), milestones=plans)

    return acted(request, session, action, back=_back(challenge_id),
                 done="已确定揭榜方并通知各团队；揭榜团队交付里程碑后，在此核验并支付")


def _milestone_back(session: Session, milestone_id: int) -> str:
    with session.begin():
        found = session.get(Milestone, milestone_id)
        return _back(found.challenge_id) if found else "/web/challenges"


@post("/challenges/milestones/{milestone_id:int}/deliver", sync_to_thread=True)
def deliver(request: Request, milestone_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: award.deliver(session, actor=actor, milestone_id=milestone_id,
                                                         note=data.get("note", "")),
                 back=_milestone_back(session, milestone_id), done="已提交交付说明，等待发榜单位核验付款")


@post("/challenges/milestones/{milestone_id:int}/pay", sync_to_thread=True)
def pay(request: Request, milestone_id: int, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: award.pay(session, actor=actor, milestone_id=milestone_id,
                                                     reference=data.get("reference", "")),
                 back=_milestone_back(session, milestone_id), done=lambda m: f"已记录付款 {m.amount:,.2f} 元")


HANDLERS = [challenge_list, publish, challenge_page, propose, attach, download, seat, close, declare, score, appoint,
            deliver, pay]
