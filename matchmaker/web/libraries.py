"""Pages of the two libraries: offices' achievements and firms' demands — post, edit, submit, matches, inbox, feedback."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage.feedback import give_feedback
from matchmaker.catalog.confidential import confidential_readable
from matchmaker.catalog import directory, evaluations
from matchmaker.catalog import services as catalog
from matchmaker.catalog.access import may_edit, may_review
from matchmaker.catalog.duplicates import likely_duplicates
from matchmaker.catalog.review import submit_record
from matchmaker.catalog.schemas import AchievementCreate, AchievementUpdate, DemandCreate, DemandUpdate
from matchmaker.catalog.services import ListQuery
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS, DRAFT, LibrarySpec
from matchmaker.deals.introductions import interest_status
from matchmaker.deals.thread import deals_of_posting
from matchmaker.errors import DomainError, Forbidden, NotFound
from matchmaker.identity.services import Actor
from matchmaker.matching import wording
from matchmaker.matching.presenting import match_list, notice
from matchmaker.matching.service import matching_service
from matchmaker.models import Achievement, Demand, Feedback, Introduction, Organisation
from matchmaker.push import services as push
from matchmaker.web.forms import FormData, field_problems, to_struct
from matchmaker.web.views import Pager, page_number, redirect, render

MATCHES_SHOWN = 10
OWN_PAGE_SIZE = 15


@dataclass(frozen=True)
class LibraryPage:
    """What differs between the achievements pages (offices) and the demands pages (firms)."""

    spec: LibrarySpec
    slug: str  # URL segment: achievements | demands
    home: str
    create: type
    update: type
    noun_zh: str
    counterpart: LibrarySpec


PAGES = {
    "achievements": LibraryPage(ACHIEVEMENTS, "achievements", "/web/office", AchievementCreate, AchievementUpdate,
                                "科技成果", DEMANDS),
    "demands": LibraryPage(DEMANDS, "demands", "/web/firm", DemandCreate, DemandUpdate, "技术需求", ACHIEVEMENTS),
}
# Set by the server, or not on the page form (IP records are kept as they are when a posting is edited).
NOT_ON_FORM = frozenset({"organisation_id", "ip_records"})


def library_page(slug: str) -> LibraryPage:
    if slug not in PAGES:
        raise NotFound("没有这个栏目")
    return PAGES[slug]


def form_choices(session: Session) -> dict:
    """Fields and regions (provinces, each with its cities) for the selects."""
    return {"field_options": [(f.code, f.name) for f in directory.list_fields(session)],
            "provinces": directory.list_regions(session), "cities": directory.list_regions(session, level="city")}


# ---------------------------------------------------------------- own postings and the inbox


def _home(request: Request, actor: Actor, session: Session, lib: LibraryPage, page_raw: str | None) -> Template:
    if actor.role not in (lib.spec.owner_role, v.Role.ADMIN):
        raise Forbidden(f"这里是{v.Role(lib.spec.owner_role).value}用户的工作台")
    number = page_number(page_raw)
    with session.begin():
        query = ListQuery(organisation_id=actor.organisation_id, sort="-updated_at", limit=OWN_PAGE_SIZE,
                          offset=(number - 1) * OWN_PAGE_SIZE)
        rows, total = catalog.list_records(session, actor=actor, spec=lib.spec, query=query)
        entries, inbox_total = push.list_inbox(session, actor=actor, limit=10)
        inbox = _inbox_rows(session, entries, lib)
        organisation = session.get(Organisation, actor.organisation_id)
    return render(request, "own_postings.html", lib=lib, rows=rows, pager=Pager(total, number, OWN_PAGE_SIZE, {}, capped=True),
                inbox=inbox, inbox_total=inbox_total, organisation=organisation)


def _inbox_rows(session: Session, entries, lib: LibraryPage) -> list[dict]:
    ids = {e.demand_id for e in entries} | {e.achievement_id for e in entries}
    demands = {d.id: d for d in session.scalars(select(Demand).where(Demand.id.in_(ids)))}
    achievements = {a.id: a for a in session.scalars(select(Achievement).where(Achievement.id.in_(ids)))}
    rows = []
    for entry in entries:
        own, other = ((achievements, demands) if lib.spec is ACHIEVEMENTS else (demands, achievements))
        own_id, other_id = ((entry.achievement_id, entry.demand_id) if lib.spec is ACHIEVEMENTS
                            else (entry.demand_id, entry.achievement_id))
        rows.append({"entry": entry, "own": own.get(own_id), "other": other.get(other_id)})
    return rows


@get("/office", sync_to_thread=True)
def office_home(request: Request, actor: Actor, session: Session, page: str | None = None) -> Template:
    """An office's achievements and its 精准推送 inbox of matching demands."""
    return _home(request, actor, session, PAGES["achievements"], page)


