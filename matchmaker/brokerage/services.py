"""Brokerage rules: brokers claim matches, move them stage by stage, sign contracts; everyone gives feedback."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.access import is_visible
from matchmaker.db import paged
from matchmaker.catalog.schemas import money_problem
from matchmaker.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import (
    Achievement,
    Broker,
    Contract,
    Demand,
    Feedback,
    IndexChange,
    Organisation,
    Pipeline,
    PipelineEvent,
)

Stage = v.PipelineStage
READ_ALL_ROLES = (v.Role.ADMIN, v.Role.ANALYST)


def _now(at: dt.datetime | None) -> dt.datetime:
    # The market simulator passes its own clock; the API uses the wall clock.
    return at or dt.datetime.now(dt.UTC)


# --- brokers -------------------------------------------------------------------------------------------------

def list_brokers(session: Session, *, agency_id: int | None = None, level: str | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[list[tuple[Broker, str]], int]:
    """Brokers with their agency's name, by id; filtered by agency and certification level."""
    query = select(Broker, Organisation.name).join(Organisation, Organisation.id == Broker.agency_id)
    if agency_id is not None:
        query = query.where(Broker.agency_id == agency_id)
    if level is not None:
        query = query.where(Broker.level == v.BrokerLevel(level).value)
    rows, total = paged(session, query.order_by(Broker.id), limit=limit, offset=offset)
    return [(broker, agency_name) for broker, agency_name in rows], total


def get_broker(session: Session, *, broker_id: int) -> tuple[Broker, str]:
    row = session.execute(
        select(Broker, Organisation.name).join(Organisation, Organisation.id == Broker.agency_id)
        .where(Broker.id == broker_id)
    ).first()
    if row is None:
        raise NotFound(f"broker {broker_id} not found")
    return row[0], row[1]


# --- pipelines -----------------------------------------------------------------------------------------------

def claim_pipeline(session: Session, *, actor: Actor, demand_id: int, achievement_id: int, note: str = "",
                   score: float | None = None, at: dt.datetime | None = None) -> Pipeline:
    """A broker takes a (demand, achievement) pair; both must be published and unexpired, and unclaimed.

    `score` is the matcher's score for the pair when the caller has one; the API
    leaves it empty until the matching service can score a single pair.
    """
    broker_id = _acting_broker(actor)
    now = _now(at)
    demand = _referenced(session, Demand, demand_id, "demand_id")
    achievement = _referenced(session, Achievement, achievement_id, "achievement_id")
    _check_matchable(demand, "demand_id", demand.status, demand.deadline, now.date())
    _check_matchable(achievement, "achievement_id", achievement.status, achievement.expires_on, now.date())
    holder = session.scalar(select(Pipeline).where(Pipeline.demand_id == demand_id,
                                                   Pipeline.achievement_id == achievement_id,
                                                   Pipeline.stage.not_in(v.ENDED_WITHOUT_CONTRACT)))
    if holder is not None:
        # A declined or lapsed pair may be tried again (a new pipeline); a live or signed one may not.
        raise Conflict(f"demand {demand_id} and achievement {achievement_id} are already claimed "
                       f"(pipeline {holder.id}, stage {holder.stage})")
    pipeline = Pipeline(demand_id=demand_id, achievement_id=achievement_id, broker_id=broker_id,
                        stage=Stage.CLAIMED.value, version=1, created_at=now, updated_at=now, score=score)
    session.add(pipeline)
    session.flush()
    _record_event(session, pipeline, None, Stage.CLAIMED, actor, note, now)
    return pipeline


def move_pipeline(session: Session, *, actor: Actor, pipeline_id: int, to_stage: str, note: str = "",
                  expected_version: int | None = None, at: dt.datetime | None = None) -> Pipeline:
    """One step forward, or an end (declined / lapsed) from any open stage; signing goes through sign_contract."""
    to_stage = _parse(Stage, to_stage, "to_stage")
    pipeline = _pipeline(session, pipeline_id)
    _check_may_move(actor, pipeline, to_stage)
    _check_move(pipeline, to_stage)
    if to_stage is Stage.SIGNED:
        raise Conflict(f"pipeline {pipeline_id} is signed by logging its contract: POST /pipelines/{pipeline_id}/contract",
                       problems=[FieldProblem("to_stage", "signed needs the contract")])
    _advance(session, pipeline, to_stage, actor=actor, note=note, expected_version=expected_version, now=_now(at))
    return pipeline


