"""Writing every record of a kind to JSONL or CSV, in the shape the import reads back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, select

from matchmaker import vocabulary as v
from matchmaker.catalog.io.excel import header_cell, write_workbook
from matchmaker.catalog.io.read import LIST_SEPARATOR, format_of
from matchmaker.catalog.specs import ACHIEVEMENTS, COLUMN_OF, ORGANISATIONS, LibrarySpec, kind_named
from matchmaker.csv_safety import SafeWriter
from matchmaker.models import IPRecord

EXPORT_BATCH = 1000
IP_RECORDS = IPRecord.__table__


def export_file(engine: Engine, kind: str, path: Path, fmt: str | None = None) -> int:
    """Stream every record of `kind`, ordered by primary key, to JSONL or CSV in the shape import reads."""
    spec = kind_named(kind)
    path = Path(path)
    fmt = format_of(path, fmt)
    if fmt is None:
        raise ValueError(f"cannot tell the format of '{path.name}': name it .jsonl, .csv or .xlsx, or pass a format")
    with engine.connect() as conn:
        if fmt == "xlsx":
            counted = [0]

            def counting():
                for record in export_records(conn, spec):
                    counted[0] += 1
                    yield record

            path.write_bytes(xlsx_bytes(spec, counting()))
            return counted[0]
        # CSV starts with a BOM: Chinese Excel reads a file without one as GBK and garbles it.
        with path.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as handle:
            return (_write_jsonl if fmt == "jsonl" else write_csv)(handle, spec, export_records(conn, spec))


def xlsx_bytes(spec: LibrarySpec, records) -> bytes:
    """Records as a workbook: the headers in Chinese and English, cells as the CSV writes them (lists joined),
    except money (numbers) and dates (dates), which Excel then sorts and sums."""
    names = list(spec.schema.__struct_fields__)

    def cell(name: str, value: Any):
        if value is None or isinstance(value, Decimal | dt.date) and not isinstance(value, bool):
            return value
        return csv_cell(name, value)

    return write_workbook([header_cell(n) for n in names], ([cell(n, r[n]) for n in names] for r in records),
                          title=spec.name)


def export_records(conn: Connection, spec: LibrarySpec, where=None) -> Iterator[dict[str, Any]]:
    """Records as schema-shaped dicts, read in batches so memory stays flat on a national-size table; `where`
    narrows them (a page exports what its person may see)."""
    table = spec.table
    organisation = ORGANISATIONS.table.alias("owner")
    columns = [table]
    joined = table
    if "organisation_id" in table.c:
        columns += [
            organisation.c.id.label("owner_id"),
            organisation.c.external_id.label("owner_external_id"),
        ]
        joined = table.outerjoin(organisation, table.c.organisation_id == organisation.c.id)
    query = select(*columns).select_from(joined).order_by(table.c.id)
    if where is not None:
        query = query.where(where)
    result = conn.execution_options(yield_per=EXPORT_BATCH).execute(query)
    for batch in result.partitions():
        ip_records = _ip_records_of(conn, [row.id for row in batch]) if spec is ACHIEVEMENTS else {}
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


def export_record(spec: LibrarySpec, row, ip_records: list[dict[str, str]]) -> dict[str, Any]:
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
    return row["owner_external_id"] or f"{ORGANISATIONS.initial}{row['owner_id']}"


def _write_jsonl(handle, spec: LibrarySpec, records: Iterator[dict[str, Any]]) -> int:
    # Money goes out as strings ("1200000.00"): JSON numbers would pass through floats on the way back.
    encoder = msgspec.json.Encoder()
    count = 0
    for record in records:
        handle.write(encoder.encode(record).decode("utf-8"))
        handle.write("\n")
        count += 1
    return count


def write_csv(handle, spec: LibrarySpec, records: Iterator[dict[str, Any]]) -> int:
    names = list(spec.schema.__struct_fields__)
    writer = SafeWriter(handle, lineterminator="\n")
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
