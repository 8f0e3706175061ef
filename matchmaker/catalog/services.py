"""Postings (lists, reads, creation, edits, bulk import), their expiry and change log; organisations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import msgspec
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from matchmaker import regions
from matchmaker import vocabulary as v
from matchmaker.api.params import MAX_LIMIT, SORT_KEYS
from matchmaker.catalog.access import is_visible, may_edit, visible_parts
from matchmaker.catalog.expiry import expire_overdue, expiry_asked, log_index_change, record_and_first_lapsed
from matchmaker.catalog.io.read import FORMATS
from matchmaker.catalog.io.validate import WHOLE_FILE, ImportRejected, ProblemLog, Row
from matchmaker.catalog.io.write import import_rows
from matchmaker.catalog.schemas import AchievementUpdate, DemandUpdate, record_problems
from matchmaker.catalog.references import reference_problems
from matchmaker.catalog.specs import (
    ACHIEVEMENTS,
    COLUMN_OF,
    DRAFT,
    EDITABLE,
    PENDING,
    PUBLISHED,
    UNPUBLISHED,
    LibrarySpec,
    column_values,
)
from matchmaker import db
from matchmaker.db import paged
from matchmaker.errors import Conflict, DomainError, FieldProblem, Forbidden, InvalidInput, NotFound
from matchmaker.identity import audit
from matchmaker.identity.services import Actor
from matchmaker.models import (
    IPRecord,
    Organisation,
)
from matchmaker.regions import RegionCode


# ---------------------------------------------------------------- one posting


def get_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int, today: dt.date | None = None):
    """One posting the actor may see; 404 when it does not exist or is private to others."""
    today = today or dt.date.today()
    if expiry_asked(session, today):
        record = session.get(spec.model, record_id)
    else:
        # The expiry check's question rides on the record's own read: one round trip where there were two, on
        # every read of a posting and every match request (benchmarks/speed/README.md). Only when something has
        # lapsed does the check write anything, and the record is read again after it.
        found = session.execute(record_and_first_lapsed(spec.library, today), {"record_id": record_id}).first()
        record = found[0] if found else None
        # No row, no answers: the check asks them itself.
        if expire_overdue(session, today=today, answers=found[1:] if found else None) and record is not None:
            session.refresh(record)
    if record is None or not is_visible(actor, record):
        raise NotFound(f"找不到这条{spec.words}：它可能已被删除，或您没有查看权限。请返回列表重新查找。")
    return record


def read_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int, today: dt.date | None = None):
    """`get_record` for a request that only reads the posting, in transactions of its own. The record and the
    expiry check's question are read outside a transaction: one round trip on PostgreSQL where BEGIN, SELECT and
    COMMIT were three, before every match request (benchmarks/speed/README.md). Only when something has lapsed,
    or the record is not there, does `get_record` run in a transaction, where the check's writes commit together."""
    today = today or dt.date.today()
    with session.begin():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        found = session.execute(record_and_first_lapsed(spec.library, today), {"record_id": record_id}).first()
    if found is not None and all(due is None for due in found[1:]) and is_visible(actor, found[0]):
        return found[0]
    with session.begin():
        return get_record(session, actor=actor, spec=spec, record_id=record_id, today=today)


def editable_record(session: Session, actor: Actor, spec: LibrarySpec, record_id: int):
    """One posting the actor may change; 403 when they may only see it."""
    record = get_record(session, actor=actor, spec=spec, record_id=record_id)
    if not may_edit(actor, spec, record):
        raise Forbidden(f"只有发布这条{spec.words}的{v.ROLE_NAMES[spec.owner_role]}或平台管理员可以修改它；"
                        "如需改动，请联系发布单位。")
    return record


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class ListQuery:
    """Filters, sort and page of a library list; None means no restriction."""

    field: str | None = None
    region: str | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    status: str | None = None
    organisation_id: int | None = None
    q: str | None = None
    sort: str = "-posted_on"
    limit: int = 20
    offset: int = 0
    revision: bool = False   # only published postings with changes waiting for review


