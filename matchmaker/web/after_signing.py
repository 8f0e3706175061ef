"""The contract page's forms after signing: milestones and receipts, the trial's outcome, royalty reports, the
inventors' shares; and an office's page of totals per inventor. Each posts, then comes back to the contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker.brokerage import after_signing
from matchmaker.errors import InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.web.forms import yuan_field
from matchmaker.web.login import Form
from matchmaker.web.views import acted, render

WORDS = {"title": "付款节点", "due_on": "应付日期", "amount": "应付金额", "received_on": "到账日期",
         "received_amount": "到账金额", "on": "结果日期", "period": "报告期间", "sales_amount": "销售额",
         "royalty_amount": "提成金额", "person": "完成人", "percent": "比例"}


def _day(data: dict, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(data.get(name, "").strip())
    except ValueError:
        raise InvalidInput.on(name, f"请填写{WORDS[name]}（例如 2026-05-01）") from None


def _money(data: dict, name: str) -> Decimal:
    return yuan_field(data, name, WORDS[name], "400000 或 40万")


def _act(request: Request, session: Session, contract_id: int, done: str, action) -> Redirect:
    back = f"/web/contracts/{contract_id}#after-signing"
    return acted(request, session, action, back=back, done=done)


@post("/contracts/{contract_id:int}/payments", sync_to_thread=True)
def add_payment(request: Request, contract_id: int, actor: Actor, session: Session,
                data: dict[str, str] = Form) -> Redirect:
    return _act(request, session, contract_id, "已添加付款节点", lambda: after_signing.add_payment(
        session, actor=actor, contract_id=contract_id, title=data.get("title", ""), due_on=_day(data, "due_on"),
        amount=_money(data, "amount")))


@post("/contracts/{contract_id:int}/payments/{payment_id:int}/receipt", sync_to_thread=True)
def receipt(request: Request, contract_id: int, payment_id: int, actor: Actor, session: Session,
            data: dict[str, str] = Form) -> Redirect:
    return _act(request, session, contract_id, "已记录到账", lambda: after_signing.record_receipt(
        session, actor=actor, contract_id=contract_id, payment_id=payment_id, received_on=_day(data, "received_on"),
        received_amount=_money(data, "received_amount")))


@post("/contracts/{contract_id:int}/trial-outcome", sync_to_thread=True)
def trial_outcome(request: Request, contract_id: int, actor: Actor, session: Session,
                  data: dict[str, str] = Form) -> Redirect:
    return _act(request, session, contract_id, "已记录试用结果", lambda: after_signing.record_trial_outcome(
        session, actor=actor, contract_id=contract_id, outcome=data.get("outcome", ""), on=_day(data, "on")))


@post("/contracts/{contract_id:int}/royalty-reports", sync_to_thread=True)
def royalty(request: Request, contract_id: int, actor: Actor, session: Session,
            data: dict[str, str] = Form) -> Redirect:
    return _act(request, session, contract_id, "已提交提成报告", lambda: after_signing.report_royalty(
        session, actor=actor, contract_id=contract_id, period=data.get("period", "").strip(),
        sales_amount=_money(data, "sales_amount"), royalty_amount=_money(data, "royalty_amount")))


@post("/contracts/{contract_id:int}/shares", sync_to_thread=True)
def share(request: Request, contract_id: int, actor: Actor, session: Session,
          data: dict[str, str] = Form) -> Redirect:
    def percent() -> Decimal:
        try:
            return Decimal(data.get("percent", "").strip().removesuffix("%"))
        except InvalidOperation:
            raise InvalidInput.on("percent", "比例请填 0 到 100 之间的数字，例如 30") from None

    return _act(request, session, contract_id, "已记录完成人收益比例", lambda: after_signing.record_share(
        session, actor=actor, contract_id=contract_id, person=data.get("person", ""), percent=percent(),
        basis=data.get("basis", "")))


@get("/inventors", sync_to_thread=True)
def inventors(request: Request, actor: Actor, session: Session) -> Template:
    with session.begin():
        totals = after_signing.inventor_totals(session, actor=actor)
    return render(request, "inventors.html", totals=totals)


HANDLERS = [add_payment, receipt, trial_outcome, royalty, share, inventors]
