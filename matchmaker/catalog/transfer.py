"""Bulk import and export of organisations, achievements and demands as JSONL or CSV: every row or none."""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from functools import cache
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
from msgspec import inspect as mi
from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.exc import SQLAlchemyError

from matchmaker import vocabulary as v
from matchmaker.catalog.schemas import AchievementIn, DemandIn, IPRecordIn, OrganisationIn, record_problems
from matchmaker.models import Achievement, Demand, IPRecord, Organisation, Region, TechnologyField

MAX_PROBLEMS = 1000
WHOLE_FILE = 0  # the line number of a problem about the file as a whole, not one row
LIST_SEPARATOR = "|"  # joins list cells in CSV; no mode value or IP number contains it
INSERT_BATCH = 2000
EXPORT_BATCH = 1000
LOOKUP_BATCH = 500  # ids per IN (...) query, well under every driver's parameter limit
FORMATS_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


@dataclass(frozen=True)
class Problem:
    """One reason a file was rejected: the 1-based physical line, the field at fault and why."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class ImportRejected(Exception):
    """The file had problems, so nothing of it was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        first = f"; first: {self.problems[0]}" if self.problems else ""
        super().__init__(f"{len(self.problems)} problem(s){first}")


@dataclass(frozen=True)
class RecordKind:
    """What differs between the three kinds of record a file can hold."""

    name: str
    schema: type[msgspec.Struct]
    table: Table
    initial: str  # prefix of the stable export id of a row without an external id
    aliases: dict[str, str] = field(default_factory=dict)  # file name → schema field
    mode_field: str | None = None


KINDS: dict[str, RecordKind] = {
    "organisations": RecordKind("organisations", OrganisationIn, Organisation.__table__, "o"),
    "achievements": RecordKind(
        "achievements",
        AchievementIn,
        Achievement.__table__,
        "a",
        {"description": "summary"},
        "transfer_modes",
    ),
    "demands": RecordKind(
        "demands", DemandIn, Demand.__table__, "d", {"description": "problem"}, "cooperation_modes"
    ),
}
ORGANISATIONS = Organisation.__table__
IP_RECORDS = IPRecord.__table__
# Schema field → column, where the two names differ (the schema speaks of references, not keys).
COLUMN_OF = {
    "id": "external_id",
    "field": "field_code",
    "region": "region_code",
    "organisation": "organisation_id",
}


@dataclass
class Row:
    """One record read from a file: where it came from, its raw values and, once valid, the Struct."""

    line: int
    values: dict[str, Any]
    record: msgspec.Struct | None = None


class ProblemLog:
    """Collects problems up to MAX_PROBLEMS; past that the reader stops, the file is rejected anyway."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, line: int, field_name: str, reason: str) -> None:
        self.items.append(Problem(line, field_name, reason))

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_PROBLEMS

    def rejection(self) -> ImportRejected:
        problems = sorted(self.items, key=lambda p: p.line)
        if len(problems) > MAX_PROBLEMS:
            last = problems[MAX_PROBLEMS - 1].line
            problems = problems[:MAX_PROBLEMS]
            problems.append(
                Problem(last, "$", f"stopped after {MAX_PROBLEMS} problems; fix these and try again")
            )
        return ImportRejected(problems)


# ---------------------------------------------------------------- import


def batched(items: Iterable, size: int) -> Iterator[list]:
    """itertools.batched arrived in Python 3.12; the project still supports 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def import_file(engine: Engine, kind: str, path: Path, fmt: str | None = None) -> int:
    """Validate every row of a JSONL or CSV file, then insert all of them in one transaction, or nothing.

    Raises ImportRejected listing every problem (line, field, reason); the database is then unchanged.
    """
    spec = _kind(kind)
    path = Path(path)
    problems = ProblemLog()
    fmt = fmt or FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt not in ("jsonl", "csv"):
        problems.add(
            WHOLE_FILE,
            "$",
            f"cannot tell the format of '{path.name}': name it .jsonl or .csv, or pass --format",
        )
        raise problems.rejection()
    reader = read_jsonl(path, problems) if fmt == "jsonl" else read_csv(path, spec, problems)
    rows = validate_rows(reader, spec, problems, strict=fmt == "jsonl")
    check_ids_within_file(rows, problems)
    with engine.connect() as conn:
        resolved = check_against_database(conn, spec, rows, problems)
    if problems.items:
        raise problems.rejection()
    return insert_rows(engine, spec, rows, resolved)


