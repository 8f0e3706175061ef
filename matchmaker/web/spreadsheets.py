"""Excel and CSV from the pages: export what one may see (offices and firms their own postings, analysts their
market's, admins everything) as .xlsx or CSV with a BOM; import an organisation's postings from .xlsx or CSV
(UTF-8, UTF-8 with BOM or GBK), every row or none, with the problems shown and downloadable as .xlsx."""

from __future__ import annotations

import io

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import Body
from litestar.utils.scope.state import ScopeState
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog import services as catalog
from matchmaker.catalog.access import visible_condition
from matchmaker.catalog.io.excel import column_words, problem_report
from matchmaker.catalog.io.export import export_records, write_csv, xlsx_bytes
from matchmaker.catalog.io.validate import Problem
from matchmaker.catalog.specs import LIBRARIES
from matchmaker.errors import Forbidden, NotFound
from matchmaker.identity import audit
from matchmaker.identity.services import Actor
from matchmaker.web.views import HOME, redirect, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORDS = {spec.name: spec.words for spec in LIBRARIES.values()}
REPORT_KEPT = 1000   # problems kept in the session for the downloadable report


def _spec(library: str):
    if library not in WORDS:
        raise NotFound("没有这个栏目")
    return LIBRARIES[v.Library(library)]


@get("/export/{library:str}", sync_to_thread=True)
def export(request: Request, library: str, actor: Actor, session: Session, format: str = "xlsx") -> Response:
    spec = _spec(library)
    model = spec.model
    if actor.role in (v.Role.ADMIN, v.Role.ANALYST):
        where = visible_condition(actor, model)        # an analyst: published, and pending ones of its market
    else:
        where = model.organisation_id == actor.organisation_id
    # Read on a connection of its own, as the command line does: the export streams with a server-side cursor on
    # PostgreSQL, which must not share a transaction with the audit entry's insert.
    with session.get_bind().connect() as conn:
        records = list(export_records(conn, spec, where))
    with session.begin():
        audit.record(session, audit.EXPORTED, actor=actor, subject=f"export:{library}", rows=len(records),
                     format=format, via="page")
    name = f"{library}.{'csv' if format == 'csv' else 'xlsx'}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        text = io.StringIO()
        write_csv(text, spec, iter(records))
        return Response(("\ufeff" + text.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers=disposition)
    return Response(xlsx_bytes(spec, iter(records)), media_type=XLSX, headers=disposition)


@get("/import/{library:str}", sync_to_thread=False)
def import_form(request: Request, library: str, actor: Actor) -> Template:
    spec = _spec(library)
    _may_import(actor, spec)
    return render(request, "import.html", library=library, noun=WORDS[library], problems=[], shown=0)


@post("/upload/{library:str}", sync_to_thread=True)
def import_file(request: Request, library: str, actor: Actor, session: Session,
                data: dict = Body(media_type=RequestEncodingType.MULTI_PART)) -> Template | Redirect:
    spec = _spec(library)
    _may_import(actor, spec)
    check_csrf(request, data)
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "import.html", status_code=422, library=library, noun=WORDS[library], shown=0,
                      problems=[("—", "文件", "请选择要上传的 .xlsx 或 .csv 文件")])
    suffix = upload.filename.rsplit(".", 1)[-1].lower()
    if suffix not in ("xlsx", "csv"):
        return render(request, "import.html", status_code=422, library=library, noun=WORDS[library], shown=0,
                      problems=[("—", "文件", "只支持 .xlsx 和 .csv 文件，请在 Excel 或 WPS 中另存后再上传")])
    body = upload.file.read()
    try:
        with session.begin():
            imported, _ = catalog.import_records(session, actor=actor, spec=spec, body=body, fmt=suffix)
    except catalog.ImportRefused as refused:
        kept = [(p.line, p.field, p.reason) for p in refused.found[:REPORT_KEPT]]
        request.set_session({**request.session, "import_report": kept})
        return render(request, "import.html", status_code=422, library=library, noun=WORDS[library],
                      problems=[(line or "—", column_words(field), reason) for line, field, reason in kept[:100]],
                      shown=len(kept))
    note = f"已导入 {imported} 条{WORDS[library]}" + ("，等待审核后公开" if actor.role is not v.Role.ADMIN else "")
    return redirect(request, HOME.get(actor.role.value, "/web/"), note)


@get("/import/report.xlsx", sync_to_thread=True)
def import_report(request: Request, actor: Actor) -> Response:
    kept = request.session.get("import_report") or []
    report = problem_report([Problem(line if isinstance(line, int) else 0, field, reason) for line, field, reason in kept])
    return Response(report, media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="import-problems.xlsx"'})


def check_csrf(request: Request, data: dict) -> None:
    """The CSRF middleware's own comparison, on the form this handler parsed (the route is excluded from it)."""
    config = request.route_handler.opt["csrf"]
    token = request.headers.get(config.header_name) or data.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    checker = CSRFMiddleware(app=None, config=config)   # the comparison is a method of the middleware
    if not (isinstance(token, str) and cookie and checker._csrf_tokens_match(token, cookie)):   # noqa: SLF001
        raise PermissionDeniedException("CSRF token verification failed")
    # As the middleware does: a form shown again in this response (the problems, the typed values) carries the token.
    ScopeState.from_scope(request.scope).csrf_token = token


def _may_import(actor: Actor, spec) -> None:
    if actor.role not in (spec.owner_role, v.Role.ADMIN):
        raise Forbidden("只有发布单位（或平台管理员）可以导入这类信息")


HANDLERS = [export, import_form, import_file, import_report]
