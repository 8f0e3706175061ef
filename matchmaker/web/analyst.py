"""Analysts' pages: the market dashboard, the review queue for postings, and simulation runs with scenario comparison."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.analytics.funnel import funnel as deal_funnel
from matchmaker.analytics.league import broker_league
from matchmaker.analytics.local_conversion import local_conversion
from matchmaker.analytics.turnover import turnover as contract_turnover
from matchmaker.catalog import directory
from matchmaker.catalog import services as catalog
from matchmaker.catalog.access import may_review
from matchmaker.catalog.duplicates import likely_duplicates
from matchmaker.catalog.review import approve_record, reject_record
from matchmaker.catalog.services import ListQuery
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS, LIBRARIES, PENDING, PUBLISHED
from matchmaker.errors import DomainError, Forbidden, InvalidInput, NotFound
from matchmaker.jobs import enqueue, make_queue
from matchmaker.identity.market import narrow_region
from matchmaker.identity.services import Actor
from matchmaker.simulation import report as simulation_report
from matchmaker.simulation.runs import list_runs
from matchmaker.simulation import requests as simulation_requests
from matchmaker.simulation.scenarios import builtin_names, load_scenario
from matchmaker.web.forms import FormData, field_problems
from matchmaker.web.labels import label
from matchmaker.web.login import Form
from matchmaker.web.views import Pager, acted, flash, page_number, redirect, render

ANALYST_ROLES = (v.Role.ANALYST, v.Role.ADMIN)
REVIEW_PAGE = 20
TOP_REGIONS = 12


def _analyst_only(actor: Actor) -> None:
    if actor.role not in ANALYST_ROLES:
        raise Forbidden("运行监测和政策模拟面向科技管理部门")


# ---------------------------------------------------------------- dashboard


@get("/analyst", sync_to_thread=True)
def dashboard(request: Request, actor: Actor, session: Session) -> Template:
    """Turnover over time, local conversion, the funnel, regions and the broker league, from the analytics services."""
    _analyst_only(actor)
    market = narrow_region(actor, None)   # a city analyst's dashboard is its city's; a province's shows its cities
    level = "province" if market is None else "city"
    with session.begin():
        by_month = contract_turnover(session, by=("period",), period="month", region=market)
        by_region = contract_turnover(session, by=("region",), region_level=level, region=market)
        conversion = local_conversion(session, level=level, region=market)
        funnel = deal_funnel(session, region=market)
        league = broker_league(session, limit=10, region=market)
    regions = sorted(by_region.rows, key=lambda r: r.amount, reverse=True)[:TOP_REGIONS]
    charts = {
        "turnover": {"labels": [r.period for r in by_month.rows],
                     "amount": [float(r.amount) / 10_000 for r in by_month.rows],
                     "contracts": [r.contracts for r in by_month.rows]},
        "regions": {"labels": [r.region_name or r.region_code or "未知" for r in regions],
                    "amount": [float(r.amount) / 10_000 for r in regions]},
        "conversion": {"labels": [r.region_name or r.region_code for r in conversion.rows],
                       "rate": [round((r.rate_by_count or 0) * 100, 1) for r in conversion.rows]},
        "funnel": {"labels": [_funnel_label(s.stage) for s in funnel.steps], "count": [s.count for s in funnel.steps]},
    }
    totals = {"contracts": sum(r.contracts for r in by_month.rows), "amount": sum(r.amount for r in by_month.rows),
              "certified": sum(r.certified_amount for r in by_month.rows)}
    return render(request, "dashboard.html", charts=charts, totals=totals, conversion=conversion, funnel=funnel,
                league=league, by_month=by_month, regions=regions)


def _funnel_label(stage: str) -> str:
    return "匹配推荐" if stage == "match" else label(stage)


# ---------------------------------------------------------------- review queue


@get("/review", sync_to_thread=True)
def review_queue(request: Request, actor: Actor, session: Session, library: str = "achievements",
                 order: str = "oldest", page: str | None = None) -> Template:
    """Pending postings of one library, oldest first by default; the catalog's access rules decide who may review."""
    if not may_review(actor):
        raise Forbidden("发布审核由科技管理部门和平台管理员负责")
    library = library if library in v.values(v.Library) else "achievements"
    order = "newest" if order == "newest" else "oldest"
    number = page_number(page)
    counts = {}
    with session.begin():
        for spec in (ACHIEVEMENTS, DEMANDS):
            query = ListQuery(status=PENDING, sort="-updated_at" if order == "newest" else "updated_at",
                              limit=REVIEW_PAGE, offset=(number - 1) * REVIEW_PAGE if spec.library == library else 0)
            rows, counts[spec.library.value] = catalog.list_records(session, actor=actor, spec=spec, query=query)
            if spec.library == library:
                shown = rows
        spec = ACHIEVEMENTS if library == ACHIEVEMENTS.library else DEMANDS
        revisions, _ = catalog.list_records(session, actor=actor, spec=spec, query=ListQuery(
            status=PUBLISHED, revision=True, sort="updated_at", limit=REVIEW_PAGE,
            region=narrow_region(actor, None)))   # a city's reviewer reviews its own city's revisions
        owners = directory.organisation_names(session, (r.organisation_id for r in [*shown, *revisions]))
        twins = {r.id: likely_duplicates(session, spec, r) for r in shown}
        fields = {f.code: f.name for f in directory.list_fields(session)}
    return render(request, "review.html", library=library, order=order, rows=shown, counts=counts, owners=owners,
                  fields=fields, revisions=revisions, twins=twins, page_number=number,
                  pager=Pager(counts[library], number, REVIEW_PAGE, {"library": library, "order": order}, capped=True))