def _kind(kind: str) -> RecordKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r} (allowed: {', '.join(KINDS)})") from None


def read_jsonl(path: Path, problems: ProblemLog) -> Iterator[Row]:
    """One JSON object per line; blank lines are skipped, malformed ones are problems."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    decoder = msgspec.json.Decoder()
    # Split on b"\n" only: str.splitlines would also split inside strings holding U+2028 and friends.
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            values = decoder.decode(line)
        except msgspec.DecodeError as err:
            problems.add(number, "$", f"not valid JSON: {_decode_reason(err)}")
            continue
        if not isinstance(values, dict):
            problems.add(number, "$", f"must be a JSON object, got {_show(values)}")
            continue
        yield Row(number, values)


def _decode_reason(err: msgspec.DecodeError) -> str:
    text = str(err)
    return "not UTF-8 text" if "utf-8" in text.lower() else text.removeprefix("JSON is malformed: ")


def read_csv(path: Path, spec: RecordKind, problems: ProblemLog) -> Iterator[Row]:
    """A header line naming the fields, then one record per row; empty cells take the field's default."""
    text = _read_text(path, problems)
    if text is None:
        return
    # Long summaries must not trip the csv module's 128 KiB default cell limit.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not _header_ok(header, spec, problems):
            return
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problems.add(
                    line, "row", f"expected {len(header)} columns as in the header, got {len(cells)}"
                )
                continue
            values, cell_problems = csv_values(dict(zip(header, cells, strict=True)), spec)
            for name, reason in cell_problems:
                problems.add(line, name, reason)
            if not cell_problems:
                yield Row(line, values)
    except csv.Error as err:
        problems.add(reader.line_num, "row", f"not valid CSV: {err}")


def _read_text(path: Path, problems: ProblemLog) -> str | None:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.add(data[: err.start].count(b"\n") + 1, "$", "not UTF-8 text (save the file as UTF-8)")
        return None


def _header_ok(header: list[str], spec: RecordKind, problems: ProblemLog) -> bool:
    """Unknown, repeated or missing required columns make every row unreadable: report them once."""
    fields = msgspec.structs.fields(spec.schema)
    known = {f.encode_name for f in fields} | set(spec.aliases)
    seen: set[str] = set()
    ok = True
    for name in header:
        if name not in known:
            problems.add(1, name or "(blank)", unknown_name("column", name, sorted(known)))
            ok = False
        elif name in seen:
            problems.add(1, name, "column appears twice in the header")
            ok = False
        seen.add(name)
    for f in fields:
        if f.required and f.encode_name not in seen:
            problems.add(1, f.encode_name, "required column missing from the header")
            ok = False
    return ok


def csv_values(cells: dict[str, str], spec: RecordKind) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turn CSV cells into the values a JSONL line would hold (lists split, IP records parsed)."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, cell in cells.items():
        if cell == "":
            continue  # an empty cell is a missing value: the field's default applies
        if name == spec.mode_field:
            values[name] = [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]
        elif name == "ip_records":
            records, reason = parse_ip_records(cell)
            if reason:
                problems.append((name, reason))
            values[name] = records
        else:
            values[name] = cell
    return values, problems


def parse_ip_records(cell: str) -> tuple[list[dict[str, str]], str | None]:
    """'type:number:status|…' → IP record objects; the status part may be left out (granted)."""
    records = []
    statuses = set(v.values(v.IPStatus))
    for position, item in enumerate(cell.split(LIST_SEPARATOR), start=1):
        parts = item.strip().split(":")
        if len(parts) < 2:
            return [], f"item {position} {item!r} must look like type:number or type:number:status"
        record = {"ip_type": parts[0]}
        # The number may itself hold ':'; only a known status word at the end is read as the status.
        if len(parts) >= 3 and parts[-1] in statuses:
            record["status"] = parts[-1]
            parts = parts[:-1]
        record["number"] = ":".join(parts[1:])
        records.append(record)
    return records, None