def list_records(session: Session, *, actor: Actor, spec: LibrarySpec, query: ListQuery,
                 today: dt.date | None = None) -> tuple[list, int]:
    """A page of the postings the actor may see, and how many there are in all (COUNT_CAP + 1: more than COUNT_CAP)."""
    check_list_query(query)
    expire_overdue(session, today=today)
    filtered = apply_filters(select(spec.model), spec, query)
    parts = visible_parts(actor, spec.model)
    statement = filtered if parts is None else filtered.where(or_(*parts))
    # The page's children in one query (a row's IP records were a query each: 20 a page).
    statement = statement.options(*(selectinload(getattr(spec.model, c)) for c in spec.children))
    rows, total = paged(session, apply_sort(statement, spec, query.sort), limit=query.limit, offset=query.offset,
                        counted_parts=None if parts is None else [filtered.where(part) for part in parts],
                        count_cap=db.COUNT_CAP)
    return [row[0] for row in rows], total


def check_list_query(query: ListQuery) -> None:
    if not 1 <= query.limit <= MAX_LIMIT:
        reason = f"每页条数应在 1 到 {MAX_LIMIT} 之间，请调整后重试。"
        raise DomainError.on("limit", reason)
    if query.offset < 0:
        reason = "起始位置不能为负数，请从 0 开始。"
        raise DomainError.on("offset", reason)
    if query.region is not None and not regions.CODE.match(query.region):
        raise DomainError.on("region", regions.malformed_region(query.region))
    if query.trl_min is not None and query.trl_max is not None and query.trl_min > query.trl_max:
        raise InvalidInput.on("trl_min", "技术成熟度的下限不能高于上限，请调换两者或放宽其中一个")   # well-formed, contradictory: 422
    if query.sort.lstrip("-") not in SORT_KEYS:
        reason = f"无法按“{query.sort}”排序，请改按发布日期、更新时间、技术成熟度或价格排序。"
        raise DomainError.on("sort", reason)


def apply_filters(statement: Select, spec: LibrarySpec, query: ListQuery) -> Select:
    model = spec.model
    trl = spec.column(spec.trl_column)
    if query.field is not None:
        statement = statement.where(model.field_code == query.field)
    if query.region is not None:
        statement = statement.where(RegionCode(query.region).condition(model.region_code))
    if query.trl_min is not None:
        statement = statement.where(trl >= query.trl_min)
    if query.trl_max is not None:
        statement = statement.where(trl <= query.trl_max)
    if query.status is not None:
        statement = statement.where(model.status == query.status)
    if query.organisation_id is not None:
        statement = statement.where(model.organisation_id == query.organisation_id)
    if query.revision:
        statement = statement.where(model.pending_changes.is_not(None))
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(*(spec.column(c).like(pattern, escape="\\") for c in spec.search_columns)))
    return statement


def apply_sort(statement: Select, spec: LibrarySpec, sort: str) -> Select:
    key = sort.lstrip("-")
    column = {"posted_on": spec.model.posted_on, "updated_at": spec.model.updated_at,
              "trl": spec.column(spec.trl_column), "price": spec.column(spec.price_column)}[key]
    ordered = column.desc() if sort.startswith("-") else column.asc()
    # Records without the value go last either way; the id keeps pages stable between calls.
    return statement.order_by(ordered.nulls_last(), spec.model.id.desc() if sort.startswith("-") else spec.model.id)


# ---------------------------------------------------------------- create and update


def create_record(session: Session, *, actor: Actor, spec: LibrarySpec, data: msgspec.Struct):
    """A new draft posting owned by the caller's organisation (admins name the organisation)."""
    if actor.role not in (spec.owner_role, v.Role.ADMIN):
        raise Forbidden(f"只有{v.ROLE_NAMES[spec.owner_role]}或平台管理员可以发布{spec.words}，您的账号不能发布。")
    owner = _owner_of_new_record(session, actor, data.organisation_id)
    values = {name: getattr(data, name) for name in data.__struct_fields__ if name != "organisation_id"}
    _check_record(session, spec, SimpleNamespace(**(dict.fromkeys(spec.schema.__struct_fields__) | values)))
    record = spec.model(**_columns(spec, values), organisation_id=owner, status=DRAFT)
    session.add(record)
    session.flush()
    return record


