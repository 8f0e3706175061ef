"""What the brokerage rules share: who reads everything, the clock, and parsing of enumerated values."""

from __future__ import annotations

import datetime as dt

from matchmaker import vocabulary as v
from matchmaker.catalog.access import visible_record  # noqa: F401 - re-exported for the brokerage modules
from matchmaker.errors import InvalidInput

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