def validate_rows(rows: Iterable[Row], spec: RecordKind, problems: ProblemLog, *, strict: bool) -> list[Row]:
    """Check each row against the schema; rows that pass carry their Struct in `record`."""
    checked = []
    for row in rows:
        row.record, row_problems = validate_record(row.values, spec, strict=strict)
        for name, reason in row_problems:
            problems.add(row.line, name, reason)
        checked.append(row)
        if problems.full:
            break
    return checked


def validate_record(
    values: dict[str, Any], spec: RecordKind, *, strict: bool = True
) -> tuple[msgspec.Struct | None, list[tuple[str, str]]]:
    """The Struct for a raw record, or the (field, reason) problems that keep it from being one."""
    values, alias_problems = _apply_aliases(values, spec)
    if alias_problems:
        return None, alias_problems
    try:
        return msgspec.convert(values, spec.schema, strict=strict), []
    except msgspec.ValidationError as err:
        # msgspec names only the first fault and not the value; look at every field to say more.
        problems = diagnose(values, spec.schema, strict=strict)
        return None, problems or [("$", str(err))]


def _apply_aliases(values: dict[str, Any], spec: RecordKind) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    # Nulls count as missing, so a null field takes its default like an absent one.
    values = {key: value for key, value in values.items() if value is not None}
    for alias, target in spec.aliases.items():
        if alias in values:
            if target in values:
                return values, [(alias, f"give either {alias} or {target}, not both")]
            values[target] = values.pop(alias)
    return values, []


def diagnose(
    values: dict[str, Any], schema: type, *, strict: bool, prefix: str = ""
) -> list[tuple[str, str]]:
    """Every problem of a record, field by field, then the cross-field checks if the fields are fine."""
    fields = msgspec.structs.fields(schema)
    known = [f.encode_name for f in fields]
    problems = [(prefix + key, unknown_name("field", key, known)) for key in values if key not in known]
    converted: dict[str, Any] = {}
    for f in fields:
        if f.encode_name not in values:
            if f.required:
                problems.append((prefix + f.name, "required"))
            else:
                converted[f.name] = f.default_factory() if f.default is msgspec.NODEFAULT else f.default
            continue
        value = values[f.encode_name]
        try:
            converted[f.name] = msgspec.convert(value, f.type, strict=strict)
        except msgspec.ValidationError as err:
            problems.extend(explain_field(prefix + f.name, f.type, value, err, strict=strict))
    if not problems:
        cross = record_problems(schema, SimpleNamespace(**converted))
        problems.extend((prefix + name, reason) for name, reason in cross)
    return problems


def unknown_name(what: str, name: str, known: list[str]) -> str:
    """'unknown field', with the likely intended name when there is one (a typo such as `tlr`)."""
    close = difflib.get_close_matches(name, known, n=1)
    return (
        f"unknown {what} (did you mean '{close[0]}'?)"
        if close
        else f"unknown {what} (known: {', '.join(known)})"
    )


def explain_field(name: str, tp: Any, value: Any, err: Exception, *, strict: bool) -> list[tuple[str, str]]:
    """Plain-English reasons a value does not fit its field's type."""
    info, hint = _unwrap(_type_info(tp))
    if isinstance(info, mi.ListType):
        if not isinstance(value, list):
            return [(name, f"must be a list, got {_show(value)}")]
        item_info, item_hint = _unwrap(info.item_type)
        if isinstance(item_info, mi.StructType):
            return _explain_nested(name, item_info.cls, value, strict=strict)
        for item in value:
            reason = explain_value(item, item_info, item_hint, strict=strict)
            if reason:
                return [(name, reason)]
    else:
        reason = explain_value(value, info, hint, strict=strict)
        if reason:
            return [(name, reason)]
    return [(name, _clean(err))]


