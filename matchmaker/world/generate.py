"""Seeding a whole world for (scale, seed) once, and extending a world with the simulator's new postings."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import random
import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Connection, Engine, func, insert, select

from matchmaker import vocabulary as v
from matchmaker.db import refresh_statistics
from matchmaker.models import Achievement, Broker, Demand, Organisation, User, World
from matchmaker.world.brokers import add_brokers
from matchmaker.world.challenges import add_challenges
from matchmaker.world.context import SCALES, Generator, State
from matchmaker.world.organisations import PoolRows, add_organisations, load_pools
from matchmaker.world.postings import (
    Buffers,
    add_background_achievements,
    add_demands_with_answers,
    add_same_subject_fits,
    background_achievement,
    demand_with_answers,
)

GENERATOR_VERSION = "6"  # 6: budgets spread to the published contract sizes; 5: 揭榜挂帅 challenges and an evaluation centre; 4: coherent subjects, fit from the topic only

# The tables the generator writes explicit ids into.
_TABLES = {"organisations": Organisation, "users": User, "brokers": Broker, "achievements": Achievement,
           "demands": Demand}


@dataclass
class WorldResult:
    created: bool
    counts: dict[str, int]
    seconds: float = 0.0


def generate_world(engine: Engine, *, scale: str, seed: int, console: Console | None = None) -> WorldResult:
    """Create the world for (scale, seed) in one transaction, or do nothing if it already exists."""
    spec = SCALES[scale]
    with engine.connect() as conn:
        existing = conn.execute(select(World).where(World.scale == scale, World.seed == seed)).first()
    if existing is not None:
        return WorldResult(created=False, counts=dict(existing.counts))

    started = time.perf_counter()
    generator = Generator(spec, scale, seed)
    with engine.begin() as conn, _progress(console) as progress:
        if conn.dialect.name == "sqlite":
            # Index inserts land all over the B-trees; SQLite's default 2 MB page cache makes that disk-bound.
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        state = State(next_ids={t: _max_id(conn, t) for t in _TABLES})
        _run(generator, conn, state, progress)
        _advance_sequences(conn)
        conn.execute(
            insert(World),
            {"scale": scale, "seed": seed, "generator_version": GENERATOR_VERSION, "counts": state.counts},
        )
    refresh_statistics(engine)
    return WorldResult(created=True, counts=state.counts, seconds=time.perf_counter() - started)


def _run(gen: Generator, conn: Connection, state: State, progress: Progress) -> None:
    """Organisations, then brokers, then demands with their answers, then achievements posted for their own sake."""
    spec = gen.spec
    task = progress.add_task("world", total=spec.achievements + spec.demands)
    add_organisations(gen, conn, state)
    add_brokers(gen, conn, state)
    linked = add_demands_with_answers(gen, conn, state, progress, task)
    add_challenges(conn, state)
    add_background_achievements(gen, conn, state, progress, task, spec.achievements - linked)
    add_same_subject_fits(gen, conn, state)


@functools.cache
def _posting_generator() -> Generator:
    """The simulator's monthly postings draw names and wording from one generator per process: making it (Faker and
    3,000 names) took a tenth of a demo run when it was made every month. Its vocabulary is read-only; what a call
    changes (the random stream, the prefix, the subject lists) each call replaces on its own copy."""
    return Generator(SCALES["demo"], "demo", 0)


def extend_world(conn: Connection, *, key: str, demands: int, achievements: int, posted_on: dt.date,
                 rng: random.Random, pools: PoolRows | None = None) -> tuple[list[int], list[int]]:
    """New postings for the market simulator, drawn like the world's and waiting for review.

    Demands come with their generated answers and latent fits, as at seeding; the rest of the achievements
    are background postings. Returns (achievement ids, demand ids), all in status pending_review. `pools`: the
    world's pool rows kept by the caller from an earlier call (they gain this call's postings); None reads them.
    """
    generator = copy.copy(_posting_generator())
    generator.rng, generator.prefix = rng, f"s{key}"
    generator.subject_members, generator.demand_subjects = {}, []
    state = State(next_ids={t: _max_id(conn, t) for t in _TABLES})
    pools = pools or PoolRows.read(conn)
    load_pools(generator, pools, state)
    buffers = Buffers()
    for _ in range(demands):
        demand_with_answers(generator, state, buffers, budget=achievements)
    while len(buffers.achievements) < achievements:
        background_achievement(generator, state, buffers)
    for row in buffers.achievements:
        row.update(status=v.AchievementStatus.PENDING_REVIEW.value, posted_on=None,
                   expires_on=posted_on + dt.timedelta(days=730), created_at=_stamp(posted_on), updated_at=_stamp(posted_on))
    for row in buffers.demands:
        row.update(status=v.DemandStatus.PENDING_REVIEW.value, posted_on=None,
                   deadline=posted_on + dt.timedelta(days=365), created_at=_stamp(posted_on), updated_at=_stamp(posted_on))
    pools.add_postings(buffers.achievements)
    new_achievements = [row["id"] for row in buffers.achievements]
    new_demands = [row["id"] for row in buffers.demands]
    buffers.flush(conn, state)
    _advance_sequences(conn)
    return new_achievements, new_demands


def _advance_sequences(conn: Connection) -> None:
    """The generator writes explicit ids; PostgreSQL's sequences must move past them or the next insert collides."""
    if conn.dialect.name != "postgresql":
        return
    for table in _TABLES:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )


def _max_id(conn: Connection, table: str) -> int:
    return conn.scalar(select(func.coalesce(func.max(_TABLES[table].id), 0)))


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=False,
        disable=console is None,
    )


def _stamp(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
