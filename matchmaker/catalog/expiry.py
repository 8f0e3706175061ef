"""The change log every matcher follows, and expiry: published postings past their date become expired before
any read shows them (catalog/services.py reads through here)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, insert, literal, select, update
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.specs import EXPIRED, LIBRARIES, PUBLISHED, LibrarySpec
from matchmaker.db import id_batches
from matchmaker.models import IndexChange


def log_index_change(session: Session, spec: LibrarySpec, record_id: int) -> None:
    """Tell every matcher process to re-read this record (see docs/architecture-notes.md)."""
    session.add(IndexChange(library=spec.library.value, record_id=record_id))


def _lapsed(spec: LibrarySpec, today: dt.date) -> tuple:
    """The conditions of a published posting past its expiry date / deadline."""
    date = spec.column(spec.date_column)
    # The status written into the SQL, not bound: PostgreSQL may plan a prepared statement once for any value, and a
    # plan for any status cannot use the partial index of published postings (models/libraries.py).
    return spec.model.status == literal(PUBLISHED, literal_execute=True), date.is_not(None), date < today


@functools.lru_cache(maxsize=2)
def _lapsed_today(today: dt.date) -> tuple[list, Select]:
    """Each library's lapsed conditions, and one question for both libraries asked before locking anything: on most
    requests nothing has lapsed, and a statement less per request is 5% of the match endpoint's time (py-spy,
    benchmarks/speed/README.md). Each asks for the first lapsed id in date order, not EXISTS: with statistics from
    before a sweep of expiries (a freshly seeded world) PostgreSQL answered EXISTS with a scan of the whole table,
    10 ms, and this from the index, 0.09 ms. Built once a day: building it and its cache key on every request cost
    twice what executing it does (0.2 of 0.33 ms on SQLite)."""
    lapsed = [(spec, _lapsed(spec, today)) for spec in LIBRARIES.values()]
    return lapsed, select(*(
        select(spec.model.id).where(*where).order_by(spec.column(spec.date_column)).limit(1).scalar_subquery()
        for spec, where in lapsed))


@functools.lru_cache(maxsize=4)
def record_and_first_lapsed(library: v.Library, today: dt.date) -> Select:
    """One posting (`record_id` bound) with the expiry check's question beside it: one round trip for both."""
    model = LIBRARIES[library].model
    return select(model, *_lapsed_today(today)[1].selected_columns).where(model.id == bindparam("record_id"))


def expiry_asked(session: Session, today: dt.date) -> bool:
    """Whether this transaction has run the expiry check today (`expire_overdue`)."""
    done = session.info.get("expired")
    return done is not None and done[0] is not None and done == (session.get_transaction(), today)


def expire_overdue(session: Session, *, today: dt.date | None = None, answers: Sequence | None = None) -> int:
    """Mark published postings whose expiry date / deadline has passed as expired; returns how many.

    Run before every catalog read and every match, so a record is never shown or matched as open
    after its date, whether or not a scheduler ran. The select is indexed and usually empty, so a
    read only writes on the day something lapses. Once per transaction and day: a request or a batch that reads
    many records (the simulator approves hundreds in one) asked the same two questions before each.
    `answers`: the first lapsed id of each library, when a caller asked them with its own read
    (`record_and_first_lapsed`).
    """
    today = today or dt.date.today()
    if expiry_asked(session, today):
        return 0
    session.info["expired"] = (session.get_transaction(), today)
    lapsed, first_lapsed = _lapsed_today(today)
    anything = answers if answers is not None else session.execute(first_lapsed).one()
    count = 0
    for (spec, where), due in zip(lapsed, anything):
        if due is None:
            continue
        # Ids and two set-wise statements, not ORM objects: a read that is refused afterwards (a 404) rolls this
        # back, and the next read does it again, so it must stay cheap even with hundreds overdue (schemathesis's
        # profile: loading and saving them one by one was 30% of the server's time).
        # SKIP LOCKED (PostgreSQL; SQLite has one writer and ignores it): rows another transaction holds are being
        # expired or changed by it; waiting for them made concurrent requests time out (503) under load.
        overdue = session.scalars(select(spec.model.id).where(*where).with_for_update(skip_locked=True)).all()
        if not overdue:
            continue
        for batch in id_batches(overdue):
            session.execute(update(spec.model).where(spec.model.id.in_(batch))
                            .values(status=EXPIRED).execution_options(synchronize_session="fetch"))
        session.execute(insert(IndexChange), [{"library": spec.library.value, "record_id": record_id}
                                              for record_id in overdue])
        count += len(overdue)
    return count
