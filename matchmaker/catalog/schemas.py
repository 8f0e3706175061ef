"""Record schemas (msgspec Structs) for organisations, achievements and demands, shared by import and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from matchmaker.api.params import BodyId
from matchmaker.api.patterns import END, NOT_SPACE, REGION_CODE, VISIBLE, YUAN
from matchmaker.vocabulary import (
    AchievementStatus,
    DemandStatus,
    FirmSize,
    IPStatus,
    IPType,
    OrganisationKind,
    PricingMode,
    TransferMode,
)

# Lengths follow the columns in matchmaker/models.py; `description` says the form in the API's spec, and
# `extra["words"]` says it in Chinese for the importer's reason when a pattern does not match ("应为…，现为…").
ExternalId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=rf"^{NOT_SPACE}+{END}", description="an id without spaces",
                      extra={"words": "不含空格的编号（例如 A-2024-001）"})
]
RegionCode = Annotated[str, msgspec.Meta(pattern=REGION_CODE, description="a six-digit GB/T 2260 code",
                                         extra={"words": "由 6 位数字组成的行政区划代码（GB/T 2260，例如大连市 210200）"})]
# A body's field code is checked against the technology_fields table (422 when unknown), like a region: the
# table is reference data an operator may extend; the query filters declare the seeded codes as an enum.
FieldCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]

# Some character that shows: whitespace (U+3000 included) and zero-width marks alone make a blank title.
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=VISIBLE,
                                    description="text with at least one visible character",
                                    extra={"words": "看得见的文字（不能只有空格或看不见的字符）"})]
TRL = Annotated[int, msgspec.Meta(ge=1, le=9, description="a technology readiness level 1–9")]
# 统一社会信用代码 (GB 32100): 18 characters from digits and capitals without I, O, Z, S, V.
CreditCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}" + END,
        description="an 18-character unified social credit code",
        extra={"words": "由 18 位数字和大写字母组成的统一社会信用代码（不含 I、O、Z、S、V）"},
    ),
]
# "|" separates IP records in CSV, so a number may not contain it.
IPNumber = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[^|]+" + END, description="a number without '|'",
                      extra={"words": "不含“|”的编号"})
]

# Numeric(16, 2): msgspec cannot put bounds on Decimal, so money is checked in __post_init__.
MONEY_MAX = Decimal("99999999999999.99")
CENT = Decimal("0.01")
# The spec still says what is accepted: a decimal string of whole yuan with at most two decimals.
Money = Annotated[Decimal, msgspec.Meta(extra_json_schema={
    "description": "an amount in yuan, at most two decimals", "extra": {"pattern": YUAN}})]


class _Record(msgspec.Struct, forbid_unknown_fields=True):
    """Base: unknown fields are errors (a typo such as `tlr` must not pass silently); subclasses are kw_only
    so required fields may follow defaulted ones in reading order."""

    def __post_init__(self) -> None:
        problems = self.cross_field_problems()
        if problems:
            raise ValueError("; ".join(f"{field}: {reason}" for field, reason in problems))

    def cross_field_problems(self) -> list[tuple[str, str]]:
        return record_problems(type(self), self)


class OrganisationIn(_Record, kw_only=True):
    """A university, institute, enterprise, agency or government body."""

    id: ExternalId | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=VISIBLE,
                                      description="a name with at least one visible character",
                                      extra={"words": "看得见的名称（不能只有空格或看不见的字符）"})]
    kind: OrganisationKind
    credit_code: CreditCode | None = None
    region: RegionCode | None = None
    size: FirmSize | None = None
    high_tech: bool = False  # 高新技术企业
    industry: Annotated[str, msgspec.Meta(max_length=60)] | None = None


class IPRecordIn(_Record, kw_only=True):
    """A patent, software copyright or other IP right behind an achievement."""

    ip_type: IPType
    number: IPNumber
    status: IPStatus = IPStatus.GRANTED


class AchievementIn(_Record, kw_only=True):
    """A 科技成果; defaults are what an import row without the field gets (see docs/import-export.md)."""

    id: ExternalId | None = None
    title: Title
    summary: str = ""
    confidential_detail: str | None = None
    keywords: Annotated[str, msgspec.Meta(max_length=500)] = ""
    team: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    field: FieldCode | None = None
    trl: TRL | None = None
    organisation: ExternalId | None = None
    region: RegionCode | None = None
    transfer_modes: list[TransferMode] = []
    pricing_mode: PricingMode | None = None
    asking_price: Money | None = None
    use_first_pay_later: bool = False  # 先使用后付费
    status: AchievementStatus = AchievementStatus.PUBLISHED
    posted_on: dt.date | None = None
    expires_on: dt.date | None = None
    ip_records: list[IPRecordIn] = []


class DemandIn(_Record, kw_only=True):
    """A 企业技术需求; a challenge (揭榜挂帅) may carry a bounty, any other demand may not."""

    id: ExternalId | None = None
    title: Title
    problem: str = ""  # 拟解决的技术难题
    targets: str = ""
    conditions: str = ""
    field: FieldCode | None = None
    min_trl: TRL | None = None
    budget_min: Money | None = None
    budget_max: Money | None = None
    cooperation_modes: list[TransferMode] = []
    is_challenge: bool = False
    bounty: Money | None = None
    deadline: dt.date | None = None
    organisation: ExternalId | None = None
    region: RegionCode | None = None
    status: DemandStatus = DemandStatus.PUBLISHED
    posted_on: dt.date | None = None


MONEY_FIELDS: dict[type, tuple[str, ...]] = {
    AchievementIn: ("asking_price",),
    DemandIn: ("budget_min", "budget_max", "bounty"),
}


def record_problems(schema: type, record: Any) -> list[tuple[str, str]]:
    """The checks msgspec.Meta cannot express, as (field, reason) pairs.

    Takes any object with the schema's attributes, so the importer can run the same checks on
    values it converted field by field, without building the Struct first.
    """
    schema = BASE_SCHEMA.get(schema, schema)
    problems = [
        (name, reason)
        for name in MONEY_FIELDS.get(schema, ())
        if (reason := money_problem(getattr(record, name))) is not None
    ]
    bad_money = {name for name, _ in problems}  # no comparison on an amount already reported
    if schema is AchievementIn:
        if record.posted_on and record.expires_on and record.expires_on < record.posted_on:
            problems.append(("expires_on", (f"有效期 {record.expires_on} 早于发布日期 {record.posted_on}，"
                                            "请把有效期改为发布日期之后")))
    elif schema is DemandIn:
        low, high = record.budget_min, record.budget_max
        if (
            low is not None
            and high is not None
            and not bad_money & {"budget_min", "budget_max"}
            and low > high
        ):
            problems.append(("budget_min", f"预算下限 {low:f} 元高于预算上限 {high:f} 元，请调低下限或调高上限"))
        # A bounty is the prize of a challenge list (揭榜挂帅); on an ordinary demand it would be read
        # as an offer nobody can claim. Zero is tolerated so exports of "no bounty" stay importable.
        bounty = record.bounty
        if not record.is_challenge and bounty is not None and "bounty" not in bad_money and bounty > 0:
            problems.append(
                ("bounty", (f"只有揭榜挂帅项目才能设置悬赏金额（现为 {bounty:f} 元）；请把这条需求设为揭榜挂帅，"
                            "或清空悬赏金额"))
            )
    return problems


def money_problem(amount: Decimal | None) -> str | None:
    """Why an amount of yuan does not fit Numeric(16, 2), or None when it does."""
    if amount is None:
        return None
    if not amount.is_finite():
        return f"金额应为数字（单位：元），现为 {amount}"
    if amount < 0:
        return f"金额不能为负数，现为 {amount:f}"
    if amount > MONEY_MAX:
        return f"金额不能超过 {MONEY_MAX:f} 元，现为 {amount:f}；请核对金额和单位（元）"
    if amount != amount.quantize(CENT):
        return f"金额最多保留两位小数（精确到分），现为 {amount:f}"
    return None


# ---------------------------------------------------------------- API shapes
#
# The API's create and update bodies are derived from the import schemas above, so a field's type,
# bounds and wording are defined once. The workflow decides what the import lets a file state:
# status and posted_on follow review, the owner is the caller's organisation, and external ids
# belong to imports.
SERVER_SET_FIELDS = frozenset({"id", "organisation", "status", "posted_on"})


def _api_struct(name: str, schema: type, *, partial: bool, extra: list | None = None) -> type:
    """A request Struct with the schema's fields minus SERVER_SET_FIELDS; `partial` makes each optional (PATCH)."""
    fields: list = []
    for f in msgspec.structs.fields(schema):
        if f.name in SERVER_SET_FIELDS:
            continue
        if partial:
            fields.append((f.name, f.type | msgspec.UnsetType, msgspec.UNSET))
        elif f.required:
            fields.append((f.name, f.type))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, f.type, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, f.type, f.default))
    struct = msgspec.defstruct(
        name, fields + (extra or []), kw_only=True, forbid_unknown_fields=True, module=__name__
    )
    BASE_SCHEMA[struct] = schema
    return struct


