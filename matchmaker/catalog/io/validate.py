"""Whether each row of a file may go in, and in plain words why not: schema, rules, ids, references."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from types import SimpleNamespace
from typing import Any

import msgspec
from msgspec import inspect as mi
from sqlalchemy import Connection, select

from matchmaker import vocabulary as v
from matchmaker.catalog.schemas import record_problems
from matchmaker.catalog.specs import ORGANISATIONS, LibrarySpec
from matchmaker.models import Region, TechnologyField

MAX_PROBLEMS = 1000
WHOLE_FILE = 0  # the line number of a problem about the file as a whole, not one row
LOOKUP_BATCH = 500  # ids per IN (...) query, well under every driver's parameter limit


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


def batched(items: Iterable, size: int) -> Iterator[list]:
    """itertools.batched arrived in Python 3.12; the project still supports 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def validate_rows(rows: Iterable[Row], spec: LibrarySpec, problems: ProblemLog, *, strict: bool) -> list[Row]:
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
    values: dict[str, Any], spec: LibrarySpec, *, strict: bool = True
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


def _apply_aliases(values: dict[str, Any], spec: LibrarySpec) -> tuple[dict[str, Any], list[tuple[str, str]]]:
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
            return [(name, f"must be a list, got {show(value)}")]
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
            problems.append((where, f"must be an object, got {show(item)}"))
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
        return f"must be one of {allowed}, got {show(value)}"
    if isinstance(info, mi.IntType):
        return _explain_int(value, info, strict=strict)
    if isinstance(info, mi.StrType):
        return _explain_str(value, info, hint)
    if isinstance(info, mi.BoolType):
        return f"must be true or false, got {show(value)}"
    if isinstance(info, mi.DateType):
        return f"must be a date written YYYY-MM-DD, got {show(value)}"
    if isinstance(info, mi.DecimalType):
        return f"must be an amount of yuan (a number), got {show(value)}"
    return None


def _explain_int(value: Any, info: mi.IntType, *, strict: bool) -> str:
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if number is None and not strict and isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            number = None
    if number is None:
        return f"must be a whole number, got {show(value)}"
    if info.ge is not None and info.le is not None:
        return f"must be between {info.ge} and {info.le}, got {number}"
    if info.ge is not None:
        return f"must be at least {info.ge}, got {number}"
    return f"must be at most {info.le}, got {number}"


def _explain_str(value: Any, info: mi.StrType, hint: str | None) -> str:
    if not isinstance(value, str):
        return f"must be text, got {show(value)}"
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


def show(value: Any) -> str:
    """A value as a message quotes it: JSON's words for null and booleans, long text cut short."""
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
    conn: Connection, spec: LibrarySpec, rows: list[Row], problems: ProblemLog
) -> dict[str, int]:
    """Ids must be new and references must exist; returns organisation external id → primary key."""
    ids = {row.values["id"] for row in rows if isinstance(row.values.get("id"), str)}
    taken = _existing(conn, spec.table.c.external_id, ids)
    for row in rows:
        if row.values.get("id") in taken:
            problems.add(row.line, "id", f"'{row.values['id']}' already exists")
    valid = [row for row in rows if row.record is not None]
    if spec is ORGANISATIONS:
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
    taken = _existing(conn, ORGANISATIONS.table.c.credit_code, set(first_line))
    for code in sorted(taken, key=first_line.get):
        problems.add(first_line[code], "credit_code", f"'{code}' already belongs to another organisation")


def _existing(conn: Connection, column, wanted: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in batched(sorted(wanted), LOOKUP_BATCH):
        found.update(conn.scalars(select(column).where(column.in_(chunk))))
    return found


def _organisation_keys(conn: Connection, external_ids: set[str]) -> dict[str, int]:
    table = ORGANISATIONS.table
    keys: dict[str, int] = {}
    for chunk in batched(sorted(external_ids), LOOKUP_BATCH):
        query = select(table.c.external_id, table.c.id).where(table.c.external_id.in_(chunk))
        keys.update((external_id, key) for external_id, key in conn.execute(query))
    return keys