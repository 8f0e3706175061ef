"""Brokers and their deal pipelines: claim a match, move it stage by stage, see who may read which."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from matchmaker import vocabulary as v
from matchmaker.brokerage.common import READ_ALL_ROLES, Stage, current_time, parse, visible_record
from matchmaker.db import id_batches, paged
from matchmaker.deals.parties import Pair, party_user_ids
from matchmaker.deals.thread import STAGE_WORDS
from matchmaker.errors import Conflict, FieldProblem, Forbidden, NotFound
from matchmaker.identity.services import Actor
from matchmaker.notices.services import notify
from matchmaker.models import Achievement, Broker, Contract, Demand, Organisation, Pipeline, PipelineEvent

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
        raise NotFound("没有找到这位技术经纪人；请从经纪人名录中重新选择。")
    return row[0], row[1]


# --- pipelines -----------------------------------------------------------------------------------------------

# The pair's live or signed pipeline, if any. Built once: building the statement per claim cost two thirds as
# much as running it (py-spy, the simulator's claims), and a NOT IN list is rewritten at every execution.
_HOLDING = tuple(Pipeline.stage != stage.value for stage in v.ENDED_WITHOUT_CONTRACT)   # live or signed
_HOLDER = select(Pipeline).where(Pipeline.demand_id == bindparam("demand_id"),
                                 Pipeline.achievement_id == bindparam("achievement_id"), *_HOLDING)


def claim_pipeline(session: Session, *, actor: Actor, demand_id: int, achievement_id: int, note: str = "",
                   score: float | None = None, at: dt.datetime | None = None, flush: bool = True) -> Pipeline:
    """A broker takes a (demand, achievement) pair; both must be published and unexpired, and unclaimed.

    Every refusal comes before the first write, so a caller may go on with its transaction after one (the
    simulator claims without a savepoint).

    `score` is the matcher's score for the pair when the caller has one; the API
    leaves it empty until the matching service can score a single pair.

    `flush=False` is for a batch caller that is the only writer and claims each pair at most once (the simulator's
    month): the pipeline's INSERT and its event wait for the session's next flush, together with the others', and
    the holder check reads what was written before the batch. The pipeline has no id until then. A request always
    flushes, so a second claim of the pair in the same transaction is refused.
    """
    broker_id = _acting_broker(actor)
    now = current_time(at)
    demand = visible_record(session, actor, Demand, demand_id, "demand_id")
    achievement = visible_record(session, actor, Achievement, achievement_id, "achievement_id")
    _check_matchable(demand, "demand_id", demand.status, demand.deadline, now.date())
    _check_matchable(achievement, "achievement_id", achievement.status, achievement.expires_on, now.date())
    stage = _holder_stage(session, demand_id, achievement_id, flush)
    if stage is not None:
        # A declined or lapsed pair may be tried again (a new pipeline); a live or signed one may not.
        raise Conflict(f"这对需求与成果已由技术经纪人在对接（{v.STAGE_NAMES.get(stage, stage)}），"
                       "不能重复认领。请在对接看板查看进展，或认领其他匹配。")
    pipeline = Pipeline(demand_id=demand_id, achievement_id=achievement_id, broker_id=broker_id,
                        stage=Stage.CLAIMED.value, created_at=now, updated_at=now, score=score)
    session.add(pipeline)
    _record_event(session, pipeline, None, Stage.CLAIMED, actor, note, now, flush=flush)
    return pipeline


def _holder_stage(session: Session, demand_id: int, achievement_id: int, flush: bool) -> str | None:
    """The stage of the pair's live or signed pipeline, if any."""
    known = session.info.get(_KNOWN_HOLDERS) if not flush else None
    if known is not None and demand_id in known[0]:
        return known[1].get((demand_id, achievement_id))
    with session.no_autoflush if not flush else nullcontext():
        holder = session.scalar(_HOLDER, {"demand_id": demand_id, "achievement_id": achievement_id})
    return None if holder is None else holder.stage


_KNOWN_HOLDERS = "pipeline_holders"


