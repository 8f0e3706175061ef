"""Technology contracts (技术合同): signing a negotiating pipeline, registration, and who may read which."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.api.patterns import END
from matchmaker.brokerage.common import READ_ALL_ROLES, Stage, current_time, parse
from matchmaker.brokerage.form import PARTY_TYPE_OF_KIND
from matchmaker.brokerage.pipelines import advance, check_holder, check_move, load_pipeline
from matchmaker.catalog.schemas import money_problem
from matchmaker.db import paged
from matchmaker.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from matchmaker.identity.market import any_in_market
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Contract, Demand, IndexChange, Organisation, Region
from matchmaker.regions import RegionCode, unknown_region
from matchmaker.trading.price_notices import check_signable as check_price_notice


def sign_contract(session: Session, *, actor: Actor, pipeline_id: int, contract_type: str, amount: Decimal | str,
                  certified_amount: Decimal | str | None = None, payment_mode: str, signed_on: dt.date,
                  trial_ends_on: dt.date | None = None, licence_scope: str | None = None, exclusive: bool = False,
                  close_demand: bool = False, buyer_region: str | None = None, seller_region: str | None = None,
                  note: str = "", expected_version: int | None = None, at: dt.datetime | None = None) -> Contract:
    """Log the contract of a negotiating pipeline and sign the pipeline, in the caller's one transaction.

    Buyer and seller are the demand's firm and the achievement's owner; their regions are the postings' own (where
    the need and the technology are), else the organisations'; `buyer_region` / `seller_region` correct them.
    `exclusive` (a transfer, or an exclusive licence) marks the achievement transferred, i.e. no longer on offer;
    close_demand marks the demand solved; both
    are logged in index_changes so every matcher process drops them.
    """
    now = current_time(at)
    pipeline = load_pipeline(session, pipeline_id)
    check_holder(actor, pipeline)
    terms = _contract_terms(contract_type, amount, certified_amount, payment_mode, signed_on, trial_ends_on,
                            licence_scope, exclusive)
    if pipeline.stage != Stage.NEGOTIATING.value:
        check_move(pipeline, Stage.SIGNED)  # names the reason: closed, or not negotiating yet
    # Sign first: on SQLite this first write takes the database's write lock, and FOR UPDATE below locks the two
    # records on PostgreSQL, so two deals on one achievement cannot both see it still untransferred.
    advance(session, pipeline, Stage.SIGNED, actor=actor, note=note, expected_version=expected_version, now=now)
    demand = session.get(Demand, pipeline.demand_id, with_for_update=True, populate_existing=True)
    achievement = session.get(Achievement, pipeline.achievement_id, with_for_update=True, populate_existing=True)
    _check_signable(demand, achievement, terms["signed_on"])
    check_price_notice(session, achievement_id=achievement.id, signed_on=terms["signed_on"],
                       buyer_id=demand.organisation_id, contract_type=terms["contract_type"])
    buyer = _party(session, demand.organisation_id, buyer_region or demand.region_code, "buyer", "需求")
    seller = _party(session, achievement.organisation_id, seller_region or achievement.region_code, "seller", "成果")
    # The registration form's fields the records already answer; the parties complete the rest before registration.
    known = {"title": achievement.title[:300], "field_code": achievement.field_code or demand.field_code,
             "seller_party_type": _party_type(session, seller[0]), "buyer_party_type": _party_type(session, buyer[0])}
    contract = Contract(pipeline_id=pipeline.id, achievement_id=achievement.id, demand_id=demand.id,
                        broker_id=pipeline.broker_id, buyer_id=buyer[0], buyer_region_code=buyer[1],
                        seller_id=seller[0], seller_region_code=seller[1], created_at=now, updated_at=now,
                        **known, **terms)
    session.add(contract)
    if exclusive:
        achievement.status = v.AchievementStatus.TRANSFERRED.value
        session.add(IndexChange(library=v.Library.ACHIEVEMENTS.value, record_id=achievement.id, at=now))
    if close_demand:
        demand.status = v.DemandStatus.SOLVED.value
        session.add(IndexChange(library=v.Library.DEMANDS.value, record_id=demand.id, at=now))
    session.flush()
    return contract


def _contract_terms(contract_type, amount, certified_amount, payment_mode, signed_on, trial_ends_on,
                    licence_scope, exclusive) -> dict:
    contract_type = parse(v.ContractType, contract_type, "contract_type")
    payment_mode = parse(v.PaymentMode, payment_mode, "payment_mode")
    amount = _yuan(amount, "amount")
    certified = _yuan(certified_amount, "certified_amount")
    if certified is not None and certified > amount:
        raise InvalidInput.on("certified_amount", f"核定技术交易额（{certified:f} 元）不能超过合同成交额（{amount:f} 元）；"
                                                  "请改为不超过成交额的金额")
    if payment_mode is v.PaymentMode.USE_FIRST_PAY_LATER:
        if trial_ends_on is None:
            raise InvalidInput.on("trial_ends_on", "选择“先使用后付费”时须填写试用期截止日期")
        if trial_ends_on <= signed_on:
            raise InvalidInput.on("trial_ends_on", f"试用期截止日期 {trial_ends_on} 须在签订日期 {signed_on} 之后；请改正")
    elif trial_ends_on is not None:
        raise InvalidInput.on("trial_ends_on", "只有“先使用后付费”的合同才有试用期；请清空试用期截止日期，或改选支付方式")
    scope = parse(v.LicenceScope, licence_scope, "licence_scope") if licence_scope is not None else None
    if scope is not None and contract_type is not v.ContractType.LICENCE:
        raise InvalidInput.on("licence_scope", "许可范围只适用于技术许可合同；其他类型的合同请不要选择许可范围")
    # Off the market: ownership moved, or nobody but the licensee may use it any more.
    if exclusive and not (contract_type is v.ContractType.TRANSFER or scope is v.LicenceScope.EXCLUSIVE):
        raise InvalidInput.on("exclusive", "只有技术转让合同或独占许可合同会让成果下架；请取消勾选，或改选合同类型")
    return {"contract_type": contract_type.value, "payment_mode": payment_mode.value, "amount": amount,
            "certified_amount": certified, "signed_on": signed_on, "trial_ends_on": trial_ends_on,
            "licence_scope": scope.value if scope else None}


def _yuan(value: Decimal | str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value) if isinstance(value, str) else value
    except InvalidOperation:
        raise InvalidInput.on(field, f"“{value}”不是金额；请只填数字（单位：元），例如 500000 或 125000.50") from None
    if not isinstance(amount, Decimal):
        raise InvalidInput.on(field, "金额请用字符串传递（例如 \"125000.50\"），避免浮点误差")
    reason = money_problem(amount)
    if reason:
        raise InvalidInput.on(field, reason)
    return amount


def _check_signable(demand: Demand, achievement: Achievement, signed_on: dt.date) -> None:
    if achievement.status in (v.AchievementStatus.TRANSFERRED.value, v.AchievementStatus.WITHDRAWN.value):
        raise Conflict(f"该成果{v.STATUS_NAMES[achievement.status]}，不能再据此签订合同；"
                       "请在对接看板上终止这项对接，或认领其他匹配。")
    if demand.status in (v.DemandStatus.SOLVED.value, v.DemandStatus.WITHDRAWN.value):
        raise Conflict(f"该需求{v.STATUS_NAMES[demand.status]}，不能再据此签订合同；"
                       "请在对接看板上终止这项对接，或认领其他匹配。")
    # A contract signed after the posting closed was not made through it (issue 15's audit found 24 such); the
    # owner renews the posting first, which puts it back on offer for everyone, or the deal goes on outside.
    if achievement.expires_on is not None and signed_on > achievement.expires_on:
        reason = f"成果已于 {achievement.expires_on.isoformat()} 到期，签订日期在其后；请成果发布方先续期，再登记合同"
        raise Conflict.on("signed_on", reason)
    if demand.deadline is not None and signed_on > demand.deadline:
        reason = f"需求已于 {demand.deadline.isoformat()} 截止，签订日期在其后；请需求发布方先续期，再登记合同"
        raise Conflict.on("signed_on", reason)


def _party_type(session: Session, organisation_id: int) -> str | None:
    return PARTY_TYPE_OF_KIND.get(session.get(Organisation, organisation_id).kind)


PARTY_NAMES = {"buyer": "买方", "seller": "卖方"}


def _party(session: Session, organisation_id: int | None, record_region: str | None, role: str,
           record: str) -> tuple[int, str]:
    """(organisation id, region code) of a contract party: the posting's region (a firm in 海北 with a demand in
    大连 buys for 大连), else its organisation's. `role` is buyer or seller, `record` the posting in words (需求)."""
    party = PARTY_NAMES[role]
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise Conflict(f"该{record}没有所属单位，无法作为合同的{party}；请联系平台管理员为它补上所属单位后再签约。")
    if record_region is not None and session.get(Region, record_region) is None:
        raise InvalidInput.on(f"{role}_region", unknown_region(record_region))
    region = record_region or organisation.region_code
    if region is None:
        raise Conflict(f"{party}“{organisation.name}”没有登记所在地区；请填写{party}所在地区，"
                       "或请该单位在单位资料中补充地区后再签约。")
    return organisation.id, region


