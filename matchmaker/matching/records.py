"""Turns library rows into the matcher's plain documents: one definition of what text a record is matched on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.db import id_batches
from matchmaker.matching.ranking import AchievementDoc, DemandDoc
from matchmaker.models import Achievement, Demand

PUBLISHED = v.AchievementStatus.PUBLISHED   # the same value for demands


def achievement_text(row) -> tuple[str, str]:
    """Title, and body = public summary + keywords (confidential detail is never indexed)."""
    body = "\n".join(part for part in (row.summary, row.keywords) if part)
    return row.title, body


def demand_text(row) -> tuple[str, str]:
    """Title, and body = problem + targets + existing conditions, as a firm's full posting reads."""
    body = "\n".join(part for part in (row.problem, row.targets, row.conditions) if part)
    return row.title, body


def achievement_doc(row, today: dt.date | None = None) -> AchievementDoc:
    title, body = achievement_text(row)
    return AchievementDoc(
        id=row.id, title=title, body=body, field_code=row.field_code, trl=row.trl, region_code=row.region_code,
        asking_price=None if row.asking_price is None else float(row.asking_price),
        transfer_modes=frozenset(str(m) for m in row.transfer_modes or ()),
        status=_effective_status(row.status, row.expires_on, today),
    )


def demand_doc(row, today: dt.date | None = None) -> DemandDoc:
    title, body = demand_text(row)
    return DemandDoc(
        id=row.id, title=title, body=body, field_code=row.field_code, min_trl=row.min_trl, region_code=row.region_code,
        budget_min=None if row.budget_min is None else float(row.budget_min),
        budget_max=None if row.budget_max is None else float(row.budget_max),
        cooperation_modes=frozenset(str(m) for m in row.cooperation_modes or ()),
        status=_effective_status(row.status, row.deadline, today),
    )


def _effective_status(status: str, ends_on: dt.date | None, today: dt.date | None) -> str:
    # A published record past its date is expired for matching even before expire_overdue rewrites its status.
    if status == PUBLISHED and ends_on is not None and ends_on < (today or dt.date.today()):
        return v.AchievementStatus.EXPIRED.value
    return status


# What a document is made of: a build reads these columns alone, as plain rows (half the time of whole ORM rows at
# the national world's 587,000 open achievements: no confidential detail, contacts or timestamps read and dropped).
ACHIEVEMENT_COLUMNS = (Achievement.id, Achievement.title, Achievement.summary, Achievement.keywords,
                       Achievement.field_code, Achievement.trl, Achievement.region_code, Achievement.asking_price,
                       Achievement.transfer_modes, Achievement.status, Achievement.expires_on)
DEMAND_COLUMNS = (Demand.id, Demand.title, Demand.problem, Demand.targets, Demand.conditions, Demand.field_code,
                  Demand.min_trl, Demand.region_code, Demand.budget_min, Demand.budget_max, Demand.cooperation_modes,
                  Demand.status, Demand.deadline)

COLUMNS = {v.Library.ACHIEVEMENTS: ACHIEVEMENT_COLUMNS, v.Library.DEMANDS: DEMAND_COLUMNS}
DOC_OF = {v.Library.ACHIEVEMENTS: achievement_doc, v.Library.DEMANDS: demand_doc}
CHUNK = 10_000   # record ids per query: a sweep of expiries can log hundreds of thousands of changes at once


def docs_by_id(session: Session, library: v.Library, ids: list[int], today: dt.date) -> dict:
    """The documents of those records that exist, by id, read as plain rows of the columns a document is made of
    (whole ORM rows were a third of the simulator's monthly catch-up with 50,000 changed records, py-spy), in
    chunks: the national world's first read expired 253,000 records, past SQLite's limit on bound parameters."""
    model = COLUMNS[library][0].class_
    make = DOC_OF[library]
    return {row.id: make(row, today) for batch in id_batches(ids, CHUNK)
            for row in session.execute(select(*COLUMNS[library]).where(model.id.in_(batch)))}


def open_docs(session: Session, today: dt.date | None = None) -> tuple[list[AchievementDoc], list[DemandDoc]]:
    """Every published record not past its date, as matcher documents: what an index is built from."""
    today = today or dt.date.today()
    connection = session.connection()
    achievements = connection.execute(select(*ACHIEVEMENT_COLUMNS)
                                      .where(_open(Achievement, Achievement.expires_on, today)).order_by(Achievement.id))
    demands = connection.execute(select(*DEMAND_COLUMNS).where(_open(Demand, Demand.deadline, today))
                                 .order_by(Demand.id))
    return [achievement_doc(row, today) for row in achievements], [demand_doc(row, today) for row in demands]


def open_ids(session: Session, today: dt.date | None = None) -> tuple[list[int], list[int]]:
    """The ids of those records alone: what a loaded index is checked against."""
    today = today or dt.date.today()
    connection = session.connection()
    return (_plain_ids(connection, select(Achievement.id).where(_open(Achievement, Achievement.expires_on, today))),
            _plain_ids(connection, select(Demand.id).where(_open(Demand, Demand.deadline, today))))


def _plain_ids(connection, statement) -> list[int]:
    """The first column of every row, straight from the driver's cursor: integers need no result processing, and
    SQLAlchemy's rows cost 1.07 s for the national world's 587,000 open achievements, the cursor's tuples 0.25 s
    (a fifth of a restart)."""
    result = connection.execute(statement)
    try:
        return [row[0] for row in result.cursor.fetchall()]
    finally:
        result.close()


def _open(model, ends_on, today: dt.date):
    return and_(model.status == PUBLISHED, or_(ends_on.is_(None), ends_on >= today))
