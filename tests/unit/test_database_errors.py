"""Which database errors a client may retry (503, Retry-After) and which are our fault (500, logged)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError

from matchmaker.api.problems import is_transient


def _error(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def test_a_lock_is_worth_retrying_and_too_many_variables_is_not():
    assert is_transient(_error("database is locked"))
    assert is_transient(_error("database table is locked"))
    # Seen on the national world: a query with 253,000 bound parameters. Retrying gives the same answer, so the
    # client must not be told "busy; retry shortly".
    assert not is_transient(_error("too many SQL variables"))
    assert not is_transient(_error("no such column: achievements.nothing"))
