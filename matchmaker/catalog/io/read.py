"""Turning the bytes of a JSONL or CSV file into rows of raw values, and unreadable lines into problems (each
reason a Chinese sentence saying what to do, as validate.py writes them)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from matchmaker import vocabulary as v
from matchmaker.catalog.io.excel import cell_text, field_of, header_cell, sheet_rows
from matchmaker.catalog.io.validate import ProblemLog, Row, close_name, show
from matchmaker.catalog.specs import LibrarySpec
from matchmaker.csv_safety import unescape_cell

FORMATS = ("jsonl", "csv", "xlsx")
FORMATS_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}
LIST_SEPARATOR = "|"  # joins list cells in CSV; no mode value or IP number contains it
IP_EXAMPLE = f"{v.IPType.INVENTION_PATENT}:ZL202010123456.7:{v.IPStatus.GRANTED}"   # as an IP cell is written
COLUMNS_DIFFER = "请补齐或删去多余的单元格（含逗号的内容要用英文双引号括起）"


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
            problems.add(number, "$", _decode_reason(err))
            continue
        if not isinstance(values, dict):
            problems.add(number, "$", f"每一行应是一个用 {{ }} 括起的 JSON 对象，现为 {show(values)}")
            continue
        yield Row(number, values)


def _decode_reason(err: msgspec.DecodeError) -> str:
    text = str(err)
    if "utf-8" in text.lower():
        return "这一行不是 UTF-8 编码的文字，请把文件另存为 UTF-8 后再上传"
    if "truncated" in text:
        return "这一行的 JSON 不完整（括号或引号没有闭合），请补全"
    where = re.search(r"\(byte (\d+)\)", text)
    at = f"（第 {int(where.group(1)) + 1} 个字节附近）" if where else ""
    return f"这一行不是有效的 JSON{at}，请检查括号、引号和逗号是否齐全、成对"


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
                problems.add(line, "row", f"这一行有 {len(cells)} 列，表头有 {len(header)} 列；{COLUMNS_DIFFER}")
                continue
            values, cell_problems = csv_values(dict(zip(header, map(unescape_cell, cells), strict=True)), spec)
            for name, reason in cell_problems:
                problems.add(line, name, reason)
            if not cell_problems:
                yield Row(line, values)
    except csv.Error:
        problems.add(reader.line_num, "row", "这一行不是有效的 CSV（多半是引号没有成对），"
                                             "请在 Excel 或 WPS 中另存为 CSV 后再上传")


def read_xlsx(data: bytes, spec: LibrarySpec, problems: ProblemLog) -> Iterator[Row]:
    """The first sheet of a workbook: a header row, then one record per row (row numbers as Excel shows them)."""
    try:
        sheet = sheet_rows(data)
    except ValueError:
        problems.add(1, "$", "不是能读取的 .xlsx 文件，请在 Excel 或 WPS 中另存为 .xlsx 后再上传")
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
            problems.add(number, "row", f"这一行在表头以外的列里还有内容（表头共 {len(header)} 列），"
                                        "请删去多余的单元格，或为它补上表头")
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
            problems.add(data[: err.start].count(b"\n") + 1, "$", "文件编码无法识别（既不是 UTF-8 也不是 GBK），"
                         "请在 Excel 或 WPS 中另存为“CSV UTF-8”或 .xlsx 后再上传")
            return None


def _header_ok(header: list[str], spec: LibrarySpec, problems: ProblemLog) -> bool:
    """Unknown, repeated or missing required columns make every row unreadable: report them once."""
    fields = msgspec.structs.fields(spec.schema)
    columns = [f.encode_name for f in fields]
    known = set(columns) | set(spec.aliases)
    seen: set[str] = set()
    ok = True
    for name in header:
        if name not in known:
            problems.add(1, name or "(blank)", _unknown_column(name, sorted(known), columns))
            ok = False
        elif name in seen:
            problems.add(1, name, f"表头中“{header_cell(name)}”这一列出现了两次，请删去其中一列")
            ok = False
        seen.add(name)
    for f in fields:
        if f.required and f.encode_name not in seen:
            problems.add(1, f.encode_name, f"表头缺少必填的“{header_cell(f.encode_name)}”一列，请按导出的模板补上")
            ok = False
    return ok


def _unknown_column(name: str, known: list[str], columns: list[str]) -> str:
    """The reason for a header cell naming no field: the likely intended column, else the template's columns."""
    if not name:
        return "表头中有一列没有列名，请填上列名或删去这一列"
    close = close_name(name, known)
    if close:
        return f"表头中的“{name}”不是能识别的列名，是否应为“{header_cell(close)}”？请改正后再上传"
    listed = "、".join(header_cell(column) for column in columns)
    return f"表头中的“{name}”不是能识别的列名，请删去这一列，或改用导出模板中的列名：{listed}"


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
            return [], (f"第 {position} 项“{item.strip()}”应写成 类型:编号 或 类型:编号:状态"
                        f"（例如 {IP_EXAMPLE}），多项之间用“|”隔开")
        record = {"ip_type": parts[0]}
        # The number may itself hold ':'; only a known status word at the end is read as the status.
        if len(parts) >= 3 and parts[-1] in statuses:
            record["status"] = parts[-1]
            parts = parts[:-1]
        record["number"] = ":".join(parts[1:])
        records.append(record)
    return records, None
