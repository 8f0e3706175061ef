"""The public storefront (no login): the home page with this year's figures, browsing and searching the published
achievements and demands, the open challenges (揭榜挂帅) and organisations' pages. Server-rendered, with canonical
addresses and titles so search engines index them; /sitemap.xml lists them (web/setup.py)."""

from __future__ import annotations

import threading
import time

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.analytics.headline import Headline, headline
from matchmaker.catalog import directory, evaluations, storefront
from matchmaker.catalog.services import ListQuery
from matchmaker.catalog.specs import LIBRARIES
from matchmaker.errors import DomainError, NotFound
from matchmaker.trading import challenges as challenges_service
from matchmaker.web.search import int_or_none
from matchmaker.web.views import HOME, Pager, page_number, render

PAGE = 20
FIGURES_SECONDS = 300   # the headline figures move with signed contracts, not by the second: one query per 5 min
_figures: dict[str, tuple[float, Headline]] = {}
_figures_lock = threading.Lock()
LIBRARY_WORDS = {"achievements": "科技成果", "demands": "技术需求"}


def _headline(session: Session) -> Headline:
    with _figures_lock:
        cached = _figures.get("now")
        if cached and time.monotonic() - cached[0] < FIGURES_SECONDS:
            return cached[1]
    figures = headline(session)
    with _figures_lock:
        _figures["now"] = (time.monotonic(), figures)
    return figures


def _public(request: Request, template: str, **context) -> Template:
    """A public page: its canonical address (the configured public URL, path, and the query that selects it)."""
    query = context.pop("canonical_query", "")
    canonical = request.app.state.settings.public_url + request.url.path + (f"?{query}" if query else "")
    me = (request.session or {}).get("me") if "session" in request.scope else None
    return render(request, template, canonical=canonical, workspace=HOME.get(me["role"]) if me else None, **context)


@get("/", exclude_from_auth=True, sync_to_thread=True)
def home(request: Request, session: Session) -> Template:
    with session.begin():
        figures = _headline(session)
        achievements, _ = storefront.published(session, LIBRARIES[v.Library.ACHIEVEMENTS], ListQuery(limit=6),
                                               counted=False)
        demands, _ = storefront.published(session, LIBRARIES[v.Library.DEMANDS], ListQuery(limit=6), counted=False)
        challenges, challenge_total = storefront.open_challenges(session, limit=4)
        totals = storefront.counts(session)
        owners = directory.organisation_names(session, (r.organisation_id for r in [*achievements, *demands, *challenges]))
    return _public(request, "storefront.html", figures=figures, achievements=achievements, demands=demands,
                   challenges=challenges, challenge_total=challenge_total, totals=totals, owners=owners)


@get("/market/{library:str}", exclude_from_auth=True, sync_to_thread=True)
def browse(request: Request, session: Session, library: str, q: str = "", field: str = "", region: str = "",
           trl_min: str = "", trl_max: str = "", page: str | None = None) -> Template:
    if library == "challenges":
        return challenges(request, session, page)
    if library not in LIBRARY_WORDS:
        raise NotFound("没有这个栏目")
    spec = LIBRARIES[v.Library(library)]
    number = page_number(page)
    params = {"q": q.strip()[:100], "field": field, "region": region, "trl_min": trl_min, "trl_max": trl_max}
    low, high = int_or_none(trl_min), int_or_none(trl_max)
    if low is not None and high is not None and low > high:
        low, high = high, low   # a reversed range is read the way it was meant
    query = ListQuery(field=field or None, region=region if region.isdigit() and len(region) == 6 else None,
                      trl_min=low, trl_max=high, q=params["q"] or None, limit=PAGE, offset=(number - 1) * PAGE)
    with session.begin():
        try:
            rows, total = storefront.published(session, spec, query)
        except DomainError:
            rows, total = [], 0
        owners = directory.organisation_names(session, (r.organisation_id for r in rows))
        provinces = directory.list_regions(session)
        cities = directory.list_regions(session, level="city")
    region_names = {r.code: r.name for r in [*provinces, *cities]}
    canonical = "&".join(f"{k}={val}" for k, val in params.items() if val)
    return _public(request, "market_list.html", library=library, noun=LIBRARY_WORDS[library], rows=rows, owners=owners,
                   params=params, provinces=provinces, cities=cities, region_names=region_names, total=total,
                   fields=directory.list_fields(session), pager=Pager(total, number, PAGE, params, capped=True),
                   canonical_query=canonical)


def challenges(request: Request, session: Session, page: str | None) -> Template:
    number = page_number(page)
    with session.begin():
        rows, total = storefront.open_challenges(session, limit=PAGE, offset=(number - 1) * PAGE)
        owners = directory.organisation_names(session, (r.organisation_id for r in rows))
    return _public(request, "market_challenges.html", rows=rows, owners=owners, total=total,
                   pager=Pager(total, number, PAGE, {}))


@get("/market/{library:str}/{record_id:int}", exclude_from_auth=True, sync_to_thread=True)
def record(request: Request, session: Session, library: str, record_id: int) -> Template:
    if library == "organisations":
        return organisation(request, session, record_id)
    if library == "challenges":
        return challenge(request, session, record_id)
    if library not in LIBRARY_WORDS:
        raise NotFound("没有这个栏目")
    spec = LIBRARIES[v.Library(library)]
    with session.begin():
        row = storefront.published_record(session, spec, record_id)
        owner = directory.organisation_names(session, [row.organisation_id]).get(row.organisation_id)
        region = directory.region_names(session, [row.region_code]).get(row.region_code)
        ip_records = [(ip.ip_type, ip.number) for ip in row.ip_records] if library == "achievements" else []
        reports = evaluations.latest_first(session, row.id) if library == "achievements" else []
        evaluators = directory.organisation_names(session, {r.evaluator_id for r in reports})
    return _public(request, "market_record.html", library=library, noun=LIBRARY_WORDS[library], record=row,
                   owner=owner, region=region, ip_records=ip_records, evaluations=reports, evaluators=evaluators)


def challenge(request: Request, session: Session, challenge_id: int) -> Template:
    with session.begin():
        row = storefront.public_challenge(session, challenge_id)
        owners = directory.organisation_names(session, [row.organisation_id, row.on_behalf_of_id])
    return _public(request, "market_challenge.html", challenge=row, owners=owners,
                   phase_name=challenges_service.PHASE_NAMES[challenges_service.phase(row)])


def organisation(request: Request, session: Session, organisation_id: int) -> Template:
    with session.begin():
        profile = storefront.organisation_profile(session, organisation_id)
        region = directory.region_names(session, [profile.organisation.region_code]).get(profile.organisation.region_code)
    return _public(request, "market_organisation.html", profile=profile, region=region)


HANDLERS = [home, browse, record]
