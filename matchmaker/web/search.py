"""Search across both libraries with field, region, TRL and status filters, paged."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog import directory
from matchmaker.catalog import services as catalog
from matchmaker.catalog.services import ListQuery
from matchmaker.catalog.specs import LIBRARIES
from matchmaker.errors import DomainError
from matchmaker.identity.services import Actor
from matchmaker.web.forms import field_problems
from matchmaker.web.views import Pager, page_number, render

SEARCH_PAGE = 20


def int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@get("/search", sync_to_thread=True)
def search(request: Request, actor: Actor, session: Session, library: str = "achievements", q: str = "",
           field: str = "", region: str = "", trl_min: str = "", trl_max: str = "", status: str = "",
           page: str | None = None) -> Template:
    library = library if library in v.values(v.Library) else "achievements"
    spec = LIBRARIES[v.Library(library)]
    number = page_number(page)
    params = {"library": library, "q": q.strip(), "field": field, "region": region, "trl_min": trl_min,
              "trl_max": trl_max, "status": status}
    statuses = v.values(v.AchievementStatus if library == "achievements" else v.DemandStatus)
    query = ListQuery(field=field or None, region=region or None, trl_min=int_or_none(trl_min),
                      trl_max=int_or_none(trl_max), status=status if status in statuses else None,
                      q=q.strip() or None, limit=SEARCH_PAGE, offset=(number - 1) * SEARCH_PAGE)
    rows, total, problems = [], 0, {}
    with session.begin():
        try:
            rows, total = catalog.list_records(session, actor=actor, spec=spec, query=query)
        except DomainError as error:
            problems = field_problems(error)
        owners = directory.organisation_names(session, (r.organisation_id for r in rows))
        fields = directory.list_fields(session)
        provinces = directory.list_regions(session)
        cities = directory.list_regions(session, level="city")
    region_names = {r.code: r.name for r in [*provinces, *cities]}
    return render(request, "search.html", rows=rows, owners=owners, params=params, statuses=statuses,
                fields=fields, field_names={f.code: f.name for f in fields}, provinces=provinces, cities=cities,
                region_names=region_names, problems=problems, spec=spec,
                pager=Pager(total, number, SEARCH_PAGE, params, capped=True))


HANDLERS = [search]