BASE_SCHEMA: dict[type, type] = {}   # an API body → the import schema whose rules (record_problems) it follows


# Admins post on behalf of an organisation; everyone else posts for their own, so they leave it out.
_OWNER = [("organisation_id", BodyId | None, None)]
AchievementCreate = _api_struct("AchievementCreate", AchievementIn, partial=False, extra=_OWNER)
AchievementUpdate = _api_struct("AchievementUpdate", AchievementIn, partial=True)
DemandCreate = _api_struct("DemandCreate", DemandIn, partial=False, extra=_OWNER)
DemandUpdate = _api_struct("DemandUpdate", DemandIn, partial=True)


class ReviewDecision(msgspec.Struct, forbid_unknown_fields=True):
    """An admin's note when sending a posting back to its owner."""

    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=VISIBLE,
                                      description="a note with at least one visible character")]


class OrganisationOut(msgspec.Struct):
    id: int
    external_id: str | None
    name: str
    kind: str
    credit_code: str | None
    region: str | None
    size: str | None
    high_tech: bool
    industry: str | None


class AchievementOut(msgspec.Struct):
    """An achievement as a reader may see it: confidential_detail is null unless the reader may see it."""

    id: int
    external_id: str | None
    title: str
    summary: str
    confidential_detail: str | None
    keywords: str
    team: str | None
    field: str | None
    trl: int | None
    organisation_id: int | None
    region: str | None
    transfer_modes: list[str]
    pricing_mode: str | None
    asking_price: Decimal | None
    use_first_pay_later: bool
    status: str
    posted_on: dt.date | None
    expires_on: dt.date | None
    ip_records: list[IPRecordIn]
    created_at: dt.datetime
    updated_at: dt.datetime
    review_note: str | None = None  # the last rejection note, for the owner and reviewers; null once approved
    pending_changes: dict | None = None  # changes to a published posting waiting for review (owner and reviewers)


class DemandOut(msgspec.Struct):
    id: int
    external_id: str | None
    title: str
    problem: str
    targets: str
    conditions: str
    field: str | None
    min_trl: int | None
    budget_min: Decimal | None
    budget_max: Decimal | None
    cooperation_modes: list[str]
    is_challenge: bool
    bounty: Decimal | None
    deadline: dt.date | None
    organisation_id: int | None
    region: str | None
    status: str
    posted_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime
    review_note: str | None = None
    pending_changes: dict | None = None





class ImportResult(msgspec.Struct):
    imported: int
    published: int


class RegionOut(msgspec.Struct):
    code: str
    name: str
    level: str
    parent_code: str | None


class FieldOut(msgspec.Struct):
    code: str
    name: str


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    """Which organisation may read an achievement's confidential detail."""

    organisation_id: BodyId