@contextmanager
def holders_read_together(session: Session, demand_ids: Sequence[int]) -> Iterator[None]:
    """Inside the block, claim_pipeline(flush=False) looks a pair's holder up among the live or signed pipelines on
    these demands, read here in a few queries, instead of querying once per claim (a tenth of a national simulated
    month's claims). Those calls see nothing different: they already read only what was written before their batch,
    which is this block. A request never uses it."""
    holders: dict[tuple[int, int], str] = {}
    for batch in id_batches(sorted(set(demand_ids))):
        holders.update(((d, a), stage) for d, a, stage in session.execute(
            select(Pipeline.demand_id, Pipeline.achievement_id, Pipeline.stage).where(Pipeline.demand_id.in_(batch),
                                                                                      *_HOLDING)))
    session.info[_KNOWN_HOLDERS] = (set(demand_ids), holders)
    try:
        yield
    finally:
        session.info.pop(_KNOWN_HOLDERS, None)


def move_pipeline(session: Session, *, actor: Actor, pipeline_id: int, to_stage: str, note: str = "",
                  expected_version: int | None = None, at: dt.datetime | None = None, flush: bool = True) -> Pipeline:
    """One step forward, or an end (declined / lapsed) from any open stage; signing goes through sign_contract.

    `flush=False` is for a batch caller that is the only writer (the simulator moves thousands of deals a month in
    one transaction): the move's UPDATE and event go with the session's next flush, together with the others, so a
    version conflict would surface there, not here. A request, which can race another, always flushes.
    """
    to_stage = parse(Stage, to_stage, "to_stage")
    pipeline = load_pipeline(session, pipeline_id)
    _check_may_move(actor, pipeline, to_stage)
    check_move(pipeline, to_stage)
    if to_stage is Stage.SIGNED:
        raise Conflict("签约要通过登记技术合同完成：请点“签约并登记合同”填写合同，提交后这项对接会自动变为“已签约”。",
                       problems=[FieldProblem("to_stage", "签约请点“签约并登记合同”，填写合同后自动变为“已签约”")])
    advance(session, pipeline, to_stage, actor=actor, note=note, expected_version=expected_version,
            now=current_time(at), flush=flush)
    return pipeline


def get_pipeline(session: Session, *, actor: Actor, pipeline_id: int) -> tuple[Pipeline, int | None]:
    """A pipeline with its events and its contract's id, for those allowed to see it."""
    pipeline = load_pipeline(session, pipeline_id)
    if not session.scalar(_visible_pipelines(select(Pipeline.id), actor).where(Pipeline.id == pipeline_id)):
        raise Forbidden("您无权查看这项对接：只有经办的技术经纪人、需求方和成果方、平台管理员和科技管理部门可以查看。")
    contract_id = session.scalar(select(Contract.id).where(Contract.pipeline_id == pipeline_id))
    return pipeline, contract_id


