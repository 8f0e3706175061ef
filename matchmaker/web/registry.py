"""The registrar's two actions on a contract page: register it (the number is generated) or return it with reasons."""

from __future__ import annotations

from litestar import Request, post
from litestar.response import Redirect
from sqlalchemy.orm import Session

from matchmaker.brokerage import registry
from matchmaker.errors import Conflict, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.web.login import Form
from matchmaker.web.views import redirect, refused


@post("/contracts/{contract_id:int}/register", sync_to_thread=True)
def register(request: Request, contract_id: int, actor: Actor, session: Session) -> Redirect:
    back = f"/web/contracts/{contract_id}"
    try:
        with session.begin():
            number = registry.register(session, actor=actor, contract_id=contract_id).registration_number
    except (Conflict, InvalidInput) as error:
        return refused(request, back, error)
    return redirect(request, back, f"已登记，登记号 {number}，已通知合同双方")


@post("/contracts/{contract_id:int}/return", sync_to_thread=True)
def return_contract(request: Request, contract_id: int, actor: Actor, session: Session,
                    data: dict[str, str] = Form) -> Redirect:
    back = f"/web/contracts/{contract_id}"
    try:
        with session.begin():
            registry.return_for_correction(session, actor=actor, contract_id=contract_id, reason=data.get("reason", ""))
    except (Conflict, InvalidInput) as error:
        return refused(request, back, error)
    return redirect(request, back, "已退回补正，合同双方会收到原因")


HANDLERS = [register, return_contract]