def _owner_of_new_record(session: Session, actor: Actor, organisation_id: int | None) -> int:
    if actor.role is not v.Role.ADMIN:
        if organisation_id not in (None, actor.organisation_id):
            raise Forbidden("只能以本单位的名义发布信息，请不要指定其他单位。")
        return actor.organisation_id
    if organisation_id is None:
        raise InvalidInput.on("organisation_id", "平台管理员代为发布时，请指明发布单位。")
    if session.get(Organisation, organisation_id) is None:
        raise InvalidInput.on("organisation_id", "找不到所指明的发布单位，请核对后重新选择。")
    return organisation_id


UPDATE_SCHEMAS = {"achievements": AchievementUpdate, "demands": DemandUpdate}
# Changing these on a published posting is housekeeping, not content: it needs no new review (续期, a renewal).
HOUSEKEEPING = frozenset({"expires_on", "deadline"})


def update_record(session: Session, *, actor: Actor, spec: LibrarySpec, record_id: int, changes: msgspec.Struct):
    """Change the given fields of a draft, pending or published posting.

    A material change to a published posting by its owner waits for review in `pending_changes` while the approved
    version stays visible and matchable (review.approve_revision applies it). Admins' edits, and renewals, apply at
    once and are re-indexed.
    """
    record = editable_record(session, actor, spec, record_id)
    if record.status not in EDITABLE:
        state = v.STATUS_NAMES.get(record.status, "已关闭")
        raise Conflict(f"这条{spec.words}的状态是“{state}”，不能再修改；如有新的内容要发布，请新建一条{spec.words}。")
    given = {name: getattr(changes, name) for name in changes.__struct_fields__
             if getattr(changes, name) is not msgspec.UNSET}
    merged = {name: _schema_value(spec, record, name) for name in spec.schema.__struct_fields__}
    merged.update(record.pending_changes and _pending(spec, record) or {})
    merged.update(given)
    _check_record(session, spec, SimpleNamespace(**merged), only=set(given))
    if record.status == PUBLISHED and not actor.is_(v.Role.ADMIN) and set(given) - HOUSEKEEPING:
        material = {k: val for k, val in given.items() if k not in HOUSEKEEPING}
        record.pending_changes = {**(record.pending_changes or {}), **msgspec.to_builtins(material)}
        given = {k: val for k, val in given.items() if k in HOUSEKEEPING}
        audit.record(session, audit.PUBLISHED_EDIT, actor=actor, subject=f"{spec.noun}:{record.id}",
                     fields=sorted(material), pending=True)
    elif record.status == PUBLISHED:
        audit.record(session, audit.PUBLISHED_EDIT, actor=actor, subject=f"{spec.noun}:{record.id}",
                     fields=sorted(given), pending=False)
    for column, value in _columns(spec, given).items():
        setattr(record, column, value)
    if record.status == PUBLISHED and given:
        log_index_change(session, spec, record.id)
    session.flush()
    return record


def _pending(spec: LibrarySpec, record) -> dict[str, Any]:
    """The waiting changes as schema values (they are stored as JSON)."""
    update = UPDATE_SCHEMAS[spec.name]
    converted = msgspec.convert(record.pending_changes, update)
    return {name: getattr(converted, name) for name in update.__struct_fields__
            if getattr(converted, name) is not msgspec.UNSET}


def apply_pending(session: Session, spec: LibrarySpec, record) -> None:
    """Make the waiting changes the posting's content (a reviewer approved them)."""
    for column, value in _columns(spec, _pending(spec, record)).items():
        setattr(record, column, value)
    record.pending_changes = None
    log_index_change(session, spec, record.id)


def _schema_value(spec: LibrarySpec, record, name: str):
    if name == "ip_records":
        return []
    return getattr(record, COLUMN_OF.get(name, name), None)


def _check_record(session: Session, spec: LibrarySpec, record: SimpleNamespace, only: set[str] | None = None) -> None:
    """The import's cross-field rules and reference checks, as 422s naming the field."""
    problems = [FieldProblem(name, reason) for name, reason in record_problems(spec.schema, record)]
    checked = (lambda name: getattr(record, name, None) is not None and (only is None or name in only))
    problems += reference_problems(session, field=record.field if checked("field") else None,
                                   region=record.region if checked("region") else None)
    # A posting's closing date is a promise about the future (an expiry of 2020-01-01 was once accepted); files
    # of historical records go through the import, which keeps their dates.
    date = spec.date_column
    if date and checked(date) and getattr(record, date) < dt.date.today():
        problems.append(FieldProblem(date, f"{spec.date_words} {getattr(record, date)} 已经过去，请填写今天或之后的日期"))
    if problems:
        raise InvalidInput.of(problems)


