"""Login throttling: after repeated failures for an account or from an address, each further try must wait,
twice as long as the last (1 s, 2 s, 4 s … up to 15 minutes), and a try that comes early is refused unchecked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matchmaker.models import LoginAttempt

FREE_FAILURES = 5                       # the first five mistakes cost nothing
WINDOW = dt.timedelta(minutes=15)       # failures older than this are forgotten
MAX_WAIT = dt.timedelta(minutes=15)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def wait_seconds(session: Session, *, login: str, address: str, now: dt.datetime | None = None) -> int:
    """How long this account or address must still wait before its next try (0 = try now)."""
    now = now or dt.datetime.now(dt.UTC)
    worst = 0
    for column, value in ((LoginAttempt.login, login.lower()), (LoginAttempt.address, address)):
        if not value:
            continue
        last_success = session.scalar(select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.succeeded))
        since = max(now - WINDOW, _aware(last_success)) if last_success else now - WINDOW
        failures, latest = session.execute(
            select(func.count(), func.max(LoginAttempt.at))
            .where(column == value, ~LoginAttempt.succeeded, LoginAttempt.at > since)).one()
        if failures >= FREE_FAILURES and latest is not None:
            wait = min(dt.timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_WAIT)
            left = (_aware(latest) + wait - now).total_seconds()
            worst = max(worst, int(left + 0.999))
    return worst


def note(session: Session, *, login: str, address: str, succeeded: bool, now: dt.datetime | None = None) -> None:
    session.add(LoginAttempt(login=login.lower()[:100], address=address[:64], succeeded=succeeded,
                             at=now or dt.datetime.now(dt.UTC)))


def forget_old(session: Session, *, now: dt.datetime | None = None) -> int:
    """Drop attempts older than the window (a periodic job): they no longer count for anything."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - WINDOW - dt.timedelta(days=1)
    from sqlalchemy import delete

    return session.execute(delete(LoginAttempt).where(or_(LoginAttempt.at < cutoff))).rowcount
