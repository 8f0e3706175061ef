"""Excel files in and out: a sheet is read like a CSV file (python-calamine, a Rust reader, fast on 10,000-row
files) and written with openpyxl's streaming writer. Headers carry both words: "名称（title）", so a person reads
the Chinese and the importer finds the field; a plain field name or the Chinese alone is accepted too.

Text cells are written as text (never formulas), so a cell such as "=HYPERLINK(…)" cannot run in Excel; money is
written as numbers with two decimals so a registration office can sum them, and read back to the cent.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from matchmaker.catalog.io.validate import Problem

COLUMN_WORDS = {
    "id": "编号", "title": "名称", "summary": "成果简介", "confidential_detail": "核心技术细节（保密）", "keywords": "关键词",
    "team": "研发团队", "field": "技术领域", "trl": "技术成熟度", "organisation": "所属单位编号", "region": "所在地区代码",
    "transfer_modes": "转化方式", "pricing_mode": "定价方式", "asking_price": "参考价格（元）",
    "use_first_pay_later": "先使用后付费", "status": "状态", "posted_on": "发布日期", "expires_on": "有效期至",
    "ip_records": "知识产权", "problem": "拟解决的技术难题", "targets": "预期目标", "conditions": "现有基础",
    "min_trl": "最低技术成熟度", "budget_min": "预算下限（元）", "budget_max": "预算上限（元）", "cooperation_modes": "合作方式",
    "is_challenge": "揭榜挂帅", "bounty": "悬赏金额（元）", "deadline": "截止日期", "name": "单位名称", "kind": "单位类型",
    "credit_code": "统一社会信用代码", "size": "企业规模", "high_tech": "高新技术企业", "industry": "行业",
}
_BY_WORDS = {words: name for name, words in COLUMN_WORDS.items()}
_LABELLED = re.compile(r"^.*[（(]([a-z_]+)[）)]$")
MONEY = {"asking_price", "budget_min", "budget_max", "bounty", "amount", "certified_amount"}


def header_cell(name: str) -> str:
    words = COLUMN_WORDS.get(name)
    return f"{words}（{name}）" if words else name


def field_of(header: str, by_words: dict[str, str] = _BY_WORDS) -> str:
    """The field a header names: "名称（title）", "title" or "名称" all give "title" (`by_words`: Chinese → field)."""
    header = header.strip()
    found = _LABELLED.match(header)
    if found:
        return found.group(1)
    return by_words.get(header, header)


def sheet_rows(data: bytes) -> list[list[Any]]:
    """The first sheet's rows as Python values; raises ValueError when the bytes are not a readable workbook."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as error:   # noqa: BLE001 - calamine raises its own types for every kind of damage
        raise ValueError(str(error)) from None


def cell_text(name: str, value: Any) -> str:
    """A cell as the text a CSV cell would hold (the validator then reads it exactly as CSV)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if name in MONEY:
            return f"{Decimal(repr(value)).quantize(Decimal('0.01')):f}"
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def write_workbook(header: list[str], rows: Iterable[list[Any]], *, title: str = "数据") -> bytes:
    """An .xlsx of these rows (streamed: memory stays flat for large exports)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    sheet.append(header)

    def cell(value: Any):
        if isinstance(value, Decimal):
            written = WriteOnlyCell(sheet, value=float(value))
            written.number_format = "0.00"
            return written
        if isinstance(value, str):
            written = WriteOnlyCell(sheet, value=value)
            written.data_type = "s"   # text stays text: no formula runs, whatever it starts with
            return written
        return value

    for row in rows:
        sheet.append([cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def column_words(field: str, columns: dict[str, str] | None = None) -> str:
    """The 列 a problem names, as a person reads it: the whole file, the whole row, or the column's header."""
    special = {"$": "整个文件", "row": "整行", "(blank)": "没有列名的一列"}
    return special.get(field) or (columns or {}).get(field) or header_cell(field)


def problem_report(problems: list[Problem], *, columns: dict[str, str] | None = None) -> bytes:
    """The import's error report: one row per problem (行号, 列, 问题), for the person to fix the file."""
    def rows() -> Iterator[list[Any]]:
        for problem in problems:
            yield ["—" if problem.line == 0 else problem.line, column_words(problem.field, columns), problem.reason]

    return write_workbook(["行号", "列", "问题"], rows(), title="导入问题")
