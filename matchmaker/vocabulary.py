"""The domain's closed vocabularies (enums) with their Chinese labels, shared by every layer."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class OrganisationKind(StrEnum):
    UNIVERSITY = "university"  # 高校
    INSTITUTE = "institute"  # 科研院所
    ENTERPRISE = "enterprise"  # 企业
    AGENCY = "agency"  # 技术转移服务机构
    GOVERNMENT = "government"  # 科技管理部门 (analysts' and admins' home)
    EVALUATOR = "evaluator"  # 第三方科技成果评价机构: its experts file evaluation reports


class OrganisationStatus(StrEnum):
    PENDING = "pending"    # applied by itself, waiting for its region's reviewer (after the email is verified)
    ACTIVE = "active"
    REJECTED = "rejected"


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    INVITE = "invite"
    RESET_PASSWORD = "reset_password"


class Role(StrEnum):
    OFFICE = "office"
    FIRM = "firm"
    BROKER = "broker"
    ANALYST = "analyst"
    ADMIN = "admin"
    EXPERT = "expert"   # 评审专家: scores 揭榜挂帅 proposals on the panels a challenger puts them on


class BrokerLevel(StrEnum):
    JUNIOR = "junior"  # 初级
    INTERMEDIATE = "intermediate"  # 中级
    SENIOR = "senior"  # 高级


class FirmSize(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class AchievementStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"


class DemandStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    SOLVED = "solved"


class TransferMode(StrEnum):
    """How an achievement changes hands; demands name the same set as cooperation modes."""

    TRANSFER = "transfer"  # 转让
    LICENCE = "licence"  # 许可
    EQUITY = "equity"  # 作价入股
    CO_DEVELOPMENT = "co_development"  # 合作开发
    SERVICE = "service"  # 技术服务


class EvaluationMethod(StrEnum):
    """How a 科技成果评价 values an achievement (the three methods of asset appraisal)."""

    MARKET = "market"  # 市场法
    INCOME = "income"  # 收益法
    COST = "cost"  # 成本法


class PricingMode(StrEnum):
    NEGOTIATED = "negotiated"  # 协议定价 (public notice, commonly 15 days)
    LISTED = "listed"  # 挂牌交易
    AUCTION = "auction"  # 拍卖
    APPRAISAL = "appraisal"  # 资产评估


class IPType(StrEnum):
    INVENTION_PATENT = "invention_patent"  # 发明专利
    UTILITY_MODEL = "utility_model"  # 实用新型
    DESIGN_PATENT = "design_patent"  # 外观设计
    SOFTWARE_COPYRIGHT = "software_copyright"  # 软件著作权
    IC_LAYOUT = "ic_layout"  # 集成电路布图设计
    PLANT_VARIETY = "plant_variety"  # 植物新品种
    KNOW_HOW = "know_how"  # 技术秘密


class IPStatus(StrEnum):
    PENDING = "pending"  # 申请中
    GRANTED = "granted"  # 已授权
    LAPSED = "lapsed"  # 已失效


LABELS_ZH: dict[StrEnum, str] = {
    TransferMode.TRANSFER: "转让",
    TransferMode.LICENCE: "许可",
    TransferMode.EQUITY: "作价入股",
    TransferMode.CO_DEVELOPMENT: "合作开发",
    TransferMode.SERVICE: "技术服务",
    EvaluationMethod.MARKET: "市场法",
    EvaluationMethod.INCOME: "收益法",
    EvaluationMethod.COST: "成本法",
    PricingMode.NEGOTIATED: "协议定价",
    PricingMode.LISTED: "挂牌交易",
    PricingMode.AUCTION: "拍卖",
    PricingMode.APPRAISAL: "资产评估",
    IPType.INVENTION_PATENT: "发明专利",
    IPType.UTILITY_MODEL: "实用新型",
    IPType.DESIGN_PATENT: "外观设计",
    IPType.SOFTWARE_COPYRIGHT: "软件著作权",
    IPType.IC_LAYOUT: "集成电路布图设计",
    IPType.PLANT_VARIETY: "植物新品种",
    IPType.KNOW_HOW: "技术秘密",
}

# Bit positions are part of the stored format: append new modes, never reorder.
_MODE_BITS = {mode: 1 << i for i, mode in enumerate(TransferMode)}
ALL_MODES_MASK = sum(_MODE_BITS.values())


def modes_to_mask(modes: Iterable[str]) -> int:
    """Pack transfer/cooperation modes into the integer stored in the database."""
    mask = 0
    for mode in modes:
        mask |= _MODE_BITS[TransferMode(mode)]
    return mask


def mask_to_modes(mask: int) -> frozenset[TransferMode]:
    if not 0 <= mask <= ALL_MODES_MASK:
        raise ValueError(f"mode mask {mask} outside 0..{ALL_MODES_MASK}")
    return frozenset(mode for mode, bit in _MODE_BITS.items() if mask & bit)


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


class PipelineStage(StrEnum):
    """A brokered deal's stages; declined and lapsed end it from any open stage."""

    CLAIMED = "claimed"
    CONTACTED = "contacted"
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    DECLINED = "declined"
    LAPSED = "lapsed"


OPEN_STAGES = frozenset({PipelineStage.CLAIMED, PipelineStage.CONTACTED, PipelineStage.NEGOTIATING})
# Ends without a contract: the pair may be claimed again by a new pipeline (a tuple: its order is SQL text).
ENDED_WITHOUT_CONTRACT = (PipelineStage.DECLINED, PipelineStage.LAPSED)
NEXT_STAGE = {
    PipelineStage.CLAIMED: PipelineStage.CONTACTED,
    PipelineStage.CONTACTED: PipelineStage.NEGOTIATING,
    PipelineStage.NEGOTIATING: PipelineStage.SIGNED,
}