def register_contract(session: Session, *, actor: Actor, contract_id: int, registration_number: str,
                      registered_on: dt.date) -> Contract:
    """Record the registration (认定登记) number an admin got for a contract; numbers are unique."""
    if not actor.is_(v.Role.ADMIN):
        raise Forbidden("只有平台管理员可以记录合同的认定登记；请联系平台管理员办理。")
    contract = _contract(session, contract_id)
    number = registration_number.strip()
    if not number:
        raise InvalidInput.on("registration_number", "请填写登记号")
    if registered_on < contract.signed_on:
        raise InvalidInput.on("registered_on", f"登记日期 {registered_on} 早于合同签订日期 {contract.signed_on}；"
                                               "合同签订后才能登记，请改正登记日期")
    other = session.scalar(select(Contract.id).where(Contract.registration_number == number, Contract.id != contract_id))
    if other is not None:
        raise Conflict(f"登记号 {number} 已用于平台上的另一份合同；请核对登记号后再提交。",
                       problems=[FieldProblem("registration_number", f"登记号 {number} 已用于另一份合同，请核对")])
    contract.registration_number, contract.registered_on = number, registered_on
    session.flush()
    return contract


def get_contract(session: Session, *, actor: Actor, contract_id: int) -> Contract:
    contract = _contract(session, contract_id)
    if not session.scalar(_visible_contracts(select(Contract.id), actor).where(Contract.id == contract_id)):
        raise Forbidden("您无权查看这份合同：只有合同的买卖双方、经办的技术经纪人、平台管理员和所在地区的科技管理部门"
                        "可以查看。")
    return contract