def _explain_nested(name: str, schema: type, items: list, *, strict: bool) -> list[tuple[str, str]]:
    problems = []
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            problems.append((where, f"must be an object, got {_show(item)}"))
        else:
            clean = {key: value for key, value in item.items() if value is not None}
            problems.extend(diagnose(clean, schema, strict=strict, prefix=where + "."))
    return problems


def explain_value(value: Any, info: mi.Type, hint: str | None, *, strict: bool) -> str | None:
    """Why `value` does not fit `info`, or None when the type gives no plain reason."""
    if isinstance(info, mi.EnumType):
        allowed = ", ".join(str(member.value) for member in info.cls)
        if isinstance(value, str):
            return None if value in v.values(info.cls) else f"unknown value {value!r} (allowed: {allowed})"
        return f"must be one of {allowed}, got {_show(value)}"
    if isinstance(info, mi.IntType):
        return _explain_int(value, info, strict=strict)
    if isinstance(info, mi.StrType):
        return _explain_str(value, info, hint)
    if isinstance(info, mi.BoolType):
        return f"must be true or false, got {_show(value)}"
    if isinstance(info, mi.DateType):
        return f"must be a date written YYYY-MM-DD, got {_show(value)}"
    if isinstance(info, mi.DecimalType):
        return f"must be an amount of yuan (a number), got {_show(value)}"
    return None


def _explain_int(value: Any, info: mi.IntType, *, strict: bool) -> str:
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if number is None and not strict and isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            number = None
    if number is None:
        return f"must be a whole number, got {_show(value)}"
    if info.ge is not None and info.le is not None:
        return f"must be between {info.ge} and {info.le}, got {number}"
    if info.ge is not None:
        return f"must be at least {info.ge}, got {number}"
    return f"must be at most {info.le}, got {number}"


def _explain_str(value: Any, info: mi.StrType, hint: str | None) -> str:
    if not isinstance(value, str):
        return f"must be text, got {_show(value)}"
    if info.min_length and len(value) < info.min_length:
        return "required" if value == "" else f"must be at least {info.min_length} characters"
    if info.max_length is not None and len(value) > info.max_length:
        return f"must be at most {info.max_length} characters, got {len(value)}"
    return f"must be {hint}, got {value!r}" if hint else f"must match {info.pattern}, got {value!r}"


@cache
def _type_info(tp: Any) -> mi.Type:
    return mi.type_info(tp)


def _unwrap(info: mi.Type) -> tuple[mi.Type, str | None]:
    """Strip `| None` and Meta wrappers, keeping the description as a hint for messages."""
    if isinstance(info, mi.UnionType):
        others = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(others) == 1:
            info = others[0]
    hint = None
    if isinstance(info, mi.Metadata):
        hint = (info.extra_json_schema or {}).get("description")
        info = info.type
    return info, hint


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return str(value)


def _clean(err: Exception) -> str:
    text = str(err).split(" - at `")[0]
    return text[0].lower() + text[1:] if text else "invalid value"


def check_ids_within_file(rows: list[Row], problems: ProblemLog) -> None:
    """An id may appear once per file; a second row with it would silently shadow the first."""
    first_line: dict[str, int] = {}
    for row in rows:
        external_id = row.values.get("id")
        if not isinstance(external_id, str):
            continue
        if external_id in first_line:
            problems.add(
                row.line,
                "id",
                f"'{external_id}' appears twice in this file (first on line {first_line[external_id]})",
            )
        else:
            first_line[external_id] = row.line


