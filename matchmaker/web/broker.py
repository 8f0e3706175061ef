"""Brokers' pages: the queue of unclaimed matches, the pipeline board, the contract form, and the contracts list."""

from __future__ import annotations

import datetime as dt

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage import after_signing, form, submission
from matchmaker.brokerage.contracts import get_contract, list_contracts, sign_contract
from matchmaker.brokerage.pipelines import claim_pipeline, get_pipeline, list_pipelines, move_pipeline
from matchmaker.catalog import directory
from matchmaker.catalog import services as catalog
from matchmaker.catalog.services import ListQuery
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS, PUBLISHED
from matchmaker.deals.introductions import unclaimed_interest
from matchmaker.errors import DomainError, Forbidden, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.matching.service import matching_service
from matchmaker.models import Achievement, Demand, Organisation, Pipeline
from matchmaker.web.forms import FormData, field_problems, translate
from matchmaker.web.libraries import explained_matches, form_choices
from matchmaker.web.views import Pager, page_number, redirect, render

QUEUE_DEMANDS = 6  # demands per queue page: each costs one match query
QUEUE_CANDIDATES = 6  # ranked per demand, so that a few claimed pairs still leave some to show
QUEUE_SHOWN = 3  # best unclaimed achievements shown per demand
BOARD_LIMIT = 200


def _broker_only(actor: Actor) -> None:
    if actor.role is not v.Role.BROKER:
        raise Forbidden("只有技术经纪人可以认领和推进对接项目")


