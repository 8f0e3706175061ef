"""PostgreSQL's pooled connections: one the server dropped while it sat idle is replaced, not handed to a request."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from matchmaker import db


def _drop_on_the_server(url: str, pid: int) -> None:
    admin = db.make_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.postgres
def test_a_connection_dropped_while_idle_is_replaced_and_a_busy_one_is_not_tested(postgres_url, monkeypatch):
    engine = db.make_engine(postgres_url)
    try:
        # Idle past the limit: tested at checkout, found dead, replaced; the query goes through.
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
        _drop_on_the_server(postgres_url, _backend_pid(engine))
        assert _backend_pid(engine) > 0
        # Used a moment ago: not tested (no round trip per request), so a drop then reaches the caller once.
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 60.0)
        _drop_on_the_server(postgres_url, _backend_pid(engine))
        with pytest.raises(OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) > 0   # and the pool has let the dead connection go
    finally:
        engine.dispose()
