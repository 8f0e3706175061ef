"""Engine and session factory; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine, Select, create_engine, event, func, literal_column, select
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    """Create an engine; on SQLite turn on what a multi-process server needs."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    engine = create_engine(database_url, echo=echo)
    event.listen(engine.pool, "connect", _returned)   # a new connection needs no test
    event.listen(engine.pool, "checkin", _returned)
    event.listen(engine.pool, "checkout", _ping_if_idle)
    return engine


# A pooled connection that sat idle this long is tested before use, so one the server dropped meanwhile (a restart,
# an idle timeout) is replaced instead of failing a request. SQLAlchemy's pool_pre_ping tested every checkout: a
# round trip each, three per match request (authentication and the handler's two transactions).
PING_AFTER_IDLE = 5.0   # seconds


def _returned(_dbapi_connection, record) -> None:
    record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info.get("returned_at", float("-inf")) < PING_AFTER_IDLE:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as error:   # noqa: BLE001 - any failure means "not usable": the pool connects anew
        raise DisconnectionError(f"a pooled connection failed its test: {error}") from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


# A library list counts its matches up to here and then says "more than": an exact count reads every matching row
# (477 ms for a TRL filter over the national world's million achievements), a capped one at most this many index
# entries, and nobody pages to page 501. Search engines answer the same way (Elasticsearch's track_total_hits).
COUNT_CAP = 10_000


def paged(session: Session, statement: Select, *, limit: int, offset: int,
          counted_parts: list[Select] | None = None, count_cap: int | None = None) -> tuple[list, int]:
    """One page of a select's rows (as tuples), and how many rows it has in all (with count_cap, at most
    count_cap + 1: "more than count_cap").

    Two queries: the page, which an index on the sort key answers without reading the rest, and the count, which
    reads no row's columns. A COUNT(*) OVER () riding on the page was one query but ten times slower on the province
    world (196 ms against 20 + 20 ms, `benchmarks/speed/listing.py`): the window makes the database materialise and
    sort every matching row, whole, before the LIMIT.
    """
    rows = [tuple(row) for row in session.execute(statement.limit(limit).offset(offset))]
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)   # the whole list fits on the first page: no count needed
    # counted_parts: disjoint selects whose union is `statement`'s rows, counted one by one.
    total = 0
    for part in counted_parts or [statement]:
        room = None if count_cap is None else count_cap + 1 - total
        total += _count(session, part, room)
        if room is not None and total > count_cap:
            break
    return rows, total


def _count(session: Session, statement: Select, at_most: int | None = None) -> int:
    counted = statement.order_by(None)
    if not (statement._distinct or statement._group_by_clauses):   # else a row is what DISTINCT / GROUP BY made
        counted = counted.with_only_columns(literal_column("1"), maintain_column_froms=True)
    if at_most is not None:
        counted = counted.limit(at_most)
    return session.scalar(select(func.count()).select_from(counted.subquery()))


# Ids bound in one IN (…): under SQLite's oldest limit on bound parameters (999), so any build takes it.
IN_BATCH = 900


def hold(session: Session, model, ids: Sequence) -> None:
    """Load records by id, one query per batch, and keep them for as long as the session lives. A session's identity
    map holds records only weakly, so each session.get of a record nothing else refers to loads it again (in the
    simulator's month, a query per service call: a sixth of a province run)."""
    held = session.info.setdefault("held", [])
    for batch in id_batches(sorted(set(ids))):
        held.extend(session.scalars(select(model).where(model.id.in_(batch))))


def id_batches(ids: Sequence, size: int = IN_BATCH) -> Iterator[list]:
    """`ids` in slices small enough for one IN (…) each."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def refresh_statistics(engine: Engine) -> None:
    """ANALYZE after a bulk load or a schema change, so the query planner knows the tables' shapes. SQLite has no
    statistics until asked, and without them it picked a full scan and a sort for a library page instead of the
    newest-first index (18 against 6 ms on the province world; benchmarks/speed/README.md, "Listing");
    PostgreSQL's autovacuum would get there later on its own."""
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
