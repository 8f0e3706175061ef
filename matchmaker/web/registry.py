"""The registrar's pages: register a contract (the number is generated) or return it with reasons, and the
registry in spreadsheets (export the market's contracts, import an office's workbook)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker.brokerage import form, registry, registry_io
from matchmaker.brokerage.registry import REGISTRARS
from matchmaker.errors import Conflict, Forbidden, InvalidInput
from matchmaker.identity import audit
from matchmaker.identity.services import Actor
from matchmaker.web.forms import yuan_field
from matchmaker.web.login import Form
from matchmaker.web.spreadsheets import REPORT_KEPT, XLSX, check_csrf
from matchmaker.web.views import acted, redirect, render


@post("/contracts/{contract_id:int}/register", sync_to_thread=True)
def register(request: Request, contract_id: int, actor: Actor, session: Session,
             data: dict[str, str] = Form) -> Redirect:
    def action():
        typed = data.get("certified_amount", "").strip()
        certified = yuan_field(data, "certified_amount", "核定技术交易额", "800000 或 80万") if typed else None
        return registry.register(session, actor=actor, contract_id=contract_id, certified_amount=certified)

    return acted(request, session, action, back=f"/web/contracts/{contract_id}", refusals=(Conflict, InvalidInput),
                 done=lambda contract: f"已登记，登记号 {contract.registration_number}，已通知合同双方")


@post("/contracts/{contract_id:int}/return", sync_to_thread=True)
def return_contract(request: Request, contract_id: int, actor: Actor, session: Session,
                    data: dict[str, str] = Form) -> Redirect:
    return acted(request, session, lambda: registry.return_for_correction(
        session, actor=actor, contract_id=contract_id, reason=data.get("reason", "")),
        back=f"/web/contracts/{contract_id}", refusals=(Conflict, InvalidInput), done="已退回补正，合同双方会收到原因")


@get("/export/registry", sync_to_thread=True)
def export_registry(actor: Actor, session: Session, format: str = "xlsx") -> Response:
    fmt = "csv" if format == "csv" else "xlsx"
    with session.begin():
        data, rows = registry_io.export_as_registrar(session, actor=actor, fmt=fmt)
        audit.record(session, audit.EXPORTED, actor=actor, subject="export:contracts", rows=rows, format=fmt,
                     via="page")
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="contracts.{fmt}"'})


@get("/import/registry", sync_to_thread=False)
def import_form(request: Request, actor: Actor) -> Template:
    _registrar(actor)
    return render(request, "import.html", library="registry", noun="技术合同", problems=[], shown=0)


@post("/upload/registry", sync_to_thread=True)
def import_registry(request: Request, actor: Actor, session: Session,
                    data: dict = Body(media_type=RequestEncodingType.MULTI_PART)) -> Template | Redirect:
    _registrar(actor)
    check_csrf(request, data)
    upload = data.get("file")
    suffix = upload.filename.rsplit(".", 1)[-1].lower() if isinstance(upload, UploadFile) and upload.filename else ""
    if suffix not in ("xlsx", "csv"):
        return render(request, "import.html", status_code=422, library="registry", noun="技术合同", shown=0,
                      problems=[("—", "文件", "请选择 .xlsx 或 .csv 文件（可在 Excel 或 WPS 中另存）")])
    try:
        with session.begin():
            result = registry_io.import_as_registrar(session, actor=actor, data=upload.file.read(), fmt=suffix)
    except registry_io.RegistryImportRefused as refused:
        kept = [(p.line, _column(p.field), p.reason) for p in refused.found[:REPORT_KEPT]]
        request.set_session({**request.session, "import_report": kept})
        return render(request, "import.html", status_code=422, library="registry", noun="技术合同",
                      problems=[(line or "—", column, reason) for line, column, reason in kept[:100]], shown=len(kept))
    note = f"已导入 {result.contracts} 份技术合同" + (f"，新增 {result.new_organisations} 家单位" if result.new_organisations else "")
    return redirect(request, "/web/contracts", note)


def _column(field: str) -> str:
    return "整个文件" if field == "$" else registry_io.header(field) if field in form.FIELD_NAMES else field


def _registrar(actor: Actor) -> None:
    if actor.role not in REGISTRARS:
        raise Forbidden("只有技术合同登记机构（科技管理部门）可以批量导入合同")


HANDLERS = [register, return_contract, export_registry, import_form, import_registry]
