"""The one import pipeline (read, validate, check, insert: every row or none) the CLI and API share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from matchmaker.catalog.io.read import format_of, read_rows
from matchmaker.catalog.io.validate import (
    WHOLE_FILE,
    ImportRejected,
    Problem,
    ProblemLog,
    Row,
    batched,
    check_against_database,
    check_ids_within_file,
    validate_rows,
)
from matchmaker.catalog.schemas import IPRecordIn
from matchmaker.catalog.specs import ACHIEVEMENTS, PUBLISHED, LibrarySpec, column_values, kind_named
from matchmaker.models import IPRecord

INSERT_BATCH = 2000
log = logging.getLogger("matchmaker.catalog")
IP_RECORDS = IPRecord.__table__

# The caller's own rules on the checked rows, run before anything is written (the API's "own postings only").
RowCheck = Callable[[list[Row], ProblemLog], None]


@dataclass(frozen=True)
class Imported:
    """What an import wrote: how many records and, if asked for, the keys of those that went in published."""

    count: int
    published: list[int]


def import_file(engine: Engine, kind: str, path: Path, fmt: str | None = None) -> int:
    """The command line's import: a JSONL or CSV file, its format from its name unless given.

    Raises ImportRejected listing every problem (line, field, reason); the database is then unchanged.
    """
    spec = kind_named(kind)
    path = Path(path)
    fmt = format_of(path, fmt)
    if fmt is None:
        raise ImportRejected([Problem(WHOLE_FILE, "$", f"无法从文件名“{path.name}”判断文件格式：请把文件名改为以 .jsonl、"
                                                    ".csv 或 .xlsx 结尾，或用 --format 写明格式")])
    return import_rows(engine, spec, path.read_bytes(), fmt).count


def import_rows(db: Engine | Connection, spec: LibrarySpec, data: bytes, fmt: str, *,
                owner: int | None = None, check: RowCheck | None = None,
                published: bool = False) -> Imported:
    """Validate every row of `data`, then insert all of them, or raise ImportRejected and write nothing.

    Given an Engine the import runs its own transactions, and a database refusal of the rows comes back as
    a problem on line 0 like any other. Given a Connection the caller's transaction holds everything and
    database errors stay the caller's (the API answers a race on an id with 409, a busy database with 503).
    `owner`, when given, is the organisation every row is posted for, whatever the file says. `published`
    asks for the keys of the rows that went in published, for the caller to announce to the matchers.
    """
    problems = ProblemLog()
    rows = validate_rows(read_rows(data, fmt, spec, problems), spec, problems, strict=fmt == "jsonl")
    check_ids_within_file(rows, problems)
    with _reading(db) as conn:
        organisations = check_against_database(conn, spec, rows, problems)
    if check is not None:
        check(rows, problems)
    if problems.items:
        raise problems.rejection()
    with _writing(db) as conn:
        return insert_rows(conn, spec, rows, organisations, owner=owner, published=published)


def _reading(db: Engine | Connection):
    # An Engine's checks run on a connection of their own, so no read snapshot is held into the write.
    return db.connect() if isinstance(db, Engine) else nullcontext(db)


@contextmanager
def _writing(db: Engine | Connection) -> Iterator[Connection]:
    if isinstance(db, Connection):
        yield db
        return
    try:
        with db.begin() as conn:
            yield conn
    except SQLAlchemyError as err:
        # The driver's own words are for the operator's log; the person is told what happened and what to do.
        log.warning("the database refused an import: %s", str(getattr(err, "orig", None) or err).splitlines()[0])
        raise ImportRejected(
            [Problem(WHOLE_FILE, "$", "数据库拒绝写入这批数据，没有导入任何数据；请稍后重试，若仍不成功请联系平台管理员")]
        ) from err


def insert_rows(conn: Connection, spec: LibrarySpec, rows: list[Row], organisations: dict[str, int], *,
                owner: int | None = None, published: bool = False) -> Imported:
    """Insert every checked record, in batches, on `conn`; an achievement's IP rights go with it."""
    records = [row.record for row in rows]
    published_keys: list[int] = []
    for chunk in batched(records, INSERT_BATCH):
        table_rows = [table_row(spec, record, organisations) for record in chunk]
        if owner is not None:
            for row in table_rows:
                row["organisation_id"] = owner
        if spec is not ACHIEVEMENTS and not published:
            # Without RETURNING: ordered RETURNING makes a PostgreSQL executemany several times slower.
            conn.execute(insert(spec.table), table_rows)
            continue
        # RETURNING in parameter order pairs each new key with its record (IP rights) and row (status).
        statement = insert(spec.table).returning(spec.table.c.id, sort_by_parameter_order=True)
        keys = conn.execute(statement, table_rows).scalars().all()
        if spec is ACHIEVEMENTS:
            pairs = zip(keys, chunk, strict=True)
            ip_rows = [ip_row(key, ip) for key, record in pairs for ip in record.ip_records]
            if ip_rows:
                conn.execute(insert(IP_RECORDS), ip_rows)
        if published:
            pairs = zip(keys, table_rows, strict=True)
            published_keys += [key for key, row in pairs if row.get("status") == PUBLISHED]
    return Imported(len(records), published_keys)


def table_row(spec: LibrarySpec, record: msgspec.Struct, organisations: dict[str, int]) -> dict[str, Any]:
    """A checked record as the column values of its table, its organisation by key instead of external id."""
    row = column_values(spec, msgspec.structs.asdict(record))
    if row.get("organisation_id") is not None:
        row["organisation_id"] = organisations[row["organisation_id"]]
    return row


def ip_row(achievement_id: int, ip: IPRecordIn) -> dict[str, Any]:
    return {
        "achievement_id": achievement_id,
        "ip_type": ip.ip_type.value,
        "number": ip.number,
        "status": ip.status.value,
    }
