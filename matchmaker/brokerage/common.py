"""What the brokerage rules share: who reads everything, the clock, and parsing of enumerated values."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.access import is_visible
from matchmaker.errors import FieldProblem, InvalidInput, NotFound
from matchmaker.identity.services import Actor

Stage = v.PipelineStage
READ_ALL_ROLES = (v.Role.ADMIN, v.Role.ANALYST)


def current_time(at: dt.datetime | None) -> dt.datetime:
    # The market simulator passes its own clock; the API uses the wall clock.
    return at or dt.datetime.now(dt.UTC)


def parse(enum, value, field: str):
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput.on(field, f"unknown value {value!r} (allowed: {', '.join(v.values(enum))})") from None


def visible_record(session: Session, actor: Actor, model, record_id: int, field: str):
    """A posting the body names, or 404 when it does not exist or the actor may not see it: a draft of another
    organisation is answered exactly like a missing one, so its existence does not leak (F8)."""
    record = session.get(model, record_id)
    if record is None or not is_visible(actor, record):
        raise NotFound(f"{field.removesuffix('_id')} {record_id} not found", problems=[FieldProblem(field, "not found")])
    return record
