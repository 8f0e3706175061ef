"""Life after signing: payment milestones (due and received), the outcome of a 先使用后付费 trial with a reminder
before it ends, licensees' royalty reports, and the inventors' share of the proceeds (赋权 / 奖酬) with totals per
person. The parties act on their own contract: the buyer reports royalties, the seller records the inventors'
shares, either side records milestones, receipts and the trial's outcome."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Contract, ContractPayment, ProceedsShare, RoyaltyReport

PERIOD = re.compile(r"^[12]\d{3}(-Q[1-4])?$")
TRIAL_OUTCOMES = {"converted": "转为付费", "ended": "终止使用"}
BASES = {"reward": "奖酬（收益分享）", "ownership": "赋权（共有权属）"}


@dataclass
class AfterSigning:
    payments: list[ContractPayment]
    royalty_reports: list[RoyaltyReport]
    shares: list[ProceedsShare]


def _contract(session: Session, actor: Actor, contract_id: int, *, side: str | None = None) -> Contract:
    """A contract the actor's organisation is party to (`side` seller or buyer when only one may act)."""
    contract = session.get(Contract, contract_id, with_for_update=True)
    if contract is None:
        raise NotFound("没有找到该合同")
    sides = {"seller": contract.seller_id, "buyer": contract.buyer_id}
    allowed = [sides[side]] if side else list(sides.values())
    if actor.role not in (v.Role.OFFICE, v.Role.FIRM) or actor.organisation_id not in allowed:
        who = {"seller": "卖方（技术输出方）", "buyer": "买方（技术吸纳方）"}.get(side or "", "合同双方")
        raise Forbidden(f"只有{who}可以记录这一项")
    return contract


def _since_signing(contract: Contract, day: dt.date, today: dt.date | None, field: str, words: str) -> None:
    """Something that happened after signing happened between the signing and today."""
    if day < contract.signed_on or day > (today or dt.date.today()):
        raise InvalidInput.on(field, f"{words}须在签订日期之后、今天或之前")


def after_signing(session: Session, contract_id: int) -> AfterSigning:
    """Everything recorded after signing (the caller has checked the contract is visible)."""
    def rows(model, order):
        return list(session.scalars(select(model).where(model.contract_id == contract_id).order_by(*order)))

    return AfterSigning(rows(ContractPayment, (ContractPayment.due_on, ContractPayment.id)),
                        rows(RoyaltyReport, (RoyaltyReport.period,)),
                        rows(ProceedsShare, (ProceedsShare.person,)))


def add_payment(session: Session, *, actor: Actor, contract_id: int, title: str, due_on: dt.date,
                amount: Decimal) -> ContractPayment:
    contract = _contract(session, actor, contract_id)
    title = title.strip()
    if not title:
        raise InvalidInput.on("title", "请写明付款节点，例如“首付款”“验收款”")
    if amount <= 0:
        raise InvalidInput.on("amount", "应付金额须大于 0")
    if due_on < contract.signed_on:
        raise InvalidInput.on("due_on", "应付日期不能早于合同签订日期")
    planned = session.scalar(select(func.coalesce(func.sum(ContractPayment.amount), 0))
                             .where(ContractPayment.contract_id == contract.id))
    # A royalty contract's amount is an estimate of what the royalties will come to; the others are the price.
    if contract.payment_mode != v.PaymentMode.ROYALTY.value and Decimal(str(planned)) + amount > contract.amount:
        raise InvalidInput.on("amount", f"各付款节点合计将超过合同成交额 {contract.amount:f} 元；请核对金额")
    payment = ContractPayment(contract_id=contract.id, title=title[:100], due_on=due_on, amount=amount,
                              created_by=actor.user_id)
    session.add(payment)
    session.flush()
    return payment


def record_receipt(session: Session, *, actor: Actor, contract_id: int, payment_id: int, received_on: dt.date,
                   received_amount: Decimal, today: dt.date | None = None) -> ContractPayment:
    contract = _contract(session, actor, contract_id)
    payment = session.get(ContractPayment, payment_id)
    if payment is None or payment.contract_id != contract.id:
        raise NotFound("没有找到这个付款节点")
    if received_amount < 0:
        raise InvalidInput.on("received_amount", "到账金额不能为负")
    _since_signing(contract, received_on, today, "received_on", "到账日期")
    payment.received_on, payment.received_amount = received_on, received_amount
    session.flush()
    return payment


def record_trial_outcome(session: Session, *, actor: Actor, contract_id: int, outcome: str, on: dt.date,
                         today: dt.date | None = None) -> Contract:
    contract = _contract(session, actor, contract_id)
    if contract.payment_mode != v.PaymentMode.USE_FIRST_PAY_LATER.value:
        raise InvalidInput.on("outcome", "只有“先使用后付费”的合同有试用结果")
    if outcome not in TRIAL_OUTCOMES:
        raise InvalidInput.on("outcome", "试用结果请选“转为付费”或“终止使用”")
    _since_signing(contract, on, today, "on", "结果日期")
    contract.trial_outcome, contract.trial_outcome_on = outcome, on
    session.flush()
    return contract


