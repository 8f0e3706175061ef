"""Engine and session factory; SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, Select, create_engine, event, func, select
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
    return create_engine(database_url, echo=echo, pool_pre_ping=True)


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


def paged(session: Session, statement: Select, *, limit: int, offset: int) -> tuple[list, int]:
    """One page of a select's rows (as tuples), and how many rows it has in all.

    The total rides on the page's own query as a window function (COUNT(*) OVER ()), so a page is one query; only
    a page past the end, which has no row to carry it, counts separately.
    """
    rows = session.execute(statement.add_columns(func.count().over().label("page_total"))
                           .limit(limit).offset(offset)).all()
    if rows:
        return [tuple(row)[:-1] for row in rows], rows[0][-1]
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return [], total