def get_pipeline(session: Session, *, actor: Actor, pipeline_id: int) -> tuple[Pipeline, int | None]:
    """A pipeline with its events and its contract's id, for those allowed to see it."""
    pipeline = _pipeline(session, pipeline_id)
    if not session.scalar(_visible_pipelines(select(Pipeline.id), actor).where(Pipeline.id == pipeline_id)):
        raise Forbidden(f"pipeline {pipeline_id} is not yours to see")
    contract_id = session.scalar(select(Contract.id).where(Contract.pipeline_id == pipeline_id))
    return pipeline, contract_id


def list_pipelines(session: Session, *, actor: Actor, stage: str | None = None, broker_id: int | None = None,
                   demand_id: int | None = None, achievement_id: int | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[list[Pipeline], int]:
    """Brokers see their own pipelines, firms and offices those on their records, admins and analysts all."""
    query = _visible_pipelines(select(Pipeline), actor)
    if stage is not None:
        query = query.where(Pipeline.stage == _parse(Stage, stage, "stage").value)
    for column, value in ((Pipeline.broker_id, broker_id), (Pipeline.demand_id, demand_id),
                          (Pipeline.achievement_id, achievement_id)):
        if value is not None:
            query = query.where(column == value)
    rows, total = paged(session, query.order_by(Pipeline.id), limit=limit, offset=offset)
    return [row[0] for row in rows], total


def _visible_pipelines(query: Select, actor: Actor) -> Select:
    if actor.is_(*READ_ALL_ROLES):
        return query
    if actor.is_(v.Role.BROKER):
        return query.where(Pipeline.broker_id == (actor.broker_id or 0))
    own_demands = select(Demand.id).where(Demand.organisation_id == actor.organisation_id)
    own_achievements = select(Achievement.id).where(Achievement.organisation_id == actor.organisation_id)
    return query.where(or_(Pipeline.demand_id.in_(own_demands), Pipeline.achievement_id.in_(own_achievements)))


def _acting_broker(actor: Actor) -> int:
    if not actor.is_(v.Role.BROKER) or actor.broker_id is None:
        raise Forbidden(f"only brokers claim and run pipelines; you are {actor.role.value}")
    return actor.broker_id


def _pipeline(session: Session, pipeline_id: int) -> Pipeline:
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} not found")
    return pipeline


def _check_may_move(actor: Actor, pipeline: Pipeline, to_stage: Stage) -> None:
    # An admin may only lapse a pipeline a broker abandoned; the deal itself stays the broker's.
    if actor.is_(v.Role.ADMIN) and to_stage is Stage.LAPSED:
        return
    _check_holder(actor, pipeline)


def _check_holder(actor: Actor, pipeline: Pipeline) -> None:
    if not actor.is_(v.Role.BROKER) or actor.broker_id != pipeline.broker_id:
        raise Forbidden(f"pipeline {pipeline.id} is held by broker {pipeline.broker_id}; only that broker moves it")


def _check_move(pipeline: Pipeline, to_stage: Stage) -> None:
    current = Stage(pipeline.stage)
    if current not in v.OPEN_STAGES:
        raise Conflict(f"pipeline {pipeline.id} is closed ({current.value}); it cannot move",
                       problems=[FieldProblem("to_stage", f"pipeline is {current.value}")])
    if to_stage in (Stage.DECLINED, Stage.LAPSED) or v.NEXT_STAGE.get(current) is to_stage:
        return
    expected = v.NEXT_STAGE[current].value
    raise Conflict(f"pipeline {pipeline.id} is {current.value}; it moves to {expected}, declined or lapsed, "
                   f"not {to_stage.value}", problems=[FieldProblem("to_stage", f"not reachable from {current.value}")])


