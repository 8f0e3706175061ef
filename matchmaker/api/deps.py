"""Request-scoped dependencies: a database session (the caller comes from identity.authentication)."""

from __future__ import annotations

from collections.abc import Iterator

from litestar.datastructures import State
from sqlalchemy.orm import Session


def provide_session(state: State) -> Iterator[Session]:
    """A session per request; services open their own transactions, so nothing is committed here."""
    session = state.session_factory()
    try:
        yield session
    finally:
        session.close()
