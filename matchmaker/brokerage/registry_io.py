"""The registry in spreadsheets: registration offices keep contracts in Excel, so registered (or waiting)
contracts are imported from .xlsx or CSV (UTF-8, UTF-8 with BOM, GBK) and the registry is exported to .xlsx or CSV
with a BOM. Every row is checked with the registration form's own rules (form.check); one problem anywhere and
nothing is written; the problems come back one per row and column, in Chinese, for the .xlsx error report.

Parties are named as on the form (by name); a name the platform does not know becomes an organisation of the
form's party type, since a registry holds contracts of parties that never posted here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage import form
from matchmaker.brokerage.submission import reference_lists
from matchmaker.catalog.io.excel import cell_text, field_of, sheet_rows, write_workbook
from matchmaker.catalog.io.validate import MAX_PROBLEMS, ImportRejected, Problem, batched
from matchmaker.csv_safety import safe_cell, unescape_cell
from matchmaker.brokerage.registry import REGISTRARS
from matchmaker.errors import FieldProblem, Forbidden, InvalidInput
from matchmaker.identity.market import in_market
from matchmaker.identity.services import Actor
from matchmaker.models import Contract, Organisation, RegistrationSequence

# The spreadsheet's columns, in the order of the registration form.
COLUMNS = ("registration_number", "registered_on", "title", "contract_type", "sub_type", "signed_on", "valid_from",
           "valid_until", "amount", "certified_amount", "payment_mode", "trial_ends_on", "licence_scope",
           "seller_name", "seller_party_type", "seller_country", "seller_region_code",
           "buyer_name", "buyer_party_type", "buyer_country", "buyer_region_code",
           "field_code", "ip_type", "programme", "foreign_related", "tax_relief")
REQUIRED = {"title", "contract_type", "sub_type", "signed_on", "amount", "payment_mode", "seller_name", "buyer_name"}
MONEY = {"amount", "certified_amount"}
# Shown as the form's words; read back from either the words or the codes.
NAMED = {"contract_type": form.CONTRACT_TYPES, "payment_mode": form.PAYMENT_MODES, "licence_scope": form.LICENCE_SCOPES,
         "seller_party_type": form.PARTY_TYPES, "buyer_party_type": form.PARTY_TYPES, "ip_type": form.IP_TYPES,
         "programme": form.PROGRAMMES, "seller_country": form.COUNTRIES, "buyer_country": form.COUNTRIES}
OUR_NUMBER = re.compile(r"^(\d{4})(\d{6})(\d{6})$")   # the numbers registry.next_number gives
INSERT_BATCH = 2000
# An unknown party becomes an organisation of this kind.
KIND_OF_PARTY = {"university": "university", "institute": "institute", "government": "government",
                 "public_other": "institute", "social": "agency", "other": "agency", "individual": "enterprise"}


def header(name: str) -> str:
    return f"{form.FIELD_NAMES[name]}（{name}）"


_BY_WORDS = {form.FIELD_NAMES[name]: name for name in COLUMNS}


def column_of(cell: str) -> str:
    """"登记号（registration_number）", "registration_number" or "登记号" all name the same column."""
    return field_of(cell, _BY_WORDS)


# ---------------------------------------------------------------- export


def registry_query(actor: Actor) -> Select:
    """The contracts an actor may export: a registrar's market, everything for a platform-wide one."""
    from matchmaker.identity.market import any_in_market

    query = select(Contract).order_by(Contract.signed_on, Contract.id)
    scope = any_in_market(actor, Contract.seller_region_code, Contract.buyer_region_code)
    return query if scope is None else query.where(scope)


def export_rows(session: Session, query: Select) -> Iterator[list[Any]]:
    """The contracts as spreadsheet rows (list values in the form's words, money as Decimal)."""
    _, fields = reference_lists(session)
    names: dict[int, str] = {}
    for batch in batched(session.scalars(query.execution_options(yield_per=1000)), 1000):
        wanted = {c.seller_id for c in batch} | {c.buyer_id for c in batch}
        names.update(dict(session.execute(select(Organisation.id, Organisation.name)
                                          .where(Organisation.id.in_(wanted - names.keys()))).all()))
        for contract in batch:
            yield [_cell(name, contract, names, fields) for name in COLUMNS]


def _cell(name: str, contract: Contract, names: dict[int, str], fields: dict[str, str]) -> Any:
    if name in ("seller_name", "buyer_name"):
        return names.get(getattr(contract, name.replace("_name", "_id")), "")
    value = getattr(contract, name)
    if name == "sub_type" and value:
        return form.SUBTYPES.get(contract.contract_type, {}).get(value, value)
    if name == "field_code" and value:
        return fields.get(value, value)
    if name in NAMED and value:
        return NAMED[name].get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def to_xlsx(rows: Iterator[list[Any]]) -> bytes:
    return write_workbook([header(name) for name in COLUMNS], rows, title="技术合同登记")


