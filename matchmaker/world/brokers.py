"""Brokers (技术经纪人) of a generated world, each a platform user placed at one of the agencies."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert

from matchmaker import vocabulary as v
from matchmaker.models import Broker, User
from matchmaker.world.context import WORLD_DATE, Generator, State, batches


def add_brokers(gen: Generator, conn: Connection, state: State) -> None:
    """Brokers are platform users too (no API token until an admin issues one)."""
    rng = gen.rng
    rows, users = [], []
    stamp = dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC)
    for _ in range(gen.spec.brokers):
        agency = rng.choice(state.agencies)
        broker_id, user_id = state.take_id("brokers"), state.take_id("users")
        name = rng.choice(gen.names)
        users.append({"id": user_id, "name": name, "role": "broker", "organisation_id": agency.id,
                      "token_hash": None, "created_at": stamp, "updated_at": stamp})
        rows.append(
            {
                "id": broker_id,
                "external_id": f"{gen.prefix}-b{broker_id}",
                "user_id": user_id,
                "name": name,
                "agency_id": agency.id,
                "level": rng.choices(list(v.BrokerLevel), weights=(55, 35, 10))[0].value,
                "region_code": agency.region_code,
                "certified_on": WORLD_DATE - dt.timedelta(days=rng.randrange(30, 2_000)),
                "created_at": dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC),
                "updated_at": dt.datetime.combine(WORLD_DATE, dt.time(), dt.UTC),
            }
        )
    for batch in batches(users):
        conn.execute(insert(User), batch)
    for batch in batches(rows):
        conn.execute(insert(Broker), batch)
    state.counts["brokers"] = len(rows)
