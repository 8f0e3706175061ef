"""Sweeps asked for on the analyst pages (issue 17): an analyst names scenarios, seeds, months and the world; the
job worker claims the request, runs the sweep (simulation/sweep.py) and counts each finished run into it, so the
page shows progress; the runs are stored like any other and compared on the same page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from matchmaker import vocabulary as v
from matchmaker.config import Settings
from matchmaker.db import transaction
from matchmaker.errors import Forbidden, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.models import SimulationRequest
from matchmaker.simulation.scenarios import builtin_names, load_scenario
from matchmaker.simulation.sweep import sweep

MAX_SEEDS, MAX_MONTHS = 20, 24
SCALES = {"demo": "演示世界（约一千条成果）", "province": "省级世界（约两万条成果，每次运行约一分钟）"}
WORLD_SEED = 1


def request_sweep(session: Session, *, actor: Actor, scenarios: list[str], seeds: int, months: int,
                  scale: str) -> SimulationRequest:
    if actor.role not in (v.Role.ANALYST, v.Role.ADMIN):
        raise Forbidden("只有科技管理部门的分析人员可以运行政策模拟")
    known = builtin_names()
    chosen = [name for name in known if name in set(scenarios)]
    if not chosen or len(chosen) != len(set(scenarios)):
        raise InvalidInput.on("scenarios", "请至少选择一个政策情景")
    if not 1 <= seeds <= MAX_SEEDS:
        raise InvalidInput.on("seeds", f"随机种子数须为 1–{MAX_SEEDS}；要给出 95% 区间至少需要 3 个")
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput.on("months", f"模拟月数须为 1–{MAX_MONTHS}")
    if scale not in SCALES:
        raise InvalidInput.on("scale", "请选择模拟世界")
    request = SimulationRequest(requested_by=actor.user_id, scenarios=chosen, seeds=seeds, months=months,
                                world_scale=scale, status="queued", total_runs=len(chosen) * seeds)
    session.add(request)
    session.flush()
    return request


def recent(session: Session, limit: int = 10) -> list[SimulationRequest]:
    return list(session.scalars(select(SimulationRequest).order_by(SimulationRequest.id.desc()).limit(limit)))


def run_requested(settings: Settings, factory: sessionmaker[Session]) -> int:
    """Run every queued request, oldest first; each is claimed by one conditional UPDATE, so two workers never run
    the same one. Returns how many were run."""
    ran = 0
    while (request_id := _claim(factory)) is not None:
        with factory() as session:
            request = session.get(SimulationRequest, request_id)
            scenarios = [load_scenario(name) for name in request.scenarios]
            seeds, months, scale = request.seeds, request.months, request.world_scale

        def done(run, _scenario: str, _seed: int) -> None:
            column = SimulationRequest.done_runs if run is not None else SimulationRequest.failed_runs
            with transaction(factory) as session:
                session.execute(update(SimulationRequest).where(SimulationRequest.id == request_id)
                                .values({column.key: column + 1}))

        try:
            result = sweep(settings, scenarios, list(range(1, seeds + 1)), months=months, scale=scale,
                           world_seed=WORLD_SEED, done=done)
            status = "done" if result.runs else "failed"
        except Exception:   # noqa: BLE001 — the request is marked failed; the worker goes on with the next
            status = "failed"
        with transaction(factory) as session:
            session.execute(update(SimulationRequest).where(SimulationRequest.id == request_id)
                            .values(status=status, finished_at=dt.datetime.now(dt.UTC)))
        ran += 1
    return ran


def _claim(factory: sessionmaker[Session]) -> int | None:
    with transaction(factory) as session:
        for request_id in session.scalars(select(SimulationRequest.id).where(SimulationRequest.status == "queued")
                                          .order_by(SimulationRequest.id).limit(5)):
            claimed = session.execute(update(SimulationRequest).where(
                SimulationRequest.id == request_id, SimulationRequest.status == "queued")
                .values(status="running", started_at=dt.datetime.now(dt.UTC))).rowcount
            if claimed == 1:
                return request_id
    return None
