"""Request and response shapes for brokers, pipelines, contracts and feedback."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import msgspec

from matchmaker import vocabulary as v
from matchmaker.api.params import Yuan
from matchmaker.api.patterns import END, LINE_CHAR, NOT_SPACE
from matchmaker.brokerage import form
from matchmaker.catalog.schemas import FieldCode, RegionCode

# PostgreSQL's integer; a bigger id cannot exist, and SQLite's driver would overflow on it (a 500, not a 404).
MAX_ID = 2**31 - 1
RecordId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Version = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
RegistrationNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=rf"^{NOT_SPACE}({LINE_CHAR}*{NOT_SPACE})?{END}")]


def yuan(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


class BrokerOut(msgspec.Struct):
    id: int
    name: str
    level: str
    agency_id: int
    agency_name: str
    region_code: str | None
    certified_on: dt.date | None
    user_id: int | None



class ClaimIn(msgspec.Struct, forbid_unknown_fields=True):
    demand_id: RecordId
    achievement_id: RecordId
    note: Note = ""


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    to_stage: v.PipelineStage
    note: Note = ""
    expected_version: Version | None = None


class PipelineEventOut(msgspec.Struct):
    id: int
    from_stage: str | None
    to_stage: str
    actor_user_id: int | None
    note: str
    at: dt.datetime


class PipelineOut(msgspec.Struct):
    id: int
    demand_id: int
    achievement_id: int
    broker_id: int
    stage: str
    score: float | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PipelineDetail(PipelineOut):
    events: list[PipelineEventOut] = []
    contract_id: int | None = None



class ContractIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The registration form's fields a broker types; buyer and seller come from the records."""

    contract_type: v.ContractType
    amount: Yuan  # 成交额
    certified_amount: Yuan | None = None  # 核定技术交易额
    payment_mode: v.PaymentMode
    trial_ends_on: dt.date | None = None  # required for use_first_pay_later (先使用后付费)
    signed_on: dt.date
    licence_scope: v.LicenceScope | None = None  # licence contracts: exclusive 独占 / sole 排他 / ordinary 普通
    exclusive: bool = False  # takes the achievement off the market: a transfer, or an exclusive licence
    close_demand: bool = False
    # The postings' own regions by default (where the need and the technology are); set these to correct them.
    buyer_region: RegionCode | None = None
    seller_region: RegionCode | None = None
    note: Note = ""   # kept with the signing in the deal thread
    expected_version: Version | None = None


def _choice(names: dict[str, str], what: str):
    return Annotated[str, msgspec.Meta(min_length=1, max_length=20, description=f"{what}: {', '.join(names)}")]


Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}" + END, description="ISO 3166 alpha-2 country code (CN, US, …)")]


class ContractFormIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The registration form (技术合同认定登记表) a party fills in; brokerage/form.py holds the lists."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]   # 项目名称
    contract_type: v.ContractType
    sub_type: _choice({k: n for sub in form.SUBTYPES.values() for k, n in sub.items()}, "sub-type of the contract type")
    amount: Yuan   # 成交额
    certified_amount: Yuan | None = None   # 核定技术交易额, at most the amount
    payment_mode: v.PaymentMode
    trial_ends_on: dt.date | None = None
    licence_scope: v.LicenceScope | None = None
    signed_on: dt.date
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    field_code: FieldCode
    ip_type: _choice(form.IP_TYPES, "IP type") = "none"
    programme: _choice(form.PROGRAMMES, "计划类别") = "none"
    seller_party_type: _choice(form.PARTY_TYPES, "party type") | None = None   # default: from the organisation
    buyer_party_type: _choice(form.PARTY_TYPES, "party type") | None = None
    seller_country: Country = "CN"
    buyer_country: Country = "CN"
    seller_region_code: RegionCode | None = None   # default: the organisation's; none for a party abroad
    buyer_region_code: RegionCode | None = None
    foreign_related: bool = False   # 涉外; set by itself when a party is abroad
    tax_relief: bool = False   # 涉税: the parties ask for the technology-contract tax exemption