@get("/firm", sync_to_thread=True)
def firm_home(request: Request, actor: Actor, session: Session, page: str | None = None) -> Template:
    """A firm's demands and its inbox of matching achievements."""
    return _home(request, actor, session, PAGES["demands"], page)


@post("/inbox/{entry_id:int}/dismiss", sync_to_thread=True)
def dismiss(request: Request, entry_id: int, actor: Actor, session: Session) -> Redirect:
    with session.begin():
        push.dismiss_entry(session, actor=actor, entry_id=entry_id)
    return redirect(request, request.headers.get("referer") or "/web/", "已从收件箱移除")


# ---------------------------------------------------------------- post and edit


def _form_page(request: Request, session: Session, lib: LibraryPage, form: dict, problems: dict,
               record=None, status_code: int = 200) -> Template:
    with session.begin():
        choices = form_choices(session)
    return render(request, f"{lib.slug}_form.html", status_code=status_code, lib=lib, form=form, problems=problems,
                record=record, **choices)


@get("/{library:str}/new", sync_to_thread=True)
def new_form(request: Request, library: str, actor: Actor, session: Session) -> Template:
    lib = library_page(library)
    with session.begin():
        organisation = session.get(Organisation, actor.organisation_id)
    return _form_page(request, session, lib, {"region": organisation.region_code or ""}, {})


@post("/{library:str}/new")
async def create(request: Request, library: str, actor: Actor, session: Session, state: State) -> Template | Redirect:
    lib = library_page(library)
    form = FormData.of(await request.form())
    data, problems = to_struct(lib.create, form, skip=NOT_ON_FORM)
    if problems:
        return _form_page(request, session, lib, form, problems, status_code=422)
    try:
        with session.begin():
            record = catalog.create_record(session, actor=actor, spec=lib.spec, data=data)
            if form.get("action") == "submit":
                submit_record(session, actor=actor, spec=lib.spec, record_id=record.id)
            record_id = record.id
    except DomainError as error:
        if error.status != 422:
            raise
        return _form_page(request, session, lib, form, field_problems(error), status_code=422)
    note = "已提交审核，审核通过后即公开发布并推送给匹配方" if form.get("action") == "submit" else "已保存为草稿"
    return redirect(request, f"/web/{lib.slug}/{record_id}", note)


def _as_form(lib: LibraryPage, record) -> dict:
    """A stored posting as the strings its form shows."""
    form: dict = {}
    for field in msgspec.structs.fields(lib.create):
        name = field.name
        if name in NOT_ON_FORM:
            continue
        value = getattr(record, {"field": "field_code", "region": "region_code"}.get(name, name), None)
        if name in ("transfer_modes", "cooperation_modes"):
            form[name] = [str(m) for m in (value or ())]
        elif isinstance(value, bool):
            form[name] = "on" if value else ""
        else:
            form[name] = "" if value is None else (f"{value:f}" if hasattr(value, "quantize") else str(value))
    return form