def _advance(session: Session, pipeline: Pipeline, to_stage: Stage, *, actor: Actor, note: str,
             expected_version: int | None, now: dt.datetime) -> None:
    """Optimistic lock: the UPDATE names the version this request saw, so of two racing moves only one lands."""
    if expected_version is not None and expected_version != pipeline.version:
        raise _stale(pipeline.id, expected_version, pipeline.version)
    seen, from_stage = pipeline.version, pipeline.stage
    moved = session.execute(
        update(Pipeline).where(Pipeline.id == pipeline.id, Pipeline.version == seen)
        .values(stage=to_stage.value, version=seen + 1, updated_at=now)
    )
    if moved.rowcount != 1:
        raise _stale(pipeline.id, seen, None)
    _record_event(session, pipeline, Stage(from_stage), to_stage, actor, note, now)


def _stale(pipeline_id: int, seen: int, current: int | None) -> Conflict:
    now_at = f" it is now at version {current}" if current is not None else " it changed meanwhile"
    return Conflict(f"pipeline {pipeline_id} is no longer at version {seen};{now_at}: reload and retry",
                    problems=[FieldProblem("expected_version", "stale")])


def _record_event(session: Session, pipeline: Pipeline, from_stage: Stage | None, to_stage: Stage, actor: Actor,
                  note: str, now: dt.datetime) -> None:
    session.add(PipelineEvent(pipeline_id=pipeline.id, from_stage=from_stage.value if from_stage else None,
                              to_stage=to_stage.value, actor_user_id=actor.user_id, note=note or "", at=now))
    session.flush()


# --- records referenced by brokerage requests ----------------------------------------------------------------

def _referenced(session: Session, model, record_id: int, field: str):
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"{field.removesuffix('_id')} {record_id} not found", problems=[FieldProblem(field, "not found")])
    return record


def _check_matchable(record, field: str, status: str, ends_on: dt.date | None, today: dt.date) -> None:
    kind = field.removesuffix("_id")
    if status != "published":
        raise Conflict(f"{kind} {record.id} is {status}, not published", problems=[FieldProblem(field, status)])
    if ends_on is not None and ends_on < today:
        raise Conflict(f"{kind} {record.id} expired on {ends_on}", problems=[FieldProblem(field, "expired")])


def _parse(enum, value, field: str):
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput.on(field, f"unknown value {value!r} (allowed: {', '.join(v.values(enum))})") from None


# --- contracts (技术合同) -------------------------------------------------------------------------------------