def list_contracts(session: Session, *, actor: Actor, period: str | None = None, region: str | None = None,
                   contract_type: str | None = None, broker_id: int | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[list[Contract], int]:
    """Contracts newest first; `period` is YYYY, YYYY-Qn or YYYY-MM, `region` matches buyer or seller within it."""
    query = _visible_contracts(select(Contract), actor)
    if period is not None:
        start, end = period_bounds(period)
        query = query.where(Contract.signed_on >= start, Contract.signed_on < end)
    if region is not None:
        prefix = RegionCode(region).prefix + "%"
        query = query.where(or_(Contract.buyer_region_code.like(prefix), Contract.seller_region_code.like(prefix)))
    if contract_type is not None:
        query = query.where(Contract.contract_type == parse(v.ContractType, contract_type, "type").value)
    if broker_id is not None:
        query = query.where(Contract.broker_id == broker_id)
    rows, total = paged(session, query.order_by(Contract.signed_on.desc(), Contract.id.desc()),
                        limit=limit, offset=offset)
    return [row[0] for row in rows], total


def _visible_contracts(query: Select, actor: Actor) -> Select:
    if actor.is_(*READ_ALL_ROLES):
        scope = any_in_market(actor, Contract.seller_region_code, Contract.buyer_region_code)
        return query if scope is None else query.where(scope)   # a city analyst: contracts its city sold or bought
    if actor.is_(v.Role.BROKER):
        return query.where(Contract.broker_id == (actor.broker_id or 0))
    return query.where(or_(Contract.buyer_id == actor.organisation_id, Contract.seller_id == actor.organisation_id))


def _contract(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("没有找到该合同；请从合同列表中重新选择。")
    return contract


# Years 1000-2999: year 0 has no date, and the period after 9999 neither (both were 500s).
PERIOD_PATTERN = r"^[12][0-9]{3}(-Q[1-4]|-(0[1-9]|1[0-2]))?" + END


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """[start, end) of a year (2026), quarter (2026-Q2) or month (2026-05)."""
    if not re.fullmatch(PERIOD_PATTERN, period):
        raise InvalidInput.on("period", f"“{period}”不是有效的统计期间；请按 YYYY、YYYY-Qn 或 YYYY-MM 填写，"
                                        "例如 2026、2026-Q1 或 2026-05（年份在 1000 到 2999 之间）")
    year = int(period[:4])
    if len(period) == 4:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if period[5] == "Q":
        first_month = 3 * (int(period[6]) - 1) + 1
        return dt.date(year, first_month, 1), _month_after(year, first_month + 2)
    month = int(period[5:])
    return dt.date(year, month, 1), _month_after(year, month)


def _month_after(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


