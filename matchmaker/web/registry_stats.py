"""The analysts' page of registry statistics: registered contracts by quarter and year, by region and field, and the
technology flows, with date and region filters, and the same tables as an .xlsx for the authorities."""

from __future__ import annotations

import datetime as dt

from litestar import Request, Response, get
from litestar.response import Template
from sqlalchemy.orm import Session

from matchmaker.analytics.registry_report import CONTRACT_TYPES, PLACE_NAMES, PLACES, registry_report, report_title, workbook
from matchmaker.catalog import directory
from matchmaker.errors import DomainError, Forbidden
from matchmaker.identity import audit
from matchmaker.identity.market import market_of, narrow_region
from matchmaker.identity.services import Actor
from matchmaker.web.forms import field_problems
from matchmaker.web.spreadsheets import XLSX
from matchmaker.web.views import render

ANALYSTS = ("analyst", "admin")


def _filters(actor: Actor, date_from: str | None, date_to: str | None, region: str | None) -> tuple[dict, dict]:
    """The page's filters as typed, and as the report takes them; a date that is not one is a problem, in Chinese."""
    if actor.role.value not in ANALYSTS:
        raise Forbidden("合同登记统计面向科技管理部门")
    shown = {"date_from": date_from or "", "date_to": date_to or "", "region": region or ""}
    problems = {}
    days = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value:
            try:
                days[name] = dt.date.fromisoformat(value)
            except ValueError:
                problems[name] = "请按 2026-01-01 的格式填写日期"
    if not problems and days.get("date_from") and days.get("date_to") and days["date_from"] > days["date_to"]:
        problems["date_to"] = "结束日期早于开始日期，请改正"
    return shown, {"problems": problems, "date_from": days.get("date_from"), "date_to": days.get("date_to"),
                   "region": region or None}


@get("/registry-stats", sync_to_thread=True)
def statistics(request: Request, actor: Actor, session: Session, date_from: str | None = None,
               date_to: str | None = None, region: str | None = None) -> Template:
    shown, asked = _filters(actor, date_from, date_to, region)
    problems = asked.pop("problems")
    report = None
    with session.begin():
        choices = _region_choices(session, actor)
        if not problems:
            try:
                report = registry_report(session, date_from=asked["date_from"], date_to=asked["date_to"],
                                         region=narrow_region(actor, asked["region"]))
            except DomainError as error:
                problems = field_problems(error)
    return render(request, "registry_stats.html", status_code=422 if problems else 200, report=report, form=shown,
                  problems=problems, regions=choices, types=CONTRACT_TYPES, places=PLACES, place_names=PLACE_NAMES,
                  query=request.url.query)


@get("/registry-stats.xlsx", sync_to_thread=True)
def statistics_workbook(actor: Actor, session: Session, date_from: str | None = None, date_to: str | None = None,
                        region: str | None = None) -> Response:
    _, asked = _filters(actor, date_from, date_to, region)
    if asked.pop("problems"):
        asked.update(date_from=None, date_to=None)
    with session.begin():
        scope = narrow_region(actor, asked["region"])
        report = registry_report(session, date_from=asked["date_from"], date_to=asked["date_to"], region=scope)
        name = directory.region_names(session, [scope]).get(scope) if scope else None
        audit.record(session, audit.EXPORTED, actor=actor, subject="analytics:registry", format="xlsx", via="page")
    return Response(workbook(report, title=report_title(report, name)), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="registry-statistics.xlsx"'})


def _region_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The regions an analyst may narrow to: the provinces (a platform-wide analyst), or its market's cities."""
    market = market_of(actor)
    if market is None:
        return [(r.code, r.name) for r in directory.list_regions(session)]
    cities = directory.list_regions(session, parent=market.code[:2] + "0000", level="city")
    return [(market.code, directory.region_names(session, [market.code]).get(market.code, market.code))] + \
        [(c.code, c.name) for c in cities if c.code.startswith(market.prefix) and c.code != market.code]


HANDLERS = [statistics, statistics_workbook]