def to_csv(rows: Iterator[list[Any]]) -> bytes:
    """UTF-8 with a BOM (Chinese Excel reads it right); cells that Excel would run as formulas are escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header(name) for name in COLUMNS])
    for row in rows:
        writer.writerow([f"{cell:.2f}" if isinstance(cell, Decimal) else safe_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- import


@dataclass
class ImportedContracts:
    contracts: int
    new_organisations: int


def import_contracts(session: Session, *, actor: Actor | None, data: bytes, fmt: str,
                     today: dt.date | None = None) -> ImportedContracts:
    """Check every row, then write all of them in the caller's transaction, or raise ImportRejected with every
    problem (row, column, reason in Chinese). `actor` None is the command line (an operator: the whole platform)."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    rows = list(_read(data, fmt, problems))
    regions, fields = reference_lists(session)
    checked: list[tuple[int, dict[str, Any]]] = []
    seen_numbers: dict[str, int] = {}
    for line, cells in rows:
        if len(problems) >= MAX_PROBLEMS:
            break
        values = {name: cells.get(name, "") for name in COLUMNS}
        columns, found = form.check(values, regions=regions, fields=fields, today=today)
        found += [(name, f"请填写{form.FIELD_NAMES[name]}") for name in ("seller_name", "buyer_name")
                  if not values[name].strip()]
        found += _registration_problems(values, columns, seen_numbers, line)
        if actor is not None and not any(in_market(actor, columns.get(f"{side}_region_code"))
                                         for side in ("seller", "buyer")):
            found.append(("seller_region_code", "买卖双方都不在您负责的地区，请由双方所在地的登记机构导入"))
        problems += [Problem(line, name, reason) for name, reason in found]
        columns.update(seller_name=values["seller_name"].strip(), buyer_name=values["buyer_name"].strip())
        checked.append((line, columns))
    taken = _numbers_taken(session, list(seen_numbers))
    problems += [Problem(seen_numbers[number], "registration_number", f"登记号 {number} 已在平台上登记过，不能重复导入")
                 for number in taken]
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.line)[:MAX_PROBLEMS])
    created = _write(session, [columns for _, columns in checked], today)
    return ImportedContracts(len(checked), created)


def _registration_problems(values: dict, columns: dict, seen: dict[str, int], line: int) -> list[tuple[str, str]]:
    number = values["registration_number"].strip()
    problems = []
    registered_on = values["registered_on"].strip()
    if not number:
        if registered_on:
            problems.append(("registration_number", "填写了登记日期却没有登记号；未登记的合同两项都不填"))
        columns["registration_number"] = columns["registered_on"] = None
        return problems
    if len(number) > 40 or re.search(r"\s", number):
        problems.append(("registration_number", f"“{number}”不是登记号：不超过 40 个字符，中间不能有空格"))
    elif number in seen:
        problems.append(("registration_number", f"登记号 {number} 在第 {seen[number]} 行已出现过"))
    else:
        seen[number] = line
    columns["registration_number"] = number
    try:
        columns["registered_on"] = dt.date.fromisoformat(registered_on.replace("/", "-")[:10])
    except ValueError:
        problems.append(("registered_on", "有登记号的合同须填写登记日期（例如 2026-05-01）" if not registered_on
                         else f"“{registered_on}”不是日期，请写成 2026-05-01 的格式"))
        columns["registered_on"] = None
    if columns["registered_on"] and columns.get("signed_on") and columns["registered_on"] < columns["signed_on"]:
        problems.append(("registered_on", "登记日期早于签订日期；合同签订后才能登记"))
    ours = OUR_NUMBER.match(number)
    columns["registration_office"] = ours.group(2) if ours else None
    return problems


def _numbers_taken(session: Session, numbers: list[str]) -> list[str]:
    taken = []
    for batch in batched(iter(numbers), 500):
        taken += session.scalars(select(Contract.registration_number)
                                 .where(Contract.registration_number.in_(batch))).all()
    return taken


