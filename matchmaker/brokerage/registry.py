"""Registering technology contracts (技术合同认定登记): a registrar of the parties' region registers a contract,
which gives it the next number of the office's sequence for the year, or returns it with the reasons.

Numbers read YYYY + the office's six-digit region code + a six-digit serial (2026 210200 000123 → "2026210200000123"),
after the registration form's pattern of year, registration office and serial. Each office has one sequence a year
(`registration_sequences`); taking a number is an UPDATE … RETURNING inside the registering transaction: the row
lock (PostgreSQL) or the write lock (SQLite) serialises registrars, and a registration that fails gives its number
back with its rollback, so numbers have no gaps and no repeats.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Conflict, Forbidden, InvalidInput, NotFound
from matchmaker.identity.market import any_in_market
from matchmaker.identity.services import Actor
from matchmaker.models import Broker, Contract, RegistrationSequence
from matchmaker.notices.services import notify, organisation_users

REGISTRARS = (v.Role.ADMIN, v.Role.ANALYST)


def office_of(actor: Actor, contract: Contract) -> str:
    """The registering office: the registrar's own market, else the seller's city (contracts are registered where
    the technology comes from)."""
    return actor.region_code or (contract.seller_region_code[:4] + "00")


def _registrable(session: Session, actor: Actor, contract_id: int) -> Contract:
    if actor.role not in REGISTRARS:
        raise Forbidden("只有技术合同登记机构（科技管理部门）可以登记或退回合同")
    query = select(Contract).where(Contract.id == contract_id)
    scope = any_in_market(actor, Contract.seller_region_code, Contract.buyer_region_code)
    contract = session.scalar(query if scope is None else query.where(scope))
    if contract is None:
        raise NotFound("没有找到该合同：它可能不属于您负责的地区")
    if contract.registration_number is not None:
        raise Conflict(f"该合同已经登记，登记号 {contract.registration_number}")
    return contract


def next_number(session: Session, office: str, year: int) -> str:
    """Take the office's next number for the year (in the caller's transaction)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(RegistrationSequence).values(office_code=office, year=year, last=0)
                    .on_conflict_do_nothing(index_elements=["office_code", "year"]))
    serial = session.scalar(update(RegistrationSequence)
                            .where(RegistrationSequence.office_code == office, RegistrationSequence.year == year)
                            .values(last=RegistrationSequence.last + 1).returning(RegistrationSequence.last))
    return f"{year}{office}{serial:06d}"


def register(session: Session, *, actor: Actor, contract_id: int, today: dt.date | None = None,
             certified_amount: Decimal | None = None) -> Contract:
    """Register the contract with the office's next number; the registrar may certify its 技术交易额 here (认定登记
    certifies the technology part of the price), which replaces what the parties declared."""
    today = today or dt.date.today()
    contract = _registrable(session, actor, contract_id)
    if today < contract.signed_on:
        raise InvalidInput.on("registered_on", "合同签订之前不能登记")
    if certified_amount is not None:
        if certified_amount < 0 or certified_amount > contract.amount:
            raise InvalidInput.on("certified_amount", f"核定技术交易额须在 0 到合同成交额 {contract.amount:f} 元之间")
        contract.certified_amount = certified_amount
    office = office_of(actor, contract)
    contract.registration_number = next_number(session, office, today.year)
    contract.registered_on, contract.registration_office, contract.return_reason = today, office, None
    _tell_parties(session, contract, f"技术合同已登记：{contract.registration_number}",
                  f"登记号 {contract.registration_number}，登记日期 {today.isoformat()}。")
    session.flush()
    return contract


def return_for_correction(session: Session, *, actor: Actor, contract_id: int, reason: str) -> Contract:
    contract = _registrable(session, actor, contract_id)
    reason = reason.strip()
    if not reason:
        raise InvalidInput.on("reason", "退回时请写明需要补正的内容，合同双方会看到")
    contract.return_reason = reason
    _tell_parties(session, contract, "技术合同登记被退回，请补正", f"登记机构的意见：{reason}")
    session.flush()
    return contract


def _tell_parties(session: Session, contract: Contract, title: str, body: str) -> None:
    people = organisation_users(session, contract.seller_id) + organisation_users(session, contract.buyer_id)
    if contract.broker_id is not None:   # the deal's broker hears it too
        people += [u for u in [session.scalar(select(Broker.user_id).where(Broker.id == contract.broker_id))] if u]
    notify(session, people, kind=v.NoticeKind.DEAL_STAGE,
           event=f"registry:{contract.id}:{contract.registration_number or 'returned'}:{len(contract.return_reason or '')}",
           title=title, body=body, link=f"/web/contracts/{contract.id}")
