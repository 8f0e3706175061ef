"""kill -9 the server in the middle of a write burst: acknowledged contracts survive and the database stays whole."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import httpx
import msgspec
import pytest
from live_server import Server, build_deal_world, contract_terms, own_clients
from sqlalchemy import func, select, text

from matchmaker.db import make_engine
from matchmaker.models import Contract, IdempotencyRecord, Pipeline, PipelineEvent

CLIENTS, DEALS_PER_CLIENT = 16, 40
KILL_AFTER_ACKS = 150


@dataclass
class Burst:
    acknowledged: dict[int, dict] = field(default_factory=dict)  # pipeline id -> 201 body
    in_flight: dict[int, tuple[dict, dict]] = field(default_factory=dict)  # sent, never answered: headers, body
    other: list[int] = field(default_factory=list)


@pytest.mark.slow
def test_kill_9_during_write_burst_keeps_every_acknowledged_write(migrated_url, tmp_path):
    world = build_deal_world(migrated_url, brokers=CLIENTS, deals_per_broker=DEALS_PER_CLIENT)
    workers = 1 if migrated_url.startswith("sqlite") else 2
    server = Server(migrated_url, tmp_path, workers=workers).start()
    try:
        started = time.monotonic()
        burst = asyncio.run(_burst_until_killed(server, world))
        killed_at = time.monotonic() - started
    finally:
        server.kill()
    assert not burst.other, burst.other
    assert len(burst.acknowledged) >= KILL_AFTER_ACKS and burst.in_flight, "the kill must land mid-burst"

    stored = _stored_contracts(migrated_url)
    for pipeline_id, body in burst.acknowledged.items():
        assert stored.get(pipeline_id) == (body["id"], body["amount"])  # acknowledged means durable
    assert set(stored) <= set(burst.acknowledged) | set(burst.in_flight)  # nothing nobody asked for
    _check_integrity(migrated_url, contracts=len(stored))

    # The clients retry what never got an answer, with the same keys: committed ones replay, the rest write now.
    restarted = Server(migrated_url, tmp_path, workers=workers).start()
    try:
        try:
            replays = asyncio.run(_retry_in_flight(restarted.base_url, burst))
        except AssertionError:
            print(restarted.log_text()[-6000:])  # the server's own account of the failure
            raise
    finally:
        restarted.stop()
    final = _stored_contracts(migrated_url)
    assert set(final) == set(burst.acknowledged) | set(burst.in_flight)
    committed_unanswered = len(stored) - len(burst.acknowledged)
    assert replays == committed_unanswered
    _check_integrity(migrated_url, contracts=len(final))
    print(f"\n{migrated_url.split(':')[0]} workers={workers}: killed after {killed_at:.1f}s with "
          f"{len(burst.acknowledged)} acknowledged, {len(burst.in_flight)} in flight "
          f"({committed_unanswered} of them committed); after the retries {len(final)} contracts")


async def _burst_until_killed(server: Server, world) -> Burst:
    burst = Burst()
    async with own_clients(server.base_url, len(world.tokens), timeout=30) as own:
        clients = [asyncio.create_task(_broker(client, token, pipelines, burst))
                   for client, token, pipelines in zip(own, world.tokens, world.pipelines)]
        while len(burst.acknowledged) < KILL_AFTER_ACKS and not all(c.done() for c in clients):
            await asyncio.sleep(0.005)
        server.kill()
        await asyncio.gather(*clients)
    return burst


async def _broker(client: httpx.AsyncClient, token: str, pipelines: list[int], burst: Burst) -> None:
    for pipeline_id in pipelines:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        body = contract_terms(pipeline_id)
        try:
            response = await client.post(f"/pipelines/{pipeline_id}/contract", json=body, headers=headers)
        except httpx.TransportError:
            burst.in_flight[pipeline_id] = (headers, body)
            return  # the server is gone; this client stops like a real one would
        if response.status_code == 201:
            burst.acknowledged[pipeline_id] = response.json()
        else:
            burst.other.append(response.status_code)


async def _retry_in_flight(base_url: str, burst: Burst) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        responses = await asyncio.gather(*(
            client.post(f"/pipelines/{pipeline_id}/contract", json=body, headers=headers)
            for pipeline_id, (headers, body) in burst.in_flight.items()))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    return sum(r.headers.get("idempotent-replayed") == "true" for r in responses)


def _stored_contracts(url: str) -> dict[int, tuple[int, str]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Contract.pipeline_id, Contract.id, Contract.amount)).all()
    engine.dispose()
    return {pipeline_id: (contract_id, f"{amount:.2f}") for pipeline_id, contract_id, amount in rows}


def _check_integrity(url: str, *, contracts: int) -> None:
    """The engine's own checks, then the cross-table facts a half-done signing would break."""
    engine = make_engine(url)
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        dangling = conn.execute(text(
            "SELECT count(*) FROM contracts c "
            "LEFT JOIN pipelines p ON p.id = c.pipeline_id LEFT JOIN demands d ON d.id = c.demand_id "
            "LEFT JOIN achievements a ON a.id = c.achievement_id LEFT JOIN organisations b ON b.id = c.buyer_id "
            "LEFT JOIN organisations s ON s.id = c.seller_id LEFT JOIN brokers k ON k.id = c.broker_id "
            "WHERE p.id IS NULL OR d.id IS NULL OR a.id IS NULL OR b.id IS NULL OR s.id IS NULL OR k.id IS NULL"
        )).scalar()
        signed = conn.scalar(select(func.count()).select_from(Pipeline).where(Pipeline.stage == "signed"))
        sign_events = conn.scalar(select(func.count()).select_from(PipelineEvent).where(PipelineEvent.to_stage == "signed"))
        records = conn.execute(select(IdempotencyRecord.status_code, IdempotencyRecord.response_body)).all()
        contract_ids = set(conn.scalars(select(Contract.id)))
    engine.dispose()
    assert dangling == 0
    assert signed == sign_events == len(records) == contracts == len(contract_ids)
    # Each stored answer names a contract that exists: the write and its record commit together or not at all.
    assert {status for status, _ in records} <= {201}
    assert {msgspec.json.decode(body)["id"] for _, body in records} == contract_ids
