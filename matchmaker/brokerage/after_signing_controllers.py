"""HTTP routes for life after signing: milestones and receipts, the trial's outcome, royalty reports, the inventors'
shares, and an office's totals per inventor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.orm import Session

from matchmaker.api import idempotency
from matchmaker.api.idempotency import IdempotencyKey
from matchmaker.api.params import PathId, Yuan
from matchmaker.api.patterns import END
from matchmaker.brokerage import after_signing, contracts
from matchmaker.brokerage.schemas import yuan
from matchmaker.identity.services import Actor

Percent = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?" + END, description="percent, e.g. \"30\" or \"12.5\"")]


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    due_on: dt.date
    amount: Yuan


class ReceiptIn(msgspec.Struct, forbid_unknown_fields=True):
    received_on: dt.date
    received_amount: Yuan


class TrialOutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Literal["converted", "ended"]
    on: dt.date


class RoyaltyIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Annotated[str, msgspec.Meta(pattern=r"^[12][0-9]{3}(-Q[1-4])?" + END, description="2026-Q2 or 2026")]
    sales_amount: Yuan
    royalty_amount: Yuan


class ShareIn(msgspec.Struct, forbid_unknown_fields=True):
    person: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    percent: Percent
    basis: Literal["reward", "ownership"]


class PaymentOut(msgspec.Struct):
    id: int
    title: str
    due_on: dt.date
    amount: str
    received_on: dt.date | None
    received_amount: str | None


class RoyaltyOut(msgspec.Struct):
    id: int
    period: str
    sales_amount: str
    royalty_amount: str
    reported_at: dt.datetime


class ShareOut(msgspec.Struct):
    person: str
    percent: str
    basis: str


class AfterSigningOut(msgspec.Struct):
    contract_id: int
    trial_ends_on: dt.date | None
    trial_outcome: str | None
    trial_outcome_on: dt.date | None
    payments: list[PaymentOut]
    royalty_reports: list[RoyaltyOut]
    shares: list[ShareOut]


class PersonTotalOut(msgspec.Struct):
    person: str
    contracts: int
    due: str
    received: str


def payment_out(p) -> PaymentOut:
    return PaymentOut(p.id, p.title, p.due_on, yuan(p.amount), p.received_on, yuan(p.received_amount))


def _state(session: Session, actor: Actor, contract_id: int) -> AfterSigningOut:
    contract = contracts.get_contract(session, actor=actor, contract_id=contract_id)
    found = after_signing.after_signing(session, contract_id)
    return AfterSigningOut(
        contract.id, contract.trial_ends_on, contract.trial_outcome, contract.trial_outcome_on,
        [payment_out(p) for p in found.payments],
        [RoyaltyOut(r.id, r.period, yuan(r.sales_amount), yuan(r.royalty_amount), r.reported_at)
         for r in found.royalty_reports],
        [ShareOut(s.person, f"{s.percent:f}", s.basis) for s in found.shares])


class AfterSigningController(Controller):
    path = "/contracts/{contract_id:int}"
    tags = ["contracts"]

    @get("/after-signing", operation_id="getAfterSigning", sync_to_thread=True)
    def state(self, contract_id: PathId, actor: Actor, session: Session) -> AfterSigningOut:
        """Milestones, royalty reports, inventors' shares and the trial's outcome, for those who see the contract."""
        return _state(session, actor, contract_id)

    @post("/payments", operation_id="addPayment", status_code=201, sync_to_thread=True)
    def add_payment(self, contract_id: PathId, data: PaymentIn, actor: Actor, session: Session, request: Request,
                    idempotency_key: IdempotencyKey = None) -> Response[PaymentOut]:
        """A payment milestone (either party); together they may not exceed the amount (royalty contracts aside)."""
        def write() -> PaymentOut:
            return payment_out(after_signing.add_payment(session, actor=actor, contract_id=contract_id,
                                                         title=data.title, due_on=data.due_on,
                                                         amount=Decimal(data.amount)))

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/payments/{payment_id:int}/receipt", operation_id="recordReceipt", status_code=200, sync_to_thread=True)
    def receipt(self, contract_id: PathId, payment_id: PathId, data: ReceiptIn, actor: Actor,
                session: Session) -> PaymentOut:
        """Record what arrived and when (either party; a second receipt replaces the first)."""
        with session.begin():
            return payment_out(after_signing.record_receipt(
                session, actor=actor, contract_id=contract_id, payment_id=payment_id, received_on=data.received_on,
                received_amount=Decimal(data.received_amount)))

    @post("/trial-outcome", operation_id="recordTrialOutcome", status_code=200, sync_to_thread=True)
    def trial_outcome(self, contract_id: PathId, data: TrialOutcomeIn, actor: Actor,
                      session: Session) -> AfterSigningOut:
        """先使用后付费: the trial converted to a paid contract, or ended."""
        with session.begin():
            after_signing.record_trial_outcome(session, actor=actor, contract_id=contract_id,
                                               outcome=data.outcome, on=data.on)
            return _state(session, actor, contract_id)

    @post("/royalty-reports", operation_id="reportRoyalty", status_code=201, sync_to_thread=True)
    def royalty(self, contract_id: PathId, data: RoyaltyIn, actor: Actor, session: Session, request: Request,
                idempotency_key: IdempotencyKey = None) -> Response[RoyaltyOut]:
        """The licensee's (buyer's) sales and royalty for a quarter or year; one report per period (409 again)."""
        def write() -> RoyaltyOut:
            r = after_signing.report_royalty(session, actor=actor, contract_id=contract_id, period=data.period,
                                             sales_amount=Decimal(data.sales_amount),
                                             royalty_amount=Decimal(data.royalty_amount))
            return RoyaltyOut(r.id, r.period, yuan(r.sales_amount), yuan(r.royalty_amount), r.reported_at)

        return idempotency.created(session, request, user_id=actor.user_id, key=idempotency_key, data=data,
                                   write=write)

    @post("/shares", operation_id="recordShare", status_code=200, sync_to_thread=True)
    def share(self, contract_id: PathId, data: ShareIn, actor: Actor, session: Session) -> ShareOut:
        """An inventor's share of the proceeds (the seller's office); the same person again replaces it; all
        shares together at most 100%."""
        with session.begin():
            s = after_signing.record_share(session, actor=actor, contract_id=contract_id, person=data.person,
                                           percent=Decimal(data.percent), basis=data.basis)
            return ShareOut(s.person, f"{s.percent:f}", s.basis)


class InventorController(Controller):
    path = "/inventor-shares"
    tags = ["contracts"]

    @get("/", operation_id="listInventorTotals", sync_to_thread=True)
    def totals(self, actor: Actor, session: Session) -> list[PersonTotalOut]:
        """Per inventor of the caller's office: contracts, their share of the amounts due and of what arrived."""
        return [PersonTotalOut(t.person, t.contracts, f"{t.due:.2f}", f"{t.received:.2f}")
                for t in after_signing.inventor_totals(session, actor=actor)]