@get("/{library:str}/{record_id:int}/edit", sync_to_thread=True)
def edit_form(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Template:
    lib = library_page(library)
    with session.begin():
        record = catalog.get_record(session, actor=actor, spec=lib.spec, record_id=record_id)
        if not may_edit(actor, lib.spec, record):
            raise Forbidden("只有发布单位可以修改")
        form = _as_form(lib, record)
    return _form_page(request, session, lib, form, {}, record=record)


@post("/{library:str}/{record_id:int}/edit")
async def update(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Template | Redirect:
    lib = library_page(library)
    form = FormData.of(await request.form())
    data, problems = to_struct(lib.create, form, skip=NOT_ON_FORM)
    record = None
    if not problems:
        changes = lib.update(**{name: getattr(data, name) for name in data.__struct_fields__ if name not in NOT_ON_FORM})
        try:
            with session.begin():
                record = catalog.update_record(session, actor=actor, spec=lib.spec, record_id=record_id, changes=changes)
                if form.get("action") == "submit" and record.status == DRAFT:
                    submit_record(session, actor=actor, spec=lib.spec, record_id=record_id)
        except DomainError as error:
            if error.status != 422:
                raise
            problems = field_problems(error)
    if problems:
        with session.begin():
            record = catalog.get_record(session, actor=actor, spec=lib.spec, record_id=record_id)
        return _form_page(request, session, lib, form, problems, record=record, status_code=422)
    if record is not None and record.pending_changes:
        return redirect(request, f"/web/{lib.slug}/{record_id}",
                        "修改已提交审核。审核通过前，大家看到的仍是已发布的内容。")
    return redirect(request, f"/web/{lib.slug}/{record_id}", "修改已保存")


@post("/{library:str}/{record_id:int}/submit", sync_to_thread=True)
def submit(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Redirect:
    lib = library_page(library)
    with session.begin():
        submit_record(session, actor=actor, spec=lib.spec, record_id=record_id)
    return redirect(request, f"/web/{lib.slug}/{record_id}", "已提交审核")


# ---------------------------------------------------------------- one posting with its matches


@get("/{library:str}/{record_id:int}", sync_to_thread=True)
def detail(request: Request, library: str, record_id: int, actor: Actor, session: Session, state: State) -> Template:
    """A posting and the best postings of the other library for it, each with why it matched."""
    lib = library_page(library)
    with session.begin():
        record = catalog.get_record(session, actor=actor, spec=lib.spec, record_id=record_id)
        organisation = session.get(Organisation, record.organisation_id) if record.organisation_id else None
        confidential = lib.spec is ACHIEVEMENTS and record.id in confidential_readable(session, actor, [record])
        editable = may_edit(actor, lib.spec, record)
        twins = likely_duplicates(session, lib.spec, record) if editable or may_review(actor) else []
        reports = evaluations.latest_first(session, record.id) if lib.spec is ACHIEVEMENTS else []
        evaluators = directory.organisation_names(session, {r.evaluator_id for r in reports})
    matching = matching_service(state)
    with session.begin():
        found = matching.show(session, record=record, target=lib.counterpart.library, k=MATCHES_SHOWN,
                              surface=v.Surface.PAGE, user_id=actor.user_id)
        matches = explained_matches(session, lib.counterpart, record, found, directory.field_names(state))
    judge = actor.role in (v.Role.FIRM, v.Role.OFFICE, v.Role.BROKER) and (editable or actor.role is v.Role.BROKER)
    with session.begin():
        verdicts = _verdicts(session, actor, lib, record, matches) if judge else {}
        deals = deals_of_posting(session, library=lib.spec.library, record_id=record.id) if editable else []
    return render(request, "posting.html", lib=lib, record=record, organisation=organisation,
                evaluations=reports, evaluators=evaluators,
                confidential=confidential, editable=editable, matches=matches, judge=judge, verdicts=verdicts, deals=deals,
                owner=editable and actor.role in (v.Role.FIRM, v.Role.OFFICE),
                notice=notice(lib.counterpart, found), meaning=wording.MEANING,
                claimable=actor.role is v.Role.BROKER, twins=twins,
                renew_default=(max(getattr(record, lib.spec.date_column) or dt.date.today(), dt.date.today())
                               + dt.timedelta(days=90)).isoformat())


def _verdicts(session: Session, actor: Actor, lib, record, matches) -> dict[tuple[int, int], dict]:
    """What this person already said about each listed pair (感兴趣 / 不相关 and the introduction), so a reload
    shows it instead of asking again."""
    is_demand = lib.spec.library is v.Library.DEMANDS
    pairs = [(record.id, m["row"].id) if is_demand else (m["row"].id, record.id) for m in matches]
    if not pairs:
        return {}
    demand_ids, achievement_ids = {d for d, _ in pairs}, {a for _, a in pairs}
    said = {(f.demand_id, f.achievement_id): {"relevant": f.relevant, "reason": f.reason or ""}
            for f in session.scalars(select(Feedback).where(
                Feedback.user_id == actor.user_id, Feedback.demand_id.in_(demand_ids),
                Feedback.achievement_id.in_(achievement_ids)))}
    for i in session.scalars(select(Introduction).where(Introduction.demand_id.in_(demand_ids),
                                                        Introduction.achievement_id.in_(achievement_ids))):
        said.setdefault((i.demand_id, i.achievement_id), {"relevant": True, "reason": ""})["introduction"] = i.status
    return said


def explained_matches(session: Session, spec: LibrarySpec, source, found, names: dict[str, str]) -> list[dict]:
    """Matches with their counterpart rows, owner names and Chinese explanations, in rank order (`names`: the field
    names, `directory.field_names`)."""
    listed = match_list(session, spec, source, found, names)
    rows = {r.id: r for r in session.scalars(select(spec.model).where(spec.model.id.in_([m.id for m in found])))}
    owners = directory.organisation_names(session, (r.organisation_id for r in rows.values()))
    by_id = {m.id: m for m in found}
    return [{"match": by_id[out.id], "row": rows[out.id], "owner": owners.get(rows[out.id].organisation_id),
             "out": out} for out in listed.items]


# ---------------------------------------------------------------- feedback on a match


@post("/feedback")
async def feedback(request: Request, actor: Actor, session: Session) -> Template | Redirect:
    """感兴趣 (relevant) or 不相关 with a reason; htmx swaps in the answer, a plain post returns to the page."""
    form = FormData.of(await request.form())
    relevant = form.get("relevant") == "yes"
    try:
        demand_id, achievement_id = int(form.get("demand_id", "")), int(form.get("achievement_id", ""))
    except ValueError:
        raise NotFound("没有找到这条匹配") from None
    problem, introduced = None, None
    if not relevant and not form.get("reason"):
        problem = "请先选择不相关的原因，再点“不相关”"
    try:
        with session.begin():
            if problem is None:
                give_feedback(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id,
                              relevant=relevant, reason=None if relevant else form.get("reason"),
                              note=form.get("note", ""))
            if relevant and actor.role in (v.Role.FIRM, v.Role.OFFICE) and _both_published(session, demand_id,
                                                                                           achievement_id):
                # 感兴趣 from the firm or the office is an expression of interest the other side hears of.
                introduced = interest_status(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id)
    except DomainError as error:
        if error.status != 422:
            raise
        problem = next(iter(field_problems(error).values()))
    context = dict(demand_id=demand_id, achievement_id=achievement_id, relevant=relevant, problem=problem,
                   reason=form.get("reason", ""), introduction=introduced)
    if request.headers.get("hx-request"):
        return render(request, "_feedback_done.html", **context)  # htmx swaps only 2xx answers
    back = request.headers.get("referer") or "/web/"
    return redirect(request, back, problem or ("已标记为感兴趣并通知对方" if introduced else
                                               "已标记为感兴趣" if relevant else "已记录，感谢反馈"))


def _both_published(session: Session, demand_id: int, achievement_id: int) -> bool:
    demand, achievement = session.get(Demand, demand_id), session.get(Achievement, achievement_id)
    return bool(demand and achievement and demand.status == "published" and achievement.status == "published")


HANDLERS = [office_home, firm_home, dismiss, new_form, create, edit_form, update, submit, detail, feedback]
