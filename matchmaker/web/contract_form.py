"""A party's page for submitting a technology contract for registration (and correcting a returned one): the
registration form's fields, the counterpart by name, and the signed PDF. Uploads post multipart to /web/upload/…,
which checks its CSRF token in the handler (web/spreadsheets.py says why)."""

from __future__ import annotations

import datetime as dt

from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker.brokerage import form, submission
from matchmaker.brokerage.contracts import get_contract
from matchmaker.errors import DomainError, Forbidden, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Organisation
from matchmaker.web.forms import field_problems
from matchmaker.web.libraries import form_choices
from matchmaker.web.spreadsheets import check_csrf
from matchmaker.web.views import redirect, render

CHECKBOXES = ("foreign_related", "tax_relief")


@get("/contracts/new", sync_to_thread=True)
def new_contract(request: Request, actor: Actor, session: Session) -> Template:
    _may_submit(actor)
    signed = dt.date.today().isoformat()
    return _page(request, session, actor, {"side": "seller", "signed_on": signed, "programme": "none",
                                           "ip_type": "none", "seller_country": "CN", "buyer_country": "CN"}, {})


@get("/contracts/{contract_id:int}/edit", sync_to_thread=True)
def edit_contract(request: Request, contract_id: int, actor: Actor, session: Session) -> Template:
    _may_submit(actor)
    with session.begin():
        contract = get_contract(session, actor=actor, contract_id=contract_id)
        values = {name: _shown(getattr(contract, name)) for name in submission.FORM_FIELDS}
        values["side"] = "seller" if contract.seller_id == actor.organisation_id else "buyer"
        other = contract.buyer_id if values["side"] == "seller" else contract.seller_id
        values["counterpart"] = session.get(Organisation, other).name
    return _page(request, session, actor, values, {}, contract_id=contract_id)


@post("/upload/contracts", sync_to_thread=True)
def submit(request: Request, actor: Actor, session: Session,
           data: dict = Body(media_type=RequestEncodingType.MULTI_PART)) -> Template | Redirect:
    return _save(request, actor, session, data, None)


@post("/upload/contracts/{contract_id:int}", sync_to_thread=True)
def amend(request: Request, contract_id: int, actor: Actor, session: Session,
          data: dict = Body(media_type=RequestEncodingType.MULTI_PART)) -> Template | Redirect:
    return _save(request, actor, session, data, contract_id)


def _save(request: Request, actor: Actor, session: Session, data: dict, contract_id: int | None):
    _may_submit(actor)
    check_csrf(request, data)
    upload = data.get("document")
    values = {name: value.strip() for name, value in data.items() if isinstance(value, str)}
    for name in CHECKBOXES:
        values[name] = name in data
    shown = dict(values)
    problems: dict[str, str] = {}
    try:
        with session.begin():
            if contract_id is None:
                other = submission.organisation_named(session, values.get("counterpart", ""))
                if other is None:
                    problems["counterpart"] = "没有找到这家单位；请从下拉列表中选择对方单位的全称"
                    raise _Stop
                mine = actor.organisation_id
                seller, buyer = (mine, other) if values.get("side") == "seller" else (other, mine)
                fields = {k: v for k, v in values.items() if k in submission.FORM_FIELDS and v not in ("", None)}
                contract = submission.submit_contract(session, actor=actor, values=fields, seller_id=seller,
                                                      buyer_id=buyer)
            else:
                fields = {k: v for k, v in values.items() if k in submission.FORM_FIELDS}
                contract = submission.amend_contract(session, actor=actor, contract_id=contract_id, values=fields)
            if isinstance(upload, UploadFile) and upload.filename:
                submission.attach_document(session, actor=actor, contract_id=contract.id, filename=upload.filename,
                                           content=upload.file.read())
            saved = contract.id
    except _Stop:
        pass
    except DomainError as error:
        if error.status not in (409, 422):
            raise
        problems = field_problems(error)
    if problems:
        return _page(request, session, actor, shown, problems, contract_id=contract_id, status_code=422)
    note = "合同已提交，等待登记机构登记" if contract_id is None else "已修改并重新提交，等待登记机构登记"
    return redirect(request, f"/web/contracts/{saved}", note)


class _Stop(Exception):
    """A problem found before the service is asked (the counterpart's name): roll back, show the form."""


def _page(request: Request, session: Session, actor: Actor, values: dict, problems: dict, *,
          contract_id: int | None = None, status_code: int = 200) -> Template:
    with session.begin():
        choices = form_choices(session)
        names = submission.counterpart_names(session, actor) if contract_id is None else []
        mine = session.get(Organisation, actor.organisation_id)
    subtypes = form.SUBTYPES.get(values.get("contract_type") or "development", form.SUBTYPES["development"])
    return render(request, "contract_submit.html", status_code=status_code, form=values, problems=problems,
                  contract_id=contract_id, counterparts=names, mine=mine, subtypes=form.SUBTYPES,
                  subtype_options=list(subtypes.items()), lists=form, **choices)


def _may_submit(actor: Actor) -> None:
    if actor.role not in submission.PARTIES:
        raise Forbidden("只有合同的买方或卖方（高校院所、企业）可以提交合同登记")


def _shown(value) -> str | bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


HANDLERS = [new_contract, edit_contract, submit, amend]


@get("/contracts/{contract_id:int}/document", sync_to_thread=True)
def document(contract_id: int, actor: Actor, session: Session) -> Response:
    """The signed PDF, for whoever may see the contract."""
    with session.begin():
        get_contract(session, actor=actor, contract_id=contract_id)
        stored = submission.document_of(session, contract_id)
        if stored is None:
            raise NotFound("该合同还没有上传合同文本")
        return Response(stored.content, media_type="application/pdf", headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(stored.filename)}"})


HANDLERS.append(document)
