"""When a matcher must read the change log before answering: always after this process committed a change to it,
otherwise at most every SYNC_AT_MOST_EVERY seconds.

Reading the log on every match request was a checkout and a query each time (0.3 ms on SQLite, two round trips on
PostgreSQL), nearly always to learn that nothing changed. A change committed through this process is seen by its
next request, as before; one committed by another worker or host within SYNC_AT_MOST_EVERY (the multi-host promise
is a second: README, "Several hosts").
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from matchmaker.models import IndexChange

SYNC_AT_MOST_EVERY = 0.1   # seconds

_KEY = "index_changed"
_committed = 0   # how many transactions of this process have committed index changes


def committed_changes() -> int:
    """A number that grows whenever a transaction of this process commits a row of the change log."""
    return _committed


@event.listens_for(IndexChange, "after_insert")
def _added(_mapper, _connection, change: IndexChange) -> None:   # session.add(IndexChange(...))
    session = object_session(change)
    if session is not None:
        session.info[_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _inserted(state) -> None:   # session.execute(insert(IndexChange), rows)
    if state.is_insert and state.bind_mapper is not None and state.bind_mapper.class_ is IndexChange:
        state.session.info[_KEY] = True


@event.listens_for(Session, "after_commit")
def _committed_now(session: Session) -> None:
    global _committed
    if session.info.pop(_KEY, False):
        _committed += 1


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_KEY, None)


class Freshness:
    """One matcher's record of when it last read the log and what this process had committed by then."""

    def __init__(self) -> None:
        self.read_at = float("-inf")
        self.seen = -1

    def due(self) -> bool:
        return _committed != self.seen or time.monotonic() - self.read_at >= SYNC_AT_MOST_EVERY

    def mark(self, committed: int) -> None:
        """After a read of the log that began when `committed_changes()` was `committed`."""
        self.read_at, self.seen = time.monotonic(), committed