def check_against_database(
    conn: Connection, spec: RecordKind, rows: list[Row], problems: ProblemLog
) -> dict[str, int]:
    """Ids must be new and references must exist; returns organisation external id → primary key."""
    ids = {row.values["id"] for row in rows if isinstance(row.values.get("id"), str)}
    taken = _existing(conn, spec.table.c.external_id, ids)
    for row in rows:
        if row.values.get("id") in taken:
            problems.add(row.line, "id", f"'{row.values['id']}' already exists")
    valid = [row for row in rows if row.record is not None]
    if spec.name == "organisations":
        _check_credit_codes(conn, valid, problems)
    regions = set(conn.scalars(select(Region.code)))
    fields = set(conn.scalars(select(TechnologyField.code)))
    references = {r.record.organisation for r in valid if getattr(r.record, "organisation", None)}
    organisations = _organisation_keys(conn, references)
    for row in valid:
        record = row.record
        if record.region is not None and record.region not in regions:
            problems.add(row.line, "region", f"'{record.region}' is not a known GB/T 2260 code")
        code = getattr(record, "field", None)
        if code is not None and code not in fields:
            problems.add(row.line, "field", f"'{code}' is not a known technology field code")
        reference = getattr(record, "organisation", None)
        if reference is not None and reference not in organisations:
            problems.add(row.line, "organisation", f"'{reference}' not found")
    return organisations


def _check_credit_codes(conn: Connection, rows: list[Row], problems: ProblemLog) -> None:
    # The column is unique: catch repeats here, where the line number is still known.
    first_line: dict[str, int] = {}
    for row in rows:
        code = row.record.credit_code
        if code is None:
            continue
        if code in first_line:
            problems.add(
                row.line,
                "credit_code",
                f"'{code}' appears twice in this file (first on line {first_line[code]})",
            )
        else:
            first_line[code] = row.line
    taken = _existing(conn, ORGANISATIONS.c.credit_code, set(first_line))
    for code in sorted(taken, key=first_line.get):
        problems.add(first_line[code], "credit_code", f"'{code}' already belongs to another organisation")


def _existing(conn: Connection, column, wanted: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in batched(sorted(wanted), LOOKUP_BATCH):
        found.update(conn.scalars(select(column).where(column.in_(chunk))))
    return found


def _organisation_keys(conn: Connection, external_ids: set[str]) -> dict[str, int]:
    keys: dict[str, int] = {}
    for chunk in batched(sorted(external_ids), LOOKUP_BATCH):
        query = select(ORGANISATIONS.c.external_id, ORGANISATIONS.c.id).where(
            ORGANISATIONS.c.external_id.in_(chunk)
        )
        keys.update((external_id, key) for external_id, key in conn.execute(query))
    return keys


def insert_rows(engine: Engine, spec: RecordKind, rows: list[Row], organisations: dict[str, int]) -> int:
    """Insert every record in one transaction; a database error rolls all of it back and is reported."""
    records = [row.record for row in rows]
    try:
        with engine.begin() as conn:
            for chunk in batched(records, INSERT_BATCH):
                table_rows = [table_row(spec, record, organisations) for record in chunk]
                if spec.name != "achievements":
                    conn.execute(insert(spec.table), table_rows)
                    continue
                # RETURNING in parameter order pairs each new key with its record's IP rights.
                statement = insert(spec.table).returning(spec.table.c.id, sort_by_parameter_order=True)
                keys = conn.execute(statement, table_rows).scalars().all()
                ip_rows = [
                    ip_row(key, ip)
                    for key, record in zip(keys, chunk, strict=True)
                    for ip in record.ip_records
                ]
                if ip_rows:
                    conn.execute(insert(IP_RECORDS), ip_rows)
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        raise ImportRejected(
            [Problem(WHOLE_FILE, "$", f"the database refused the rows, nothing was imported: {reason}")]
        ) from err
    return len(records)


def table_row(spec: RecordKind, record: msgspec.Struct, organisations: dict[str, int]) -> dict[str, Any]:
    """A Struct as the column values of its table."""
    row: dict[str, Any] = {}
    for name in record.__struct_fields__:
        value = getattr(record, name)
        if name == "ip_records":
            continue
        if name == "organisation":
            value = organisations[value] if value is not None else None
        elif name == spec.mode_field:
            value = v.modes_to_mask(value)
        elif isinstance(value, Enum):
            value = value.value
        row[COLUMN_OF.get(name, name)] = value
    return row


def ip_row(achievement_id: int, ip: IPRecordIn) -> dict[str, Any]:
    return {
        "achievement_id": achievement_id,
        "ip_type": ip.ip_type.value,
        "number": ip.number,
        "status": ip.status.value,
    }


# ---------------------------------------------------------------- export


def export_file(engine: Engine, kind: str, path: Path, fmt: str | None = None) -> int:
    """Stream every record of `kind`, ordered by primary key, to JSONL or CSV in the shape import reads."""
    spec = _kind(kind)
    path = Path(path)
    fmt = fmt or FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"cannot tell the format of '{path.name}': name it .jsonl or .csv, or pass a format")
    writer = _write_jsonl if fmt == "jsonl" else _write_csv
    with engine.connect() as conn, path.open("w", encoding="utf-8", newline="") as handle:
        return writer(handle, spec, export_records(conn, spec))


