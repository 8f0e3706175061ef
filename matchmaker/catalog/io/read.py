"""Turning the bytes of a JSONL or CSV file into rows of raw values, and unreadable lines into problems."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from matchmaker import vocabulary as v
from matchmaker.catalog.io.excel import cell_text, field_of, sheet_rows
from matchmaker.catalog.io.validate import ProblemLog, Row, show, unknown_name
from matchmaker.catalog.specs import LibrarySpec
from matchmaker.csv_safety import unescape_cell

FORMATS = ("jsonl", "csv", "xlsx")
FORMATS_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}
LIST_SEPARATOR = "|"  # joins list cells in CSV; no mode value or IP number contains it


def format_of(path: Path, fmt: str | None = None) -> str | None:
    """The format asked for, else the one the file name tells; None when neither says jsonl or csv."""
    fmt = fmt or FORMATS_BY_SUFFIX.get(path.suffix.lower())
    return fmt if fmt in FORMATS else None


def read_rows(data: bytes, fmt: str, spec: LibrarySpec, problems: ProblemLog) -> Iterator[Row]:
    """The rows of a file in `fmt`, lazily, so the validator can stop reading once the log is full."""
    if fmt == "jsonl":
        return read_jsonl(data, problems)
    if fmt == "csv":
        return read_csv(data, spec, problems)
    if fmt == "xlsx":
        return read_xlsx(data, spec, problems)
    raise ValueError(f"unknown format {fmt!r} (allowed: {', '.join(FORMATS)})")


def read_jsonl(data: bytes, problems: ProblemLog) -> Iterator[Row]:
    """One JSON object per line; blank lines are skipped, malformed ones are problems."""
    data = data.removeprefix(b"\xef\xbb\xbf")
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
            problems.add(number, "$", f"must be a JSON object, got {show(values)}")
            continue
        yield Row(number, values)


def _decode_reason(err: msgspec.DecodeError) -> str:
    text = str(err)
    return "not UTF-8 text" if "utf-8" in text.lower() else text.removeprefix("JSON is malformed: ")


def read_csv(data: bytes, spec: LibrarySpec, problems: ProblemLog) -> Iterator[Row]:
    """A header line naming the fields, then one record per row; empty cells take the field's default."""
    text = decode_text(data, problems)
    if text is None:
        return
    # Long summaries must not trip the csv module's 128 KiB default cell limit.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        header = [field_of(name) for name in header] if header is not None else None
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
            values, cell_problems = csv_values(dict(zip(header, map(unescape_cell, cells), strict=True)), spec)
            for name, reason in cell_problems:
                problems.add(line, name, reason)
            if not cell_problems:
                yield Row(line, values)
    except csv.Error as err:
        problems.add(reader.line_num, "row", f"not valid CSV: {err}")


def read_xlsx(data: bytes, spec: LibrarySpec, problems: ProblemLog) -> Iterator[Row]:
    """The first sheet of a workbook: a header row, then one record per row (row numbers as Excel shows them)."""
    try:
        sheet = sheet_rows(data)
    except ValueError:
        problems.add(1, "$", "not a readable .xlsx workbook (save it from Excel or WPS as .xlsx)")
        return
    if not sheet:
        return
    header = [field_of("" if cell is None else str(cell)) for cell in sheet[0]]
    while header and header[-1] == "":
        header.pop()                       # Excel's trailing empty columns
    if not _header_ok(header, spec, problems):
        return
    for number, cells in enumerate(sheet[1:], start=2):
        texts = [cell_text(name, cell) for name, cell in zip(header, cells, strict=False)]
        if not any(text.strip() for text in texts):
            continue
        if any(cell not in (None, "") for cell in cells[len(header):]):
            problems.add(number, "row", f"expected {len(header)} columns as in the header, got more")
            continue
        values, cell_problems = csv_values(dict(zip(header, texts + [""] * (len(header) - len(texts)), strict=True)), spec)
        for name, reason in cell_problems:
            problems.add(number, name, reason)
        if not cell_problems:
            yield Row(number, values)


def decode_text(data: bytes, problems: ProblemLog) -> str | None:
    """UTF-8 (with or without Excel's BOM), else GB18030, the superset of the GBK that Chinese Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            problems.add(data[: err.start].count(b"\n") + 1, "$", "not UTF-8 or GBK text (save the file as UTF-8)")
            return None


def _header_ok(header: list[str], spec: LibrarySpec, problems: ProblemLog) -> bool:
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


def csv_values(cells: dict[str, str], spec: LibrarySpec) -> tuple[dict[str, Any], list[tuple[str, str]]]:
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