@post("/review/{library:str}/{record_id:int}/{decision:str}")
async def review(request: Request, library: str, record_id: int, decision: str, actor: Actor, session: Session,
                 state: State) -> Redirect:
    spec = LIBRARIES.get(v.Library(library)) if library in v.values(v.Library) else None
    if spec is None or decision not in ("approve", "reject"):
        raise NotFound("没有这个审核操作")
    form = FormData.of(await request.form())
    # Back to the same queue, order and page the reviewer was working through.
    order = "newest" if form.get("order") == "newest" else "oldest"
    back = f"/web/review?library={library}&order={order}&page={page_number(form.get('page'))}"
    try:
        with session.begin():
            if decision == "approve":
                record = approve_record(session, actor=actor, spec=spec, record_id=record_id,
                                        on_publish=state.on_publish)
            else:
                record = reject_record(session, actor=actor, spec=spec, record_id=record_id,
                                       note=form.get("note", ""))
            title = record.title
    except DomainError as error:
        if error.status not in (409, 422):
            raise
        message = next(iter(field_problems(error).values()))
        if decision == "reject" and "note" in field_problems(error):
            message = "退回时请写明需要修改的内容"
        flash(request, f"未完成：{message}", kind="error")   # never in the green box of a success
        return Redirect(f"{back}#{library}-{record_id}", status_code=303)
    done = "已通过审核并公开发布，已推送给匹配方" if decision == "approve" else "已退回发布单位修改"
    return redirect(request, back, f"《{title}》{done}")


# ---------------------------------------------------------------- simulation runs


RUNS_SHOWN = 50


@get("/simulations", sync_to_thread=True)
def simulations(request: Request, actor: Actor, session: Session, compare: list[int] | None = None) -> Template:
    """Stored runs; tick several to compare their monthly turnover and headline figures side by side."""
    _analyst_only(actor)
    with session.begin():
        runs = list_runs(session)[:RUNS_SHOWN]
        chosen = [r for r in runs if r.id in set(compare or [])] or runs[:2]
        first = chosen[0] if chosen else None
        by_scenario = (simulation_report.comparison(session, world_scale=first.world_scale,
                                                    world_seed=first.world_seed, months=first.months)
                       if first else {})
        requests = simulation_requests.recent(session)
    names = {r.scenario: _scenario_label(r.scenario) for r in runs}
    series = {"labels": [m["month"] for m in chosen[0].monthly] if chosen else [],
              "runs": [{"label": f"#{r.id} {names[r.scenario]}（种子 {r.seed}）",
                        "turnover": [round(float(m["turnover_yuan"]) / 10_000, 1) for m in r.monthly],
                        "signed": [m["signed"] for m in r.monthly]} for r in chosen]}
    return render(request, "simulations.html", runs=runs, chosen=chosen, names=names, series=series,
                by_scenario=by_scenario, compared=simulation_report.COMPARED, first=first, requests=requests,
                scenarios=[(name, _scenario_label(name)) for name in builtin_names()],
                scales=simulation_requests.SCALES, max_seeds=simulation_requests.MAX_SEEDS,
                max_months=simulation_requests.MAX_MONTHS, labels={**names, **{n: _scenario_label(n) for n in builtin_names()}})


@post("/simulations/requests", sync_to_thread=True)
def request_simulation(request: Request, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    """An analyst asks for a sweep; the job worker runs it and the page shows its progress."""
    def action():
        seeds, months = data.get("seeds", "").strip(), data.get("months", "").strip()
        if not seeds.isdigit() or not months.isdigit():
            raise InvalidInput.on("seeds", "请填写随机种子数和模拟月数（整数）")
        return simulation_requests.request_sweep(
            session, actor=actor, scenarios=[k.removeprefix("scenario_") for k in data if k.startswith("scenario_")],
            seeds=int(seeds), months=int(months), scale=data.get("scale", ""))

    answer = acted(request, session, action, back="/web/simulations",
                   done=lambda r: f"模拟已排队：共 {r.total_runs} 次运行，完成后结果出现在下方的模拟记录中")
    state = request.app.state
    if state.get("jobs") is None:
        state.jobs = make_queue(state.settings)
    enqueue(state.jobs, "run_simulations")
    return answer


@get("/simulations/requests", sync_to_thread=True)
def simulation_progress(request: Request, actor: Actor, session: Session) -> Template:
    """The progress of the sweeps asked for, fetched every few seconds while one is queued or running."""
    _analyst_only(actor)
    with session.begin():
        requests = simulation_requests.recent(session)
    labels = {n: _scenario_label(n) for n in builtin_names()}
    return render(request, "_simulation_requests.html", requests=requests, labels=labels)


def _scenario_label(name: str) -> str:
    try:
        return load_scenario(name).description.split("：")[0]
    except (ValueError, OSError, KeyError):
        return name


HANDLERS = [dashboard, review_queue, review, simulations, request_simulation, simulation_progress]