def sign_contract(session: Session, *, actor: Actor, pipeline_id: int, contract_type: str, amount: Decimal | str,
                  certified_amount: Decimal | str | None = None, payment_mode: str, signed_on: dt.date,
                  trial_ends_on: dt.date | None = None, licence_scope: str | None = None, exclusive: bool = False,
                  close_demand: bool = False,
                  note: str = "", expected_version: int | None = None, at: dt.datetime | None = None) -> Contract:
    """Log the contract of a negotiating pipeline and sign the pipeline, in the caller's one transaction.

    Buyer and seller are the demand's firm and the achievement's owner, with their organisations' regions.
    `exclusive` (a transfer, or an exclusive licence) marks the achievement transferred, i.e. no longer on offer;
    close_demand marks the demand solved; both
    are logged in index_changes so every matcher process drops them.
    """
    now = _now(at)
    pipeline = _pipeline(session, pipeline_id)
    _check_holder(actor, pipeline)
    terms = _contract_terms(contract_type, amount, certified_amount, payment_mode, signed_on, trial_ends_on,
                            licence_scope, exclusive)
    if pipeline.stage != Stage.NEGOTIATING.value:
        _check_move(pipeline, Stage.SIGNED)  # names the reason: closed, or not negotiating yet
    # Sign first: on SQLite this first write takes the database's write lock, and FOR UPDATE below locks the two
    # records on PostgreSQL, so two deals on one achievement cannot both see it still untransferred.
    _advance(session, pipeline, Stage.SIGNED, actor=actor, note=note, expected_version=expected_version, now=now)
    demand = session.get(Demand, pipeline.demand_id, with_for_update=True, populate_existing=True)
    achievement = session.get(Achievement, pipeline.achievement_id, with_for_update=True, populate_existing=True)
    _check_signable(demand, achievement)
    buyer = _party(session, demand.organisation_id, demand.region_code, "buyer", f"demand {demand.id}")
    seller = _party(session, achievement.organisation_id, achievement.region_code, "seller",
                    f"achievement {achievement.id}")
    contract = Contract(pipeline_id=pipeline.id, achievement_id=achievement.id, demand_id=demand.id,
                        broker_id=pipeline.broker_id, buyer_id=buyer[0], buyer_region_code=buyer[1],
                        seller_id=seller[0], seller_region_code=seller[1], created_at=now, updated_at=now, **terms)
    session.add(contract)
    if exclusive:
        achievement.status = v.AchievementStatus.TRANSFERRED.value
        session.add(IndexChange(library=v.Library.ACHIEVEMENTS.value, record_id=achievement.id, at=now))
    if close_demand:
        demand.status = v.DemandStatus.SOLVED.value
        session.add(IndexChange(library=v.Library.DEMANDS.value, record_id=demand.id, at=now))
    session.flush()
    return contract


def _contract_terms(contract_type, amount, certified_amount, payment_mode, signed_on, trial_ends_on,
                    licence_scope, exclusive) -> dict:
    contract_type = _parse(v.ContractType, contract_type, "contract_type")
    payment_mode = _parse(v.PaymentMode, payment_mode, "payment_mode")
    amount = _yuan(amount, "amount")
    certified = _yuan(certified_amount, "certified_amount")
    if certified is not None and certified > amount:
        raise InvalidInput.on("certified_amount", f"{certified:f} exceeds the contract amount {amount:f}")
    if payment_mode is v.PaymentMode.USE_FIRST_PAY_LATER:
        if trial_ends_on is None:
            raise InvalidInput.on("trial_ends_on", "required when payment_mode is use_first_pay_later")
        if trial_ends_on <= signed_on:
            raise InvalidInput.on("trial_ends_on", f"{trial_ends_on} is not after signed_on {signed_on}")
    elif trial_ends_on is not None:
        raise InvalidInput.on("trial_ends_on", "only a use_first_pay_later contract has a trial period")
    scope = _parse(v.LicenceScope, licence_scope, "licence_scope") if licence_scope is not None else None
    if scope is not None and contract_type is not v.ContractType.LICENCE:
        raise InvalidInput.on("licence_scope", f"applies to a licence contract, not {contract_type.value}")
    # Off the market: ownership moved, or nobody but the licensee may use it any more.
    if exclusive and not (contract_type is v.ContractType.TRANSFER or scope is v.LicenceScope.EXCLUSIVE):
        raise InvalidInput.on("exclusive", "applies to a transfer or an exclusive licence (licence_scope "
                                           f"exclusive), not {contract_type.value}"
                                           + (f" with scope {scope.value}" if scope else ""))
    return {"contract_type": contract_type.value, "payment_mode": payment_mode.value, "amount": amount,
            "certified_amount": certified, "signed_on": signed_on, "trial_ends_on": trial_ends_on,
            "licence_scope": scope.value if scope else None}


def _yuan(value: Decimal | str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value) if isinstance(value, str) else value
    except InvalidOperation:
        raise InvalidInput.on(field, f"not a decimal amount of yuan: {value!r}") from None
    if not isinstance(amount, Decimal):
        raise InvalidInput.on(field, "money is a decimal string, never a float")
    reason = money_problem(amount)
    if reason:
        raise InvalidInput.on(field, reason)
    return amount