def _columns(spec: LibrarySpec, values: dict[str, Any]) -> dict[str, Any]:
    """Schema-named values as the ORM's attributes: the import's columns, and IP records as related rows."""
    columns = column_values(spec, values)
    if spec is ACHIEVEMENTS and "ip_records" in values:
        columns["ip_records"] = [IPRecord(ip_type=ip.ip_type.value, number=ip.number, status=ip.status.value)
                                 for ip in values["ip_records"]]
    return columns


# ---------------------------------------------------------------- bulk import


def import_records(session: Session, *, actor: Actor, spec: LibrarySpec, body: bytes, fmt: str) -> tuple[int, int]:
    """Validate every row with the CLI importer's checks, then insert all or none; returns (imported, published).

    Admins import as the CLI does (status as given, default published). Owners import their own
    organisation's postings, which go to review: a row may say draft or pending_review, nothing else.
    Imported rows are not pushed to inboxes: imports are backfills, and a push per row would flood them.
    """
    if actor.role not in (spec.owner_role, v.Role.ADMIN):
        raise Forbidden(f"只有{v.ROLE_NAMES[spec.owner_role]}或平台管理员可以导入{spec.words}，您的账号不能导入。")
    if fmt not in FORMATS:
        reason = "无法识别文件格式，请上传 CSV、Excel 或每行一条记录的 JSON 文件。"
        raise DomainError.on("format", reason)
    owner = None if actor.role is v.Role.ADMIN else actor.organisation_id

    # The API's own rules join the file's problems, so one answer lists them all before anything is written.
    def rules(rows: list[Row], problems: ProblemLog) -> None:
        if owner is not None:
            _own_rows_only(session, actor, rows, problems)
        if not rows and not problems.items:
            problems.add(WHOLE_FILE, "$", "文件中没有任何数据行，请在表头下面每行填一条记录后再上传")

    try:
        imported = import_rows(session.connection(), spec, body, fmt, owner=owner, check=rules, published=True)
    except ImportRejected as rejected:
        raise ImportRefused(rejected.problems) from None
    for key in imported.published:
        log_index_change(session, spec, key)
    session.flush()
    return imported.count, len(imported.published)


class ImportRefused(InvalidInput):
    """A file with problems: nothing was imported. Keeps the problems by line for a page's report."""

    def __init__(self, found: list) -> None:
        super().__init__(f"文件中有 {len(found)} 处问题，没有导入任何数据；请逐条改正后重新上传。",
                         problems=[FieldProblem(p.field, f"第 {p.line} 行：{p.reason}" if p.line
                                                else f"整个文件：{p.reason}") for p in found])
        self.found = found


def _own_rows_only(session: Session, actor: Actor, rows: list[Row], problems: ProblemLog) -> None:
    own = session.get(Organisation, actor.organisation_id).external_id
    for row in rows:
        if row.record is None:
            continue
        if row.record.organisation not in (None, own):
            problems.add(row.line, "organisation", f"只能导入本单位的信息，所属单位编号“{row.record.organisation}”"
                                                   "不是本单位；请把这一格留空（即为本单位）或删去这一行")
        if "status" not in row.values:
            row.record = msgspec.structs.replace(row.record, status=PENDING)
        elif row.record.status not in UNPUBLISHED:
            allowed = "或 ".join(f"{status}（{v.STATUS_NAMES[status]}）" for status in UNPUBLISHED)
            problems.add(row.line, "status", f"导入的信息要经审核才公开，状态不能是 {row.record.status}"
                                             f"（{v.STATUS_NAMES.get(row.record.status, '')}）；请留空，或填 {allowed}")
        if row.values.get("posted_on") is not None:   # set by the platform when a reviewer publishes (F7)
            problems.add(row.line, "posted_on", "发布日期由平台在审核通过时填写，请把这一格留空或删去这一列")