class ContractSubmissionIn(ContractFormIn, kw_only=True):
    seller_id: RecordId
    buyer_id: RecordId


class DocumentOut(msgspec.Struct):
    contract_id: int
    filename: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    certified_amount: Yuan | None = None   # 核定技术交易额 as the registrar certifies it


class RegistryImportOut(msgspec.Struct):
    imported: int
    new_organisations: int   # parties the platform did not know, added to the directory


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class RegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    registration_number: RegistrationNumber
    registered_on: dt.date


class ContractOut(msgspec.Struct):
    id: int
    pipeline_id: int | None
    contract_type: str
    amount: str
    certified_amount: str | None
    payment_mode: str
    licence_scope: str | None
    trial_ends_on: dt.date | None
    signed_on: dt.date
    buyer_id: int
    buyer_region_code: str | None
    seller_id: int
    seller_region_code: str | None
    achievement_id: int | None
    demand_id: int | None
    broker_id: int | None
    registration_number: str | None
    registered_on: dt.date | None
    created_at: dt.datetime
    registration_office: str | None = None   # region code of the office that registered it
    return_reason: str | None = None         # why the registrar sent it back (until it is registered)
    title: str | None = None
    sub_type: str | None = None
    seller_party_type: str | None = None
    buyer_party_type: str | None = None
    seller_country: str = "CN"
    buyer_country: str = "CN"
    field_code: str | None = None
    ip_type: str | None = None
    programme: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    foreign_related: bool = False
    tax_relief: bool = False
    document_sha256: str | None = None



class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    demand_id: RecordId
    achievement_id: RecordId
    relevant: bool
    reason: v.FeedbackReason | None = None
    note: Note = ""


class FeedbackOut(msgspec.Struct):
    id: int
    demand_id: int
    achievement_id: int
    user_id: int
    relevant: bool
    reason: str | None
    note: str
    created_at: dt.datetime



def document_out(d) -> DocumentOut:
    return DocumentOut(d.contract_id, d.filename, d.size, d.sha256, d.uploaded_at)


def broker_out(broker, agency_name: str) -> BrokerOut:
    return BrokerOut(broker.id, broker.name, broker.level, broker.agency_id, agency_name, broker.region_code,
                     broker.certified_on, broker.user_id)


def pipeline_out(pipeline) -> PipelineOut:
    return PipelineOut(pipeline.id, pipeline.demand_id, pipeline.achievement_id, pipeline.broker_id, pipeline.stage,
                       pipeline.score, pipeline.version, pipeline.created_at, pipeline.updated_at)


def pipeline_detail(pipeline, contract_id: int | None) -> PipelineDetail:
    events = [PipelineEventOut(e.id, e.from_stage, e.to_stage, e.actor_user_id, e.note, e.at) for e in pipeline.events]
    return PipelineDetail(**msgspec.structs.asdict(pipeline_out(pipeline)), events=events, contract_id=contract_id)


def contract_out(c, document_sha256: str | None = None) -> ContractOut:
    return ContractOut(
        c.id, c.pipeline_id, c.contract_type, yuan(c.amount), yuan(c.certified_amount), c.payment_mode, c.licence_scope,
        c.trial_ends_on,
        c.signed_on, c.buyer_id, c.buyer_region_code, c.seller_id, c.seller_region_code, c.achievement_id, c.demand_id,
        c.broker_id, c.registration_number, c.registered_on, c.created_at, c.registration_office, c.return_reason,
        c.title, c.sub_type, c.seller_party_type, c.buyer_party_type, c.seller_country, c.buyer_country, c.field_code,
        c.ip_type, c.programme, c.valid_from, c.valid_until, c.foreign_related, c.tax_relief, document_sha256,
    )


def feedback_out(f) -> FeedbackOut:
    return FeedbackOut(f.id, f.demand_id, f.achievement_id, f.user_id, f.relevant, f.reason, f.note, f.created_at)
