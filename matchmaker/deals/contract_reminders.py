"""Reminders after a contract is signed: a 先使用后付费 trial ending (or ended with no outcome recorded), and a
payment milestone falling due. Run daily by the worker with the postings' expiry reminders (jobs.py); it sits
below the brokerage package so the worker may call it (docs/architecture.md's layers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.models import Contract, ContractPayment
from matchmaker.notices.services import notify, organisation_users

TRIAL_REMINDER_DAYS = 14   # a trial's parties are told two weeks before it ends
PAYMENT_REMINDER_DAYS = 7


def remind_after_signing(session: Session, *, today: dt.date | None = None) -> int:
    """The daily reminders after signing: a trial ending within two weeks (or ended with no outcome recorded), and
    a milestone due within a week and not received. One notice per person and event, so a rerun tells nobody twice."""
    today = today or dt.date.today()
    told = 0
    trials = session.scalars(select(Contract).where(
        Contract.payment_mode == v.PaymentMode.USE_FIRST_PAY_LATER.value, Contract.trial_outcome.is_(None),
        Contract.trial_ends_on <= today + dt.timedelta(days=TRIAL_REMINDER_DAYS))).all()
    for contract in trials:
        ended = contract.trial_ends_on < today
        title = (f"先使用后付费合同的试用期已于 {contract.trial_ends_on:%Y年%m月%d日} 结束，请记录结果" if ended else
                 f"先使用后付费合同的试用期将于 {contract.trial_ends_on:%Y年%m月%d日} 结束")
        told += notify(session, _parties(session, contract), kind=v.NoticeKind.DEAL_STAGE,
                       event=f"trial:{contract.id}:{contract.trial_ends_on}:{'ended' if ended else 'ending'}",
                       title=title, body="试用结束后，请在合同页记录“转为付费”或“终止使用”。",
                       link=f"/web/contracts/{contract.id}")
    due = session.execute(select(ContractPayment, Contract).join(Contract, Contract.id == ContractPayment.contract_id)
                          .where(ContractPayment.received_on.is_(None),
                                 ContractPayment.due_on <= today + dt.timedelta(days=PAYMENT_REMINDER_DAYS))).all()
    for payment, contract in due:
        told += notify(session, _parties(session, contract), kind=v.NoticeKind.DEAL_STAGE,
                       event=f"payment:{payment.id}:{payment.due_on}",
                       title=f"付款节点“{payment.title}”应于 {payment.due_on:%Y年%m月%d日} 支付",
                       body=f"应付 {payment.amount:,.2f} 元。到账后请在合同页记录到账日期和金额。",
                       link=f"/web/contracts/{contract.id}")
    return told


def _parties(session: Session, contract: Contract) -> list[int]:
    return organisation_users(session, contract.seller_id) + organisation_users(session, contract.buyer_id)
