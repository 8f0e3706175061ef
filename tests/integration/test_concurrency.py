"""50 brokers sign 10 contracts each at once through a real server, retrying with the same Idempotency-Key."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
import pytest
from live_server import Server, build_deal_world, contract_terms, own_clients
from sqlalchemy import func, select

from matchmaker.db import make_engine
from matchmaker.models import Contract, IdempotencyRecord, Pipeline, PipelineEvent

CLIENTS, DEALS_PER_CLIENT = 50, 10
MAX_ATTEMPTS = 20


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    acknowledged: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))
    transport_errors: int = 0
    busy: int = 0
    requests: int = 0


@pytest.mark.slow
def test_concurrent_signing_with_retries_writes_each_contract_once(migrated_url, tmp_path):
    world = build_deal_world(migrated_url, brokers=CLIENTS, deals_per_broker=DEALS_PER_CLIENT)
    # SQLite serialises writers anyway; two workers there only add lock waits, so it gets one.
    workers = 1 if migrated_url.startswith("sqlite") else 2
    server = Server(migrated_url, tmp_path, workers=workers).start()
    try:
        started = time.monotonic()
        tally = asyncio.run(_all_clients(server.base_url, world))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    print(f"\n{migrated_url.split(':')[0]} workers={workers}: {tally.requests} requests "
          f"({tally.requests - CLIENTS * DEALS_PER_CLIENT} retries) in {elapsed:.1f}s; statuses {dict(tally.statuses)}; "
          f"busy={tally.busy} transport_errors={tally.transport_errors}")

    assert not [s for s in tally.statuses if s >= 500], server.log_text()[-3000:]
    assert set(tally.statuses) == {201}
    deals = CLIENTS * DEALS_PER_CLIENT
    assert len(tally.acknowledged) == deals
    acknowledged_ids = set()
    for bodies in tally.acknowledged.values():
        assert all(body == bodies[0] for body in bodies)  # every retry replayed the first answer
        acknowledged_ids.add(bodies[0]["id"])
    engine = make_engine(migrated_url)
    with engine.connect() as conn:
        stored_ids = set(conn.scalars(select(Contract.id)))
        signed = conn.scalar(select(func.count()).select_from(Pipeline).where(Pipeline.stage == "signed"))
        sign_events = conn.scalar(select(func.count()).select_from(PipelineEvent).where(PipelineEvent.to_stage == "signed"))
        records = conn.scalar(select(func.count()).select_from(IdempotencyRecord))
    engine.dispose()
    assert stored_ids == acknowledged_ids and len(stored_ids) == deals
    assert signed == sign_events == records == deals


async def _all_clients(base_url: str, world) -> Tally:
    tally = Tally()
    async with own_clients(base_url, CLIENTS, timeout=60) as clients:
        await asyncio.gather(*(
            _broker(client, token, pipelines, random.Random(n), tally)
            for n, (client, token, pipelines) in enumerate(zip(clients, world.tokens, world.pipelines))))
    return tally


async def _broker(client: httpx.AsyncClient, token: str, pipelines: list[int], rng: random.Random, tally: Tally):
    """Sign each pipeline; some requests are sent again in sequence, some twice at the same moment."""
    for pipeline_id in pipelines:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        body = contract_terms(pipeline_id)
        copies = 1 + rng.choice([0, 0, 0, 1, 2])
        if rng.random() < 0.2:
            responses = await asyncio.gather(*(_sign(client, pipeline_id, headers, body, tally) for _ in range(copies)))
        else:
            responses = [await _sign(client, pipeline_id, headers, body, tally) for _ in range(copies)]
        for response in responses:
            tally.statuses[response.status_code] += 1
            if response.status_code == 201:
                tally.acknowledged[pipeline_id].append(response.json())


async def _sign(client, pipeline_id: int, headers: dict, body: dict, tally: Tally) -> httpx.Response:
    """POST the contract, retrying the very same request after a dropped connection or a 503 'database busy'."""
    for _ in range(MAX_ATTEMPTS):
        tally.requests += 1
        try:
            response = await client.post(f"/pipelines/{pipeline_id}/contract", json=body, headers=headers)
        except httpx.TransportError:
            tally.transport_errors += 1
            await asyncio.sleep(0.1)
            continue
        if response.status_code != 503:
            return response
        tally.busy += 1
        await asyncio.sleep(0.1)
    raise AssertionError(f"pipeline {pipeline_id}: no answer after {MAX_ATTEMPTS} attempts")


def test_of_two_moves_from_the_same_version_only_the_first_lands(migrated_url):
    """Two requests read the pipeline at the same version; the one that commits second is refused as stale and
    writes nothing (the optimistic lock is the UPDATE's WHERE on the version, not a check before it)."""
    from matchmaker.brokerage.pipelines import move_pipeline
    from matchmaker.db import make_session_factory
    from matchmaker.errors import Conflict
    from matchmaker.identity.services import actor_for
    from matchmaker.models import User

    world = build_deal_world(migrated_url, brokers=1, deals_per_broker=1)
    pipeline_id = world.pipelines[0][0]
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    try:
        first, second = factory(), factory()
        actors, read = [], []   # `read` keeps each session's copy (a session forgets records nothing refers to)
        for session in (first, second):
            broker = session.scalar(select(User).where(User.role == "broker"))
            actors.append(actor_for(session, broker))
            read.append(session.get(Pipeline, pipeline_id))
        assert [pipeline.version for pipeline in read] == [3, 3]   # both read it before either writes
        move_pipeline(first, actor=actors[0], pipeline_id=pipeline_id, to_stage="lapsed", note="先到")
        first.commit()
        with pytest.raises(Conflict) as refused:
            move_pipeline(second, actor=actors[1], pipeline_id=pipeline_id, to_stage="declined", note="后到")
        assert refused.value.problems[0].field == "expected_version"
        second.rollback()
        first.close()
        second.close()
        with engine.connect() as conn:
            assert conn.execute(select(Pipeline.stage, Pipeline.version).where(Pipeline.id == pipeline_id)).one() \
                == ("lapsed", 4)
            assert list(conn.scalars(select(PipelineEvent.note).where(PipelineEvent.pipeline_id == pipeline_id))) \
                == ["先到"]
    finally:
        engine.dispose()