def _write(session: Session, rows: list[dict[str, Any]], today: dt.date) -> int:
    """Insert the contracts (and the parties the platform did not know) in batches; returns how many parties
    were new. Numbers in this platform's pattern move their office's sequence past them, so the next number the
    registrar gives does not collide with an imported one."""
    wanted = {row["seller_name"] for row in rows} | {row["buyer_name"] for row in rows}
    known: dict[str, int] = {}
    for batch in batched(iter(wanted), 500):
        known.update({name: oid for oid, name in session.execute(
            select(func.min(Organisation.id), Organisation.name).where(Organisation.name.in_(batch))
            .group_by(Organisation.name)).all()})
    new = {}
    for row in rows:
        for side in ("seller", "buyer"):
            name = row[f"{side}_name"]
            if name not in known and name not in new:
                new[name] = {"name": name, "kind": KIND_OF_PARTY.get(row[f"{side}_party_type"], "enterprise"),
                             "region_code": row[f"{side}_region_code"], "status": v.OrganisationStatus.ACTIVE.value}
    for organisation in new.values():
        known[organisation["name"]] = session.scalar(insert(Organisation).values(**organisation)
                                                     .returning(Organisation.id))
    now = dt.datetime.now(dt.UTC)
    records = []
    for row in rows:
        record = {k: val for k, val in row.items() if k not in ("seller_name", "buyer_name")}
        record.update(seller_id=known[row["seller_name"]], buyer_id=known[row["buyer_name"]], created_at=now,
                      updated_at=now)
        record.setdefault("registration_office", None)
        records.append(record)
    for batch in batched(iter(records), INSERT_BATCH):
        session.execute(insert(Contract), batch)
    _move_sequences(session, rows)
    return len(new)


def _move_sequences(session: Session, rows: list[dict[str, Any]]) -> None:
    from matchmaker.brokerage.registry import next_number   # creates the (office, year) row when missing

    highest: dict[tuple[str, int], int] = {}
    for row in rows:
        found = OUR_NUMBER.match(row.get("registration_number") or "")
        if found:
            key = (found.group(2), int(found.group(1)))
            highest[key] = max(highest.get(key, 0), int(found.group(3)))
    for (office, year), serial in highest.items():
        next_number(session, office, year)   # ensures the row; the number taken is overwritten just below
        session.execute(update(RegistrationSequence)
                        .where(RegistrationSequence.office_code == office, RegistrationSequence.year == year,
                               RegistrationSequence.last < serial).values(last=serial))


def _read(data: bytes, fmt: str, problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as Excel shows it, {column: text}) per filled row; a bad file or header is one problem."""
    if fmt == "xlsx":
        try:
            sheet = sheet_rows(data)
        except ValueError:
            problems.append(Problem(1, "$", "不是能读取的 .xlsx 工作簿；请在 Excel 或 WPS 中另存为 .xlsx 后再上传"))
            return
        head = ["" if cell is None else str(cell) for cell in sheet[0]] if sheet else []
        names = [column_of(cell) for cell in head]
        body = [[cell_text(name, cell) for name, cell in zip(names, row, strict=False)] for row in sheet[1:]]
    elif fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                problems.append(Problem(1, "$", "文件既不是 UTF-8 也不是 GBK 编码；请在 Excel 中另存为“CSV UTF-8”"))
                return
        table = [[unescape_cell(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
        head, body = (table[0], table[1:]) if table else ([], [])
        names = [column_of(cell) for cell in head]
    else:
        problems.append(Problem(1, "$", "只支持 .xlsx 和 .csv 文件"))
        return
    while names and names[-1] == "":
        names.pop()
    if not names:
        problems.append(Problem(1, "$", "文件是空的：第一行应是表头，之后每行一份合同"))
        return
    unknown = [cell for cell, name in zip(head, names, strict=False) if name not in COLUMNS]
    missing = sorted(REQUIRED - set(names), key=COLUMNS.index)
    if unknown:
        problems.append(Problem(1, "$", f"不认识的列：{'、'.join(unknown)}；请使用导出文件的表头"))
    if missing:
        problems.append(Problem(1, "$", f"缺少必填的列：{'、'.join(header(n) for n in missing)}"))
    if unknown or missing:
        return
    for number, cells in enumerate(body, start=2):
        if any(str(cell).strip() for cell in cells):
            yield number, {name: str(cell) for name, cell in zip(names, cells, strict=False)}


class RegistryImportRefused(InvalidInput):
    """A registry file with problems: nothing was imported. Keeps them by row for the page's report."""

    def __init__(self, found: list[Problem]) -> None:
        super().__init__(f"文件中有 {len(found)} 处问题，没有导入任何合同",
                         problems=[FieldProblem(p.field, f"第 {p.line} 行：{p.reason}") for p in found])
        self.found = found


def import_as_registrar(session: Session, *, actor: Actor, data: bytes, fmt: str) -> ImportedContracts:
    """A registrar (an analyst of a market, or an admin) imports contracts of its region."""
    if actor.role not in REGISTRARS:
        raise Forbidden("只有技术合同登记机构（科技管理部门）可以批量导入合同")
    try:
        return import_contracts(session, actor=actor, data=data, fmt=fmt)
    except ImportRejected as rejected:
        raise RegistryImportRefused(rejected.problems) from None


def export_as_registrar(session: Session, *, actor: Actor, fmt: str) -> tuple[bytes, int]:
    if actor.role not in REGISTRARS:
        raise Forbidden("只有技术合同登记机构（科技管理部门）可以导出登记台账")
    rows = list(export_rows(session, registry_query(actor)))
    return (to_csv(iter(rows)) if fmt == "csv" else to_xlsx(iter(rows))), len(rows)