def _check_signable(demand: Demand, achievement: Achievement) -> None:
    if achievement.status in (v.AchievementStatus.TRANSFERRED.value, v.AchievementStatus.WITHDRAWN.value):
        raise Conflict(f"achievement {achievement.id} is {achievement.status}; it can no longer be contracted")
    if demand.status in (v.DemandStatus.SOLVED.value, v.DemandStatus.WITHDRAWN.value):
        raise Conflict(f"demand {demand.id} is {demand.status}; it can no longer be contracted")


def _party(session: Session, organisation_id: int | None, record_region: str | None, role: str,
           record: str) -> tuple[int, str]:
    """(organisation id, region code) of a contract party; the record's region stands in for a missing one."""
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise Conflict(f"{record} has no owning organisation to act as {role}")
    region = organisation.region_code or record_region
    if region is None:
        raise Conflict(f"the {role} {organisation.name} (organisation {organisation.id}) has no region code")
    return organisation.id, region


def register_contract(session: Session, *, actor: Actor, contract_id: int, registration_number: str,
                      registered_on: dt.date) -> Contract:
    """Record the registration (认定登记) number an admin got for a contract; numbers are unique."""
    if not actor.is_(v.Role.ADMIN):
        raise Forbidden("only admins record contract registrations")
    contract = _contract(session, contract_id)
    number = registration_number.strip()
    if not number:
        raise InvalidInput.on("registration_number", "required")
    if registered_on < contract.signed_on:
        raise InvalidInput.on("registered_on", f"{registered_on} is before signed_on {contract.signed_on}")
    other = session.scalar(select(Contract.id).where(Contract.registration_number == number, Contract.id != contract_id))
    if other is not None:
        raise Conflict(f"registration number {number} already belongs to contract {other}",
                       problems=[FieldProblem("registration_number", "duplicate")])
    contract.registration_number, contract.registered_on = number, registered_on
    session.flush()
    return contract


def get_contract(session: Session, *, actor: Actor, contract_id: int) -> Contract:
    contract = _contract(session, contract_id)
    if not session.scalar(_visible_contracts(select(Contract.id), actor).where(Contract.id == contract_id)):
        raise Forbidden(f"contract {contract_id} is not yours to see")
    return contract


