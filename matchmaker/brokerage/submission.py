"""A party submits a technology contract for registration (技术合同认定登记) with the registration form's fields,
whether a broker here brokered it or not; it then waits for the registrar of the parties' region (registry.py).
A returned contract is corrected by a party and waits again. The signed text is attached as a PDF with its SHA-256.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage import form
from matchmaker.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Contract, ContractDocument, Organisation, Region, TechnologyField, User
from matchmaker.notices.services import notify
from matchmaker.regions import RegionCode
from matchmaker.uploads import checked_pdf

PARTIES = (v.Role.OFFICE, v.Role.FIRM)
FORM_FIELDS = tuple(name for name in form.FIELD_NAMES if name not in ("registration_number", "registered_on",
                                                                      "seller_name", "buyer_name"))


def reference_lists(session: Session) -> tuple[set[str], dict[str, str]]:
    """The region codes and technology fields (code → name) a file of forms is checked against, read once."""
    regions = set(session.scalars(select(Region.code)))
    return regions, field_names(session)


def field_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(TechnologyField.code, TechnologyField.name))}


class _KnownRegions:
    """"Is this a GB/T 2260 code?" for one form, asked of the database (a form names two regions; the table has
    some 3,500 rows, which a file's import reads once instead, through reference_lists)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.session.get(Region, code) is not None


def checked(session: Session, values: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The form's values as columns, or InvalidInput naming every field at fault."""
    columns, problems = form.check(values, regions=_KnownRegions(session), fields=field_names(session), today=today)
    if problems:
        raise InvalidInput("登记表有 %d 处需要改正" % len(problems),
                           problems=[FieldProblem(name, reason) for name, reason in problems])
    return columns


def submit_contract(session: Session, *, actor: Actor, values: dict[str, Any], seller_id: int, buyer_id: int,
                    today: dt.date | None = None) -> Contract:
    """A seller's or buyer's user submits a contract; it waits as 待登记 for the registrar."""
    if actor.role not in PARTIES:
        raise Forbidden("只有合同的买方或卖方（高校院所、企业）可以提交合同登记；经纪人请在对接看板上签约")
    if actor.organisation_id not in (seller_id, buyer_id):
        raise InvalidInput.on("seller_id", "提交的合同须以本单位为买方或卖方之一")
    if seller_id == buyer_id:
        raise InvalidInput.on("buyer_id", "买方和卖方不能是同一家单位")
    values = dict(values)
    for side, organisation_id in (("seller", seller_id), ("buyer", buyer_id)):
        organisation = session.get(Organisation, organisation_id)
        if organisation is None or organisation.status != v.OrganisationStatus.ACTIVE.value:
            raise InvalidInput.on(f"{side}_id", f"没有找到这家{'卖方' if side == 'seller' else '买方'}单位；请从平台的单位名录中选择")
        # The organisation's own kind and region fill what the submitter left empty.
        values.setdefault(f"{side}_party_type", form.PARTY_TYPE_OF_KIND.get(organisation.kind))
        if not values.get(f"{side}_region_code") and (values.get(f"{side}_country") or "CN") == "CN":
            values[f"{side}_region_code"] = organisation.region_code
    columns = checked(session, values, today or dt.date.today())
    contract = Contract(seller_id=seller_id, buyer_id=buyer_id, submitted_by=actor.user_id, **columns)
    session.add(contract)
    session.flush()
    _tell_registrars(session, contract)
    return contract


def amend_contract(session: Session, *, actor: Actor, contract_id: int, values: dict[str, Any],
                   today: dt.date | None = None) -> Contract:
    """A party corrects a contract the registrar returned (or one still waiting); it waits again."""
    contract = party_contract(session, actor, contract_id)
    merged = {name: getattr(contract, name) for name in FORM_FIELDS} | values
    for name in ("amount", "certified_amount"):
        if isinstance(merged.get(name), float):
            raise InvalidInput.on(name, "金额请用字符串传递，避免浮点误差")
    columns = checked(session, merged, today or dt.date.today())
    for name, value in columns.items():
        setattr(contract, name, value)
    contract.return_reason = None
    session.flush()
    _tell_registrars(session, contract)
    return contract


def party_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """A contract the actor's organisation is party to and that is not registered yet."""
    contract = session.get(Contract, contract_id, with_for_update=True)
    if contract is None or actor.organisation_id not in (contract.seller_id, contract.buyer_id) \
            or actor.role not in PARTIES:
        raise NotFound("没有找到该合同：只有合同双方可以修改")
    if contract.registration_number is not None:
        raise Conflict(f"该合同已经登记（登记号 {contract.registration_number}），不能再修改")
    return contract


def attach_document(session: Session, *, actor: Actor, contract_id: int, filename: str, content: bytes) -> ContractDocument:
    """Store the signed contract's PDF (replacing an earlier one until registration) with its SHA-256."""
    contract = party_contract(session, actor, contract_id)
    pdf = checked_pdf(content, filename, field="document", default_name="contract.pdf",
                      not_pdf="合同文本须为 PDF 文件；请用“导出为 PDF”或扫描成 PDF 后再上传",
                      too_big="PDF 超过 {mb} MB，请压缩后再上传")
    document = session.get(ContractDocument, contract.id) or ContractDocument(contract_id=contract.id)
    document.filename, document.sha256 = pdf.filename, pdf.sha256
    document.size, document.content, document.uploaded_by = pdf.size, content, actor.user_id
    document.uploaded_at = dt.datetime.now(dt.UTC)
    session.add(document)
    session.flush()
    return document


def document_of(session: Session, contract_id: int) -> ContractDocument | None:
    return session.get(ContractDocument, contract_id)


def _tell_registrars(session: Session, contract: Contract) -> None:
    """Registrars whose market holds a party: they have a contract to review."""
    registrars = session.execute(select(User.id, User.region_code).where(
        User.role.in_([v.Role.ANALYST.value, v.Role.ADMIN.value]), User.revoked_at.is_(None))).all()
    codes = [c for c in (contract.seller_region_code, contract.buyer_region_code) if c]
    people = [uid for uid, market in registrars
              if market is None or any(RegionCode(market).contains(code) for code in codes)]
    notify(session, people, kind=v.NoticeKind.DEAL_STAGE, event=f"registry-submitted:{contract.id}:{contract.updated_at}",
           title="有技术合同待登记", body=f"《{contract.title or '技术合同'}》等待认定登记。", link=f"/web/contracts/{contract.id}")


def organisation_named(session: Session, name: str) -> int | None:
    """An active organisation by its exact name (the pages let a party type the counterpart's name)."""
    return session.scalar(select(Organisation.id).where(Organisation.name == name.strip(),
                                                        Organisation.status == v.OrganisationStatus.ACTIVE.value))


def counterpart_names(session: Session, actor: Actor) -> list[str]:
    """Names a party may pick as the other side: active universities, institutes and firms but its own."""
    kinds = [v.OrganisationKind.UNIVERSITY.value, v.OrganisationKind.INSTITUTE.value, v.OrganisationKind.ENTERPRISE.value]
    return list(session.scalars(select(Organisation.name).where(
        Organisation.kind.in_(kinds), Organisation.status == v.OrganisationStatus.ACTIVE.value,
        Organisation.id != actor.organisation_id).order_by(Organisation.name)))
