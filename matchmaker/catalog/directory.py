"""The directory: organisations, regions and technology fields, as the API and pages list and name them."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog.references import reference_problems
from matchmaker.catalog.schemas import OrganisationIn
from matchmaker.catalog.services import ListQuery, check_list_query
from matchmaker.db import paged
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.market import market_condition
from matchmaker.identity.services import Actor
from matchmaker.models import (
    Organisation,
    Region,
    TechnologyField,
)
from matchmaker.regions import RegionCode



def _visible_organisations(actor: Actor | None):
    """Which organisations' records an actor may read: a city analyst only its market's; applicants under review
    (and rejected ones) only admins and the reviewers of their region."""
    if actor is None or actor.role is v.Role.ADMIN:
        return None
    scope = market_condition(actor, Organisation.region_code)
    if scope is not None:
        return scope
    if actor.role is v.Role.ANALYST:
        return None
    return Organisation.status == v.OrganisationStatus.ACTIVE.value


def list_organisations(session: Session, *, kind: str | None = None, region: str | None = None, q: str | None = None,
                       limit: int = 20, offset: int = 0, actor: Actor | None = None) -> tuple[list[Organisation], int]:
    check_list_query(ListQuery(region=region, limit=limit, offset=offset))
    statement = select(Organisation)
    visible = _visible_organisations(actor)
    if visible is not None:
        statement = statement.where(visible)
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    if region is not None:
        statement = statement.where(RegionCode(region).condition(Organisation.region_code))
    if q:
        statement = statement.where(Organisation.name.contains(q, autoescape=True))
    rows, total = paged(session, statement.order_by(Organisation.id), limit=limit, offset=offset)
    return [row[0] for row in rows], total


def get_organisation(session: Session, *, organisation_id: int, actor: Actor | None = None) -> Organisation:
    statement = select(Organisation).where(Organisation.id == organisation_id)
    visible = _visible_organisations(actor)
    organisation = session.scalar(statement if visible is None else statement.where(visible))
    if organisation is None:
        raise NotFound("找不到这家单位：它可能不存在，或您没有查看权限。请返回单位列表重新查找。")
    return organisation


def create_organisation(session: Session, *, actor: Actor, data: OrganisationIn) -> Organisation:
    """Admins register organisations; ids and credit codes must be new."""
    if actor.role is not v.Role.ADMIN:
        raise Forbidden("只有平台管理员可以登记单位；如需新增单位，请联系平台管理员。")
    problems = reference_problems(session, region=data.region)
    if problems:
        raise InvalidInput.of(problems)
    if data.id is not None and session.scalar(select(Organisation.id).where(Organisation.external_id == data.id)):
        reason = f"单位编号“{data.id}”已被平台上的另一家单位使用，请换一个编号，或不填由平台分配。"
        raise Conflict.on("id", reason)
    if data.credit_code is not None and session.scalar(select(Organisation.id).where(Organisation.credit_code == data.credit_code)):
        reason = f"统一社会信用代码 {data.credit_code} 已属于平台上的另一家单位，请核对代码，或在单位列表中查找该单位。"
        raise Conflict.on("credit_code", reason)
    organisation = Organisation(
        external_id=data.id, name=data.name, kind=data.kind.value, credit_code=data.credit_code,
        region_code=data.region, size=data.size.value if data.size else None, high_tech=data.high_tech,
        industry=data.industry,
    )
    session.add(organisation)
    session.flush()
    return organisation


def list_regions(session: Session, *, parent: str | None = None, level: str | None = None) -> list[Region]:
    """Provinces by default; a parent code lists its cities (or a city's counties)."""
    statement = select(Region)
    if parent is not None:
        statement = statement.where(Region.parent_code == parent)
    elif level is None:
        statement = statement.where(Region.level == "province")
    if level is not None:
        statement = statement.where(Region.level == level)
    return list(session.scalars(statement.order_by(Region.code)))


def list_fields(session: Session) -> list[TechnologyField]:
    return list(session.scalars(select(TechnologyField).order_by(TechnologyField.code)))


_FIELD_NAMES_LOCK = threading.Lock()


def field_names(state) -> dict[str, str]:
    """Technology field code → name, read once per process (reference data changes only with a deploy): pages name
    fields on every screen, and every match's explanation names two."""
    with _FIELD_NAMES_LOCK:
        names = state.get("field_names")
        if names is None:
            with state.session_factory() as session:
                names = {f.code: f.name for f in list_fields(session)}
            state.field_names = names
        return names


def organisation_names(session: Session, ids) -> dict[int, str]:
    """Names of the given organisations, in one query (pages show owners and parties by name)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))).all())




def region_names(session: Session, codes) -> dict[str, str]:
    """Names of the given regions, in one query."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all())


def host(session: Session) -> dict[str, str]:
    """The department that runs the platform (the first government organisation) and its market's name, e.g.
    {"department": "辽宁省科学技术厅", "market": "辽宁科技大市场"}; the platform's own words when there is none."""
    department = session.scalar(select(Organisation).where(Organisation.kind == "government")
                                .order_by(Organisation.id).limit(1))
    if department is None:
        return {"department": "科学技术管理部门", "market": "科技成果转化供需对接平台"}
    region = session.get(Region, department.region_code) if department.region_code else None
    place = (region.name if region else "").removesuffix("省").removesuffix("市").removesuffix("自治区")
    return {"department": department.name, "market": f"{place}科技大市场" if place else "科技成果转化供需对接平台"}