def export_records(conn: Connection, spec: RecordKind) -> Iterator[dict[str, Any]]:
    """Records as schema-shaped dicts, read in batches so memory stays flat on a national-size table."""
    table = spec.table
    organisation = ORGANISATIONS.alias("owner")
    columns = [table]
    joined = table
    if "organisation_id" in table.c:
        columns += [
            organisation.c.id.label("owner_id"),
            organisation.c.external_id.label("owner_external_id"),
        ]
        joined = table.outerjoin(organisation, table.c.organisation_id == organisation.c.id)
    query = select(*columns).select_from(joined).order_by(table.c.id)
    result = conn.execution_options(yield_per=EXPORT_BATCH).execute(query)
    for batch in result.partitions():
        ip_records = _ip_records_of(conn, [row.id for row in batch]) if spec.name == "achievements" else {}
        for row in batch:
            yield export_record(spec, row._mapping, ip_records.get(row.id, []))


def _ip_records_of(conn: Connection, keys: list[int]) -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = {}
    query = (
        select(IP_RECORDS.c.achievement_id, IP_RECORDS.c.ip_type, IP_RECORDS.c.number, IP_RECORDS.c.status)
        .where(IP_RECORDS.c.achievement_id.in_(keys))
        .order_by(IP_RECORDS.c.achievement_id, IP_RECORDS.c.id)
    )
    for key, ip_type, number, status in conn.execute(query):
        found.setdefault(key, []).append({"ip_type": ip_type, "number": number, "status": status})
    return found


def export_record(spec: RecordKind, row, ip_records: list[dict[str, str]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name in spec.schema.__struct_fields__:
        if name == "id":
            value = row["external_id"] or f"{spec.initial}{row['id']}"
        elif name == "organisation":
            value = _owner_id(row)
        elif name == spec.mode_field:
            value = [mode.value for mode in v.TransferMode if mode in row[name]]  # enum order: stable
        elif name == "ip_records":
            value = ip_records
        else:
            value = row[COLUMN_OF.get(name, name)]
        record[name] = value
    return record


def _owner_id(row) -> str | None:
    if row["owner_id"] is None:
        return None
    return row["owner_external_id"] or f"{KINDS['organisations'].initial}{row['owner_id']}"


def _write_jsonl(handle, spec: RecordKind, records: Iterator[dict[str, Any]]) -> int:
    # Money goes out as strings ("1200000.00"): JSON numbers would pass through floats on the way back.
    encoder = msgspec.json.Encoder()
    count = 0
    for record in records:
        handle.write(encoder.encode(record).decode("utf-8"))
        handle.write("\n")
        count += 1
    return count


def _write_csv(handle, spec: RecordKind, records: Iterator[dict[str, Any]]) -> int:
    names = list(spec.schema.__struct_fields__)
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for record in records:
        writer.writerow([csv_cell(name, record[name]) for name in names])
        count += 1
    return count


CSV_CELL: dict[type, Callable[[Any], str]] = {
    bool: lambda value: "true" if value else "false",
    Decimal: lambda value: f"{value:f}",
    dt.date: lambda value: value.isoformat(),
}


def csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "ip_records":
        return LIST_SEPARATOR.join(f"{ip['ip_type']}:{ip['number']}:{ip['status']}" for ip in value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return CSV_CELL.get(type(value), str)(value)