def report_royalty(session: Session, *, actor: Actor, contract_id: int, period: str, sales_amount: Decimal,
                   royalty_amount: Decimal) -> RoyaltyReport:
    """The licensee (the buyer) reports a quarter's or year's sales and the royalty owed; one report per period."""
    contract = _contract(session, actor, contract_id, side="buyer")
    if contract.contract_type != v.ContractType.LICENCE.value and contract.payment_mode != v.PaymentMode.ROYALTY.value:
        raise InvalidInput.on("period", "提成报告只适用于许可合同或提成支付的合同")
    if not PERIOD.match(period):
        raise InvalidInput.on("period", "期间请写成 2026-Q2（季度）或 2026（年度）")
    if int(period[:4]) < contract.signed_on.year:
        raise InvalidInput.on("period", "报告期间早于合同签订")
    if sales_amount < 0 or royalty_amount < 0:
        raise InvalidInput.on("royalty_amount", "金额不能为负")
    if royalty_amount > sales_amount and sales_amount > 0:
        raise InvalidInput.on("royalty_amount", "提成金额超过了销售额；请核对")
    if session.scalar(select(RoyaltyReport.id).where(RoyaltyReport.contract_id == contract.id,
                                                     RoyaltyReport.period == period)) is not None:
        raise Conflict(f"{period} 的提成报告已经提交过")
    report = RoyaltyReport(contract_id=contract.id, period=period, sales_amount=sales_amount,
                           royalty_amount=royalty_amount, reported_by=actor.user_id)
    session.add(report)
    session.flush()
    return report


def record_share(session: Session, *, actor: Actor, contract_id: int, person: str, percent: Decimal,
                 basis: str) -> ProceedsShare:
    """The seller's office records an inventor's share; recording the same person again replaces it."""
    contract = _contract(session, actor, contract_id, side="seller")
    person = person.strip()
    if not person:
        raise InvalidInput.on("person", "请填写成果完成人姓名")
    if basis not in BASES:
        raise InvalidInput.on("basis", "请选择奖酬或赋权")
    if not Decimal(0) < percent <= Decimal(100):
        raise InvalidInput.on("percent", "比例须大于 0、不超过 100")
    existing = session.scalar(select(ProceedsShare).where(ProceedsShare.contract_id == contract.id,
                                                          ProceedsShare.person == person))
    others = session.scalar(select(func.coalesce(func.sum(ProceedsShare.percent), 0)).where(
        ProceedsShare.contract_id == contract.id, ProceedsShare.person != person))
    if Decimal(str(others)) + percent > 100:
        raise InvalidInput.on("percent", f"全部完成人的比例合计将超过 100%（其他人已占 {Decimal(str(others)):f}%）")
    share = existing or ProceedsShare(contract_id=contract.id, person=person[:100])
    share.percent, share.basis, share.recorded_by = percent, basis, actor.user_id
    session.add(share)
    session.flush()
    return share


@dataclass
class PersonTotal:
    person: str
    contracts: int
    due: Decimal        # Σ share × 成交额
    received: Decimal   # Σ share × what has arrived (milestones received and royalties reported)


def inventor_totals(session: Session, *, actor: Actor) -> list[PersonTotal]:
    """Per inventor of the actor's organisation (as seller): contracts, and their share of what is due and in."""
    if actor.role is not v.Role.OFFICE:
        raise Forbidden("完成人收益汇总面向高校院所的技术转移机构")
    shares = session.execute(select(ProceedsShare, Contract).join(Contract, Contract.id == ProceedsShare.contract_id)
                             .where(Contract.seller_id == actor.organisation_id)).all()
    ids = {contract.id for _, contract in shares}
    received = dict(session.execute(select(ContractPayment.contract_id, func.sum(ContractPayment.received_amount))
                                    .where(ContractPayment.contract_id.in_(ids))
                                    .group_by(ContractPayment.contract_id)).all()) if ids else {}
    royalties = dict(session.execute(select(RoyaltyReport.contract_id, func.sum(RoyaltyReport.royalty_amount))
                                     .where(RoyaltyReport.contract_id.in_(ids))
                                     .group_by(RoyaltyReport.contract_id)).all()) if ids else {}
    totals: dict[str, PersonTotal] = {}
    cent = Decimal("0.01")
    for share, contract in shares:
        part = share.percent / 100
        arrived = Decimal(str(received.get(contract.id) or 0)) + Decimal(str(royalties.get(contract.id) or 0))
        total = totals.setdefault(share.person, PersonTotal(share.person, 0, Decimal("0.00"), Decimal("0.00")))
        total.contracts += 1
        total.due += (contract.amount * part).quantize(cent)
        total.received += (arrived * part).quantize(cent)
    return sorted(totals.values(), key=lambda t: (-t.due, t.person))