class ContractType(StrEnum):
    DEVELOPMENT = "development"  # 技术开发
    TRANSFER = "transfer"  # 技术转让
    LICENCE = "licence"  # 技术许可
    CONSULTING = "consulting"  # 技术咨询
    SERVICE = "service"  # 技术服务


# As the registration form names them (keyed by value: transfer, licence and service are transfer modes too, which
# read differently).
CONTRACT_TYPE_NAMES = {"development": "技术开发", "transfer": "技术转让", "licence": "技术许可", "consulting": "技术咨询",
                       "service": "技术服务"}


class LicenceScope(StrEnum):
    """A licence contract's scope, as the registration form records it (专利实施许可)."""

    EXCLUSIVE = "exclusive"  # 独占许可: only the licensee may use it, the licensor included out
    SOLE = "sole"  # 排他许可: the licensee and the licensor, nobody else
    ORDINARY = "ordinary"  # 普通许可: the licensor may license others too


class PaymentMode(StrEnum):
    LUMP_SUM = "lump_sum"  # 一次性支付
    INSTALMENTS = "instalments"  # 分期支付
    ROYALTY = "royalty"  # 提成支付
    EQUITY = "equity"  # 作价入股
    USE_FIRST_PAY_LATER = "use_first_pay_later"  # 先使用后付费


class FeedbackReason(StrEnum):
    TOO_EARLY_STAGE = "too_early_stage"
    PRICE = "price"
    FIELD_MISMATCH = "field_mismatch"
    REGION = "region"
    ALREADY_SOLVED = "already_solved"
    OTHER = "other"


class Surface(StrEnum):
    """Where a match was shown to a person (the impression log)."""

    API = "api"
    PAGE = "page"
    PUSH = "push"


class Library(StrEnum):
    ACHIEVEMENTS = "achievements"
    DEMANDS = "demands"


class IntroductionStatus(StrEnum):
    """An expression of interest in a match (对接意向) and the counterpart's answer."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class NoticeKind(StrEnum):
    """What a person can be told about, inside the platform and by email (each with its own preference)."""

    STRONG_MATCH = "strong_match"            # a newly published counterpart matches a posting strongly
    INTEREST_RECEIVED = "interest_received"  # someone is interested in one of your postings
    INTRODUCTION_ANSWERED = "introduction_answered"  # your interest was accepted or declined
    DEAL_MESSAGE = "deal_message"            # a message or meeting request in a deal thread
    DEAL_STAGE = "deal_stage"                # a broker moved the deal, or a contract was signed
    REVIEW_OUTCOME = "review_outcome"        # your posting was published or returned
    POSTING_EXPIRING = "posting_expiring"    # your posting closes in a few days


class Delivery(StrEnum):
    """How a person wants one kind of notice: by email at once, in a daily digest, or only in the inbox."""

    IMMEDIATE = "immediate"
    DAILY = "daily"
    OFF = "off"


# What people call each pipeline stage (messages from the services say it in these words).
STAGE_NAMES = {"claimed": "已认领", "contacted": "已联系双方", "negotiating": "洽谈中", "signed": "已签约",
               "declined": "已终止（一方谢绝）", "lapsed": "已终止（长期无进展）"}

# What people call payment modes, licence scopes and feedback reasons (the registration form's and the pages' words).
PAYMENT_MODE_NAMES = {"lump_sum": "一次性支付", "instalments": "分期支付", "royalty": "提成支付", "equity": "作价入股",
                      "use_first_pay_later": "先使用后付费"}
LICENCE_SCOPE_NAMES = {"exclusive": "独占许可", "sole": "排他许可", "ordinary": "普通许可"}
FEEDBACK_REASON_NAMES = {"too_early_stage": "技术成熟度不够", "price": "价格不合适", "field_mismatch": "领域不对口",
                         "region": "地域不便", "already_solved": "问题已解决", "other": "其他原因"}

# What people call each role (refusals from the services and the pages name roles in these words).
ROLE_NAMES = {"office": "高校院所技术转移机构", "firm": "企业", "broker": "技术经纪人", "analyst": "科技管理部门",
              "admin": "平台管理员", "expert": "评审专家"}

# What people call each posting status.
STATUS_NAMES = {"draft": "草稿", "pending_review": "待审核", "published": "已发布", "expired": "已过期",
                "withdrawn": "已撤回", "transferred": "已转让", "solved": "已解决"}

# What people call organisation kinds, firm sizes and the states of an IP right (the importer's reasons list them).
ORGANISATION_KIND_NAMES = {"university": "高校", "institute": "科研院所", "enterprise": "企业", "agency": "技术转移服务机构",
                           "government": "科技管理部门", "evaluator": "第三方科技成果评价机构"}
FIRM_SIZE_NAMES = {"micro": "微型企业", "small": "小型企业", "medium": "中型企业", "large": "大型企业"}
IP_STATUS_NAMES = {"pending": "申请中", "granted": "已授权", "lapsed": "已失效"}


# The scoring criteria a 揭榜挂帅 challenge gets unless its publisher sets its own (weights in %, adding up to 100).
CHALLENGE_CRITERIA = ({"name": "技术先进性", "weight": 40}, {"name": "可行性与实施方案", "weight": 30},
                      {"name": "团队能力", "weight": 20}, {"name": "经费合理性", "weight": 10})