def list_contracts(session: Session, *, actor: Actor, period: str | None = None, region: str | None = None,
                   contract_type: str | None = None, broker_id: int | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[list[Contract], int]:
    """Contracts newest first; `period` is YYYY, YYYY-Qn or YYYY-MM, `region` matches buyer or seller within it."""
    query = _visible_contracts(select(Contract), actor)
    if period is not None:
        start, end = period_bounds(period)
        query = query.where(Contract.signed_on >= start, Contract.signed_on < end)
    if region is not None:
        prefix = region_prefix(region) + "%"
        query = query.where(or_(Contract.buyer_region_code.like(prefix), Contract.seller_region_code.like(prefix)))
    if contract_type is not None:
        query = query.where(Contract.contract_type == _parse(v.ContractType, contract_type, "type").value)
    if broker_id is not None:
        query = query.where(Contract.broker_id == broker_id)
    rows, total = paged(session, query.order_by(Contract.signed_on.desc(), Contract.id.desc()),
                        limit=limit, offset=offset)
    return [row[0] for row in rows], total


def _visible_contracts(query: Select, actor: Actor) -> Select:
    if actor.is_(*READ_ALL_ROLES):
        return query
    if actor.is_(v.Role.BROKER):
        return query.where(Contract.broker_id == (actor.broker_id or 0))
    return query.where(or_(Contract.buyer_id == actor.organisation_id, Contract.seller_id == actor.organisation_id))


def _contract(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(f"contract {contract_id} not found")
    return contract


# Years 1000-2999: year 0 has no date, and the period after 9999 neither (both were 500s).
PERIOD_PATTERN = r"^[12]\d{3}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """[start, end) of a year (2026), quarter (2026-Q2) or month (2026-05)."""
    if not re.fullmatch(PERIOD_PATTERN, period):
        raise InvalidInput.on("period", f"{period!r} is not YYYY, YYYY-Qn or YYYY-MM (years 1000-2999)")
    year = int(period[:4])
    if len(period) == 4:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if period[5] == "Q":
        first_month = 3 * (int(period[6]) - 1) + 1
        return dt.date(year, first_month, 1), _month_after(year, first_month + 2)
    month = int(period[5:])
    return dt.date(year, month, 1), _month_after(year, month)


def _month_after(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


def region_prefix(code: str) -> str:
    """A province code (420000) covers its cities and counties, a city (420100) its counties."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


# --- feedback on matches -------------------------------------------------------------------------------------

def give_feedback(session: Session, *, actor: Actor, demand_id: int, achievement_id: int, relevant: bool,
                  reason: str | None = None, note: str = "", at: dt.datetime | None = None) -> Feedback:
    """A verdict on a match by the demand's firm, the achievement's office or a broker; data for the matcher.

    One verdict per person per pair: a repeat replaces the earlier one. Only postings the person may see can be
    judged (someone else's draft answers 404, as reading it does).
    """
    demand = _visible(session, actor, Demand, demand_id, "demand_id")
    achievement = _visible(session, actor, Achievement, achievement_id, "achievement_id")
    _check_may_judge(actor, demand, achievement)
    if relevant and reason is not None:
        raise InvalidInput.on("reason", "a reason explains an irrelevant match; leave it empty when relevant")
    if not relevant and reason is None:
        raise InvalidInput.on("reason", f"say why the match is not relevant ({', '.join(v.values(v.FeedbackReason))})")
    reason = _parse(v.FeedbackReason, reason, "reason").value if reason is not None else None
    when = _now(at)
    pair = (Feedback.user_id == actor.user_id, Feedback.demand_id == demand_id, Feedback.achievement_id == achievement_id)
    for _ in range(2):   # a concurrent first verdict on the same pair wins the insert; ours then updates it
        feedback = session.scalar(select(Feedback).where(*pair))
        if feedback is not None:
            feedback.relevant, feedback.reason, feedback.note, feedback.updated_at = relevant, reason, note or "", when
            session.flush()
            return feedback
        try:
            with session.begin_nested():
                feedback = Feedback(demand_id=demand_id, achievement_id=achievement_id, user_id=actor.user_id,
                                    relevant=relevant, reason=reason, note=note or "", created_at=when)
                session.add(feedback)
            return feedback
        except IntegrityError:
            continue
    raise Conflict("the verdict changed while it was being saved; send it again")


def _visible(session: Session, actor: Actor, model, record_id: int, field: str):
    record = session.get(model, record_id)
    if record is None or not is_visible(actor, record):
        raise NotFound(f"{field.removesuffix('_id')} {record_id} not found", problems=[FieldProblem(field, "not found")])
    return record


def _check_may_judge(actor: Actor, demand: Demand, achievement: Achievement) -> None:
    if actor.is_(v.Role.BROKER):
        return
    if actor.is_(v.Role.FIRM):
        if demand.organisation_id != actor.organisation_id:
            raise Forbidden(f"demand {demand.id} is not your firm's; firms judge matches on their own demands")
        return
    if actor.is_(v.Role.OFFICE):
        if achievement.organisation_id != actor.organisation_id:
            raise Forbidden(f"achievement {achievement.id} is not your organisation's; "
                            "offices judge matches on their own achievements")
        return
    raise Forbidden(f"feedback comes from firms, offices and brokers; you are {actor.role.value}")


def list_feedback(session: Session, *, actor: Actor, demand_id: int | None = None, achievement_id: int | None = None,
                  relevant: bool | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Feedback], int]:
    if not actor.is_(*READ_ALL_ROLES):
        raise Forbidden("feedback is read by admins and analysts")
    query = select(Feedback)
    for column, value in ((Feedback.demand_id, demand_id), (Feedback.achievement_id, achievement_id),
                          (Feedback.relevant, relevant)):
        if value is not None:
            query = query.where(column == value)
    rows, total = paged(session, query.order_by(Feedback.id), limit=limit, offset=offset)
    return [row[0] for row in rows], total