def list_pipelines(session: Session, *, actor: Actor, stage: str | None = None, broker_id: int | None = None,
                   demand_id: int | None = None, achievement_id: int | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[list[Pipeline], int]:
    """Brokers see their own pipelines, firms and offices those on their records, admins and analysts all."""
    query = _visible_pipelines(select(Pipeline), actor)
    if stage is not None:
        query = query.where(Pipeline.stage == parse(Stage, stage, "stage").value)
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
    if not actor.is_(v.Role.BROKER):
        raise Forbidden(f"只有技术经纪人可以认领和推进对接，您的身份是{v.ROLE_NAMES.get(actor.role.value, '其他用户')}；"
                        "如需对接服务，请联系技术经纪人。")
    if actor.broker_id is None:
        raise Forbidden("您的账号还没有关联技术经纪人档案；请联系平台管理员补充后再认领对接。")
    return actor.broker_id


def load_pipeline(session: Session, pipeline_id: int) -> Pipeline:
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound("没有找到这项对接；请回到对接看板重新选择。")
    return pipeline


def _check_may_move(actor: Actor, pipeline: Pipeline, to_stage: Stage) -> None:
    # An admin may only lapse a pipeline a broker abandoned; the deal itself stays the broker's.
    if actor.is_(v.Role.ADMIN) and to_stage is Stage.LAPSED:
        return
    check_holder(actor, pipeline)


def check_holder(actor: Actor, pipeline: Pipeline) -> None:
    if not actor.is_(v.Role.BROKER) or actor.broker_id != pipeline.broker_id:
        raise Forbidden("只有认领这项对接的技术经纪人可以推进或签约；如需变更，请联系该经纪人或平台管理员。")


def check_move(pipeline: Pipeline, to_stage: Stage) -> None:
    current = Stage(pipeline.stage)
    if current not in v.OPEN_STAGES:
        raise Conflict(f"这项对接已经结束（{v.STAGE_NAMES.get(current.value, current.value)}），不能再变更阶段。",
                       problems=[FieldProblem("to_stage", f"对接已结束（{v.STAGE_NAMES.get(current.value, current.value)}）")])
    if to_stage in (Stage.DECLINED, Stage.LAPSED) or v.NEXT_STAGE.get(current) is to_stage:
        return
    expected = v.NEXT_STAGE[current].value
    words = v.STAGE_NAMES
    raise Conflict(f"这项对接现在是“{words[current.value]}”，下一步只能是“{words[expected]}”或终止，"
                   f"不能直接变为“{words.get(to_stage.value, to_stage.value)}”。请按顺序推进。",
                   problems=[FieldProblem("to_stage", f"现在是“{words[current.value]}”，下一步只能是“{words[expected]}”或终止")])


def advance(session: Session, pipeline: Pipeline, to_stage: Stage, *, actor: Actor, note: str,
             expected_version: int | None, now: dt.datetime, flush: bool = True) -> None:
    """Optimistic lock: the UPDATE names the version this request saw, so of two racing moves only one lands."""
    if expected_version is not None and expected_version != pipeline.version:
        raise _stale()
    from_stage = Stage(pipeline.stage)
    pipeline.stage, pipeline.updated_at = to_stage.value, now
    try:
        _record_event(session, pipeline, from_stage, to_stage, actor, note, now, flush=flush)
    except StaleDataError:
        # The row is no longer at the version read (another move landed first). The failed flush has rolled the
        # transaction back, so nothing of this move is kept; the caller's session must roll back before reuse.
        raise _stale() from None


def _stale() -> Conflict:
    """The refusal of a move made on an old view of the pipeline (the version it names is no longer current)."""
    return Conflict.on("expected_version", "这项对接已被其他人更新，请刷新页面后重试。")


def _record_event(session: Session, pipeline: Pipeline, from_stage: Stage | None, to_stage: Stage, actor: Actor,
                  note: str, now: dt.datetime, flush: bool = True) -> None:
    """The move's event, written in one flush with the move itself (a new pipeline's INSERT, or the UPDATE that
    checks and bumps its version), now or at the session's next flush as `flush` says."""
    event = PipelineEvent(from_stage=from_stage.value if from_stage else None, to_stage=to_stage.value,
                          actor_user_id=actor.user_id, note=note or "", at=now)
    if pipeline.id is None:
        pipeline.events.append(event)   # a new pipeline's collection is empty and needs no query
    else:
        event.pipeline_id = pipeline.id
        session.add(event)
    if flush:
        session.flush()
    # Everyone in the deal hears of the move (the deal thread shows it too). The parties do not depend on a move
    # still waiting for its flush. A pipeline reaches each stage once, and its pair and the moment it was claimed
    # name it without an id (which a claim waiting for its flush does not have yet).
    pair = Pair(session.get(Demand, pipeline.demand_id), session.get(Achievement, pipeline.achievement_id))
    with session.no_autoflush:
        notify(session, party_user_ids(session, pair), kind=v.NoticeKind.DEAL_STAGE,
               event=stage_event(pipeline, to_stage),
               title=f"对接进展：{STAGE_WORDS[to_stage.value]}", link=pair.link, skip_user=actor.user_id,
               body=f"需求《{pair.demand.title}》与成果《{pair.achievement.title}》" + (f"\n备注：{note}" if note else ""))


def stage_event(pipeline: Pipeline, stage: Stage) -> str:
    """The stage notice's event key: the pair, when its pipeline was claimed, and the stage."""
    return f"stage:{pipeline.demand_id}:{pipeline.achievement_id}:{pipeline.created_at:%Y%m%d%H%M%S%f}:{stage.value}"


# --- records referenced by brokerage requests ----------------------------------------------------------------

def _check_matchable(record, field: str, status: str, ends_on: dt.date | None, today: dt.date) -> None:
    kind = {"demand_id": "需求", "achievement_id": "成果"}[field]
    if status != v.AchievementStatus.PUBLISHED:
        reason = f"该{kind}目前是“{v.STATUS_NAMES.get(status, '未发布')}”，只有已发布的{kind}可以认领"
        raise Conflict(f"{reason}；请认领其他匹配。", problems=[FieldProblem(field, reason)])
    if ends_on is not None and ends_on < today:
        reason = f"该{kind}已于 {ends_on} 到期，不能认领"
        raise Conflict(f"{reason}；请等发布方续期后再认领，或认领其他匹配。", problems=[FieldProblem(field, reason)])