def claimed_pairs(session: Session, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (demand, achievement) pairs some broker holds now or signed (declined / lapsed ones may be reclaimed)."""
    if not pairs:
        return set()
    rows = session.execute(select(Pipeline.demand_id, Pipeline.achievement_id)
                           .where(tuple_(Pipeline.demand_id, Pipeline.achievement_id).in_(pairs),
                                  Pipeline.stage.not_in(v.ENDED_WITHOUT_CONTRACT)))
    return {tuple(row) for row in rows}


# ---------------------------------------------------------------- work queue


@get("/broker/queue", sync_to_thread=True)
def queue(request: Request, actor: Actor, session: Session, state: State, page: str | None = None,
          field: str | None = None) -> Template:
    """The newest published demands, each with its best achievements nobody has claimed yet."""
    _broker_only(actor)
    number = page_number(page)
    field = field or None
    with session.begin():
        query = ListQuery(field=field, status=PUBLISHED, sort="-posted_on", limit=QUEUE_DEMANDS,
                          offset=(number - 1) * QUEUE_DEMANDS)
        demands, total = catalog.list_records(session, actor=actor, spec=DEMANDS, query=query)
        fields = directory.list_fields(session)
    matching = matching_service(state)
    groups = []
    names = directory.field_names(state)
    with session.begin():
        ranked = [(demand, matching.show(session, record=demand, target=v.Library.ACHIEVEMENTS, k=QUEUE_CANDIDATES,
                                         surface=v.Surface.PAGE, user_id=actor.user_id)) for demand in demands]
        taken = claimed_pairs(session, [(d.id, m.id) for d, found in ranked for m in found])
        buyers = directory.organisation_names(session, (d.organisation_id for d in demands))
        for demand, found in ranked:
            free = [m for m in found if (demand.id, m.id) not in taken][:QUEUE_SHOWN]
            groups.append({"demand": demand, "buyer": buyers.get(demand.organisation_id),
                           "matches": explained_matches(session, ACHIEVEMENTS, demand, free, names)})
    with session.begin():
        interested = unclaimed_interest(session) if number == 1 else []
    return render(request, "broker_queue.html", groups=groups, fields=fields, field=field or "", interested=interested,
                pager=Pager(total, number, QUEUE_DEMANDS, {"field": field}, capped=True))


@post("/broker/claim")
async def claim(request: Request, actor: Actor, session: Session) -> Redirect:
    form = FormData.of(await request.form())
    try:
        demand_id, achievement_id = int(form["demand_id"]), int(form["achievement_id"])
        score = float(form["score"]) if form.get("score") else None
    except (KeyError, ValueError):
        raise InvalidInput.on("demand_id", "认领的匹配不完整") from None
    with session.begin():
        pipeline = claim_pipeline(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id,
                                  score=score, note=form.get("note", ""))
        pipeline_id = pipeline.id
    return redirect(request, f"/web/pipelines#pipeline-{pipeline_id}", "已认领，项目已加入对接看板")


# ---------------------------------------------------------------- pipeline board


@get("/pipelines", sync_to_thread=True)
def board(request: Request, actor: Actor, session: Session) -> Template:
    """Columns by stage; brokers see their own deals, analysts and admins every deal."""
    with session.begin():
        pipelines, total = list_pipelines(session, actor=actor, limit=BOARD_LIMIT)
        demands = _by_id(session, Demand, {p.demand_id for p in pipelines})
        achievements = _by_id(session, Achievement, {p.achievement_id for p in pipelines})
    columns = {stage: [] for stage in ("claimed", "contacted", "negotiating", "signed", "closed")}
    for pipeline in sorted(pipelines, key=lambda p: p.updated_at, reverse=True):
        key = pipeline.stage if pipeline.stage in columns else "closed"
        columns[key].append({"pipeline": pipeline, "demand": demands.get(pipeline.demand_id),
                             "achievement": achievements.get(pipeline.achievement_id),
                             "next": v.NEXT_STAGE.get(v.PipelineStage(pipeline.stage))})
    return render(request, "pipelines.html", columns=columns, total=total, limit=BOARD_LIMIT,
                movable=actor.role is v.Role.BROKER)


def _by_id(session: Session, model, ids: set[int]) -> dict:
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


@post("/pipelines/{pipeline_id:int}/move")
async def move(request: Request, pipeline_id: int, actor: Actor, session: Session) -> Redirect:
    form = FormData.of(await request.form())
    to_stage = form.get("to_stage", "")
    try:
        with session.begin():
            move_pipeline(session, actor=actor, pipeline_id=pipeline_id, to_stage=to_stage,
                          note=form.get("note", ""), expected_version=_version(form))
    except DomainError as error:
        if error.status not in (409, 422):
            raise
        return redirect(request, "/web/pipelines", next(iter(field_problems(error).values())))
    return redirect(request, f"/web/pipelines#pipeline-{pipeline_id}", f"已推进到“{_stage_zh(to_stage)}”")


def _stage_zh(stage: str) -> str:
    from matchmaker.web.labels import label

    return label(stage)


def _version(form: FormData) -> int | None:
    try:
        return int(form["expected_version"]) if form.get("expected_version") else None
    except ValueError:
        return None


# ---------------------------------------------------------------- contract (技术合同登记)


def _contract_page(request: Request, session: Session, actor: Actor, pipeline_id: int, form: dict, problems: dict,
                   status_code: int = 200) -> Template:
    with session.begin():
        pipeline, contract_id = get_pipeline(session, actor=actor, pipeline_id=pipeline_id)
        demand, achievement = session.get(Demand, pipeline.demand_id), session.get(Achievement, pipeline.achievement_id)
        buyer = session.get(Organisation, demand.organisation_id) if demand.organisation_id else None
        seller = session.get(Organisation, achievement.organisation_id) if achievement.organisation_id else None
        regions = {r.code: r.name for r in form_choices(session)["cities"]}
    return render(request, "contract_form.html", status_code=status_code, pipeline=pipeline, contract_id=contract_id,
                demand=demand, achievement=achievement, buyer=buyer, seller=seller, form=form, problems=problems,
                regions=regions)


@get("/pipelines/{pipeline_id:int}/contract", sync_to_thread=True)
def contract_form(request: Request, pipeline_id: int, actor: Actor, session: Session) -> Template:
    form = {"signed_on": dt.date.today().isoformat(), "contract_type": "transfer", "payment_mode": "lump_sum"}
    return _contract_page(request, session, actor, pipeline_id, form, {})


@post("/pipelines/{pipeline_id:int}/contract")
async def sign(request: Request, pipeline_id: int, actor: Actor, session: Session) -> Template | Redirect:
    """Log the contract with the registration form's fields; the pipeline becomes signed in the same transaction."""
    form = FormData.of(await request.form())
    problems, dates = {}, {}
    for name in ("signed_on", "trial_ends_on"):
        if form.get(name):
            try:
                dates[name] = dt.date.fromisoformat(form[name])
            except ValueError:
                problems[name] = translate(name, "Expected `date`")
    for name in ("amount", "signed_on", "contract_type", "payment_mode"):
        if not form.get(name):
            problems[name] = "必填"
    if not problems:
        try:
            with session.begin():
                contract = sign_contract(
                    session, actor=actor, pipeline_id=pipeline_id, contract_type=form["contract_type"],
                    amount=form["amount"], certified_amount=form.get("certified_amount") or None,
                    payment_mode=form["payment_mode"], signed_on=dates["signed_on"],
                    trial_ends_on=dates.get("trial_ends_on"), licence_scope=form.get("licence_scope") or None,
                    exclusive="exclusive" in form,
                    close_demand="close_demand" in form, note=form.get("note", ""),
                    expected_version=_version(form))
                contract_id = contract.id
        except DomainError as error:
            if error.status not in (409, 422):
                raise
            problems = field_problems(error)
    if problems:
        return _contract_page(request, session, actor, pipeline_id, form, problems, status_code=422)
    return redirect(request, f"/web/contracts/{contract_id}", "合同已登记，项目已签约")


# ---------------------------------------------------------------- contracts


CONTRACTS_PAGE = 20


@get("/contracts", sync_to_thread=True)
def contracts(request: Request, actor: Actor, session: Session, page: str | None = None) -> Template:
    number = page_number(page)
    with session.begin():
        rows, total = list_contracts(session, actor=actor, limit=CONTRACTS_PAGE,
                                     offset=(number - 1) * CONTRACTS_PAGE)
        names = directory.organisation_names(session, {c.buyer_id for c in rows} | {c.seller_id for c in rows})
    return render(request, "contracts.html", rows=rows, names=names, pager=Pager(total, number, CONTRACTS_PAGE, {}))


@get("/contracts/{contract_id:int}", sync_to_thread=True)
def contract_detail(request: Request, contract_id: int, actor: Actor, session: Session) -> Template:
    with session.begin():
        contract = get_contract(session, actor=actor, contract_id=contract_id)
        names = directory.organisation_names(session, {contract.buyer_id, contract.seller_id})
        demand = session.get(Demand, contract.demand_id) if contract.demand_id else None
        achievement = session.get(Achievement, contract.achievement_id) if contract.achievement_id else None
        regions = {r.code: r.name for r in directory.list_regions(session, level="city")}
        regions.update({r.code: r.name for r in directory.list_regions(session)})
        field_names = {f.code: f.name for f in directory.list_fields(session)}
        document = submission.document_of(session, contract_id)
        party = actor.role in submission.PARTIES and actor.organisation_id in (contract.seller_id, contract.buyer_id)
        side = ("seller" if actor.organisation_id == contract.seller_id else "buyer") if party else None
        after = after_signing.after_signing(session, contract_id)
    return render(request, "contract.html", contract=contract, names=names, demand=demand, achievement=achievement,
                  regions=regions, field_names=field_names, document=document, party=party, form_lists=form,
                  side=side, after=after, today=dt.date.today(), trial_outcomes=after_signing.TRIAL_OUTCOMES,
                  share_bases=after_signing.BASES)


HANDLERS = [queue, claim, board, move, contract_form, sign, contracts, contract_detail]
