"""Chinese labels for the vocabularies and the Jinja filters that show numbers, money and dates as people here write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from matchmaker import vocabulary as v
from matchmaker import db

LABELS: dict[str, str] = {str(member): label for member, label in v.LABELS_ZH.items()}
LABELS.update(v.ROLE_NAMES)
LABELS.update({
    # organisations
    "university": "高校", "institute": "科研院所", "enterprise": "企业", "agency": "技术转移服务机构",
    "government": "科技管理部门", "evaluator": "第三方评价机构",
    "junior": "初级", "intermediate": "中级", "senior": "高级",
    # posting statuses
    "draft": "草稿", "pending_review": "待审核", "published": "已发布", "expired": "已过期", "withdrawn": "已撤回",
    "transferred": "已转化", "solved": "已解决",
    # pipeline stages
    "claimed": "已认领", "contacted": "已联系", "negotiating": "洽谈中", "signed": "已签约", "declined": "未成交",
    "lapsed": "已搁置",
    # contracts (registration form wording)
    "development": "技术开发", "consulting": "技术咨询",
    # libraries
    "achievements": "科技成果", "demands": "技术需求",
})
for names in (v.PAYMENT_MODE_NAMES, v.LICENCE_SCOPE_NAMES, v.FEEDBACK_REASON_NAMES):
    LABELS.update(names)
# City-level rows of GB/T 2260 that are groupings, not places a person would pick.
HIDDEN_CITIES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def whole(region) -> str:
    """A province-level region as a choice covering all of it: 辽宁省（全省）, 北京市（全市）, 广西壮族自治区（全区）."""
    name = region.name
    return f"{name}（全市）" if name.endswith("市") else f"{name}（全区）" if name.endswith(("自治区", "行政区")) else f"{name}（全省）"


# An office judging a demand against its achievement has its own reasons (the stored value is shared, so the
# figures add up across both sides).
OFFICE_REASONS = {"too_early_stage": "需求超出成果目前的成熟度", "price": "对方预算不足", "already_solved": "成果已转让或已有合作方",
                  "region": "对方地域不便合作"}
# Contract types share values with transfer modes (transfer, licence, service) but read differently on the form.
CONTRACT_TYPE_LABELS = v.CONTRACT_TYPE_NAMES
FACTOR_LABELS = {"field": "技术领域", "trl": "技术成熟度", "price": "价格与预算", "mode": "合作方式", "locality": "本地转化"}
# GB/T 22900 levels in the words a 技术经理人 would use.
TRL_LABELS = {1: "发现基本原理", 2: "形成技术概念", 3: "实验验证概念", 4: "实验室环境验证", 5: "相关环境验证",
              6: "相关环境演示", 7: "实际环境样机演示", 8: "系统完成并通过鉴定", 9: "实际应用验证"}
# Form field names as the forms label them, for the error summary at the top of a form.
FIELD_LABELS = {"title": "名称", "summary": "成果简介", "keywords": "关键词", "team": "研发团队", "field": "技术领域",
                "trl": "技术成熟度", "region": "所在地区", "transfer_modes": "转化方式", "pricing_mode": "定价方式",
                "asking_price": "参考价格", "expires_on": "有效期", "problem": "技术难题", "targets": "预期目标",
                "conditions": "现有基础", "min_trl": "最低技术成熟度", "budget_min": "预算下限", "budget_max": "预算上限",
                "cooperation_modes": "合作方式", "deadline": "需求有效期", "is_challenge": "揭榜挂帅", "bounty": "悬赏金额",
                "contract_type": "合同类型", "signed_on": "签订日期", "amount": "合同成交额",
                "certified_amount": "核定技术交易额", "payment_mode": "支付方式", "trial_ends_on": "试用期截止日期",
                "exclusive": "成果不再对外提供", "licence_scope": "许可方式", "expected_version": "项目状态"}
STAGE_ORDER = ("claimed", "contacted", "negotiating", "signed")


def label(value) -> str:
    if value is None or value == "":
        return "—"
    return LABELS.get(str(value), str(value))


def money(amount) -> str:
    """Yuan as people read it: 万元 above ten thousand, 亿元 above a hundred million."""
    if amount is None:
        return "—"
    amount = Decimal(amount)
    if amount >= 100_000_000:
        return f"{amount / 100_000_000:,.2f} 亿元"
    if amount >= 10_000:
        return f"{amount / 10_000:,.2f} 万元"
    return f"{amount:,.2f} 元"


def percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def date_zh(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def trl(level) -> str:
    return "—" if level is None else f"{level} 级 · {TRL_LABELS.get(int(level), '')}"


def change_value(value) -> str:
    """A waiting change as a reviewer reads it: labels for codes, lists joined, empty shown as such."""
    if value is None or value == "" or value == []:
        return "（清空）"
    if isinstance(value, list):
        return "、".join(label(item) if not isinstance(item, dict) else (item.get("number") or "—") for item in value)
    return label(value)


def counted(total: int) -> str:
    """A library count taken up to COUNT_CAP (db.paged): past it, "10000+" rather than the cap plus one."""
    return f"{db.COUNT_CAP}+" if total > db.COUNT_CAP else str(total)


def register(engine) -> None:
    """engine_callback of the TemplateConfig: filters and globals every template may use."""
    env = engine.engine
    env.filters.update(counted=counted, whole=whole, label=label, money=money, percent=percent, date_zh=date_zh, trl=trl, change_value=change_value,
                       contract_type=lambda value: CONTRACT_TYPE_LABELS.get(value, label(value)),
                       factor=lambda name: FACTOR_LABELS.get(name, name),
                       field_name=lambda code, names: "—" if not code else names.get(code, code))
    env.globals.update(TRL_OPTIONS=[(str(k), f"{k} 级 · {text}") for k, text in TRL_LABELS.items()],
                       PRICING_OPTIONS=[(m.value, label(m.value)) for m in v.PricingMode],
                       TRL_LABELS=TRL_LABELS, FIELD_LABELS=FIELD_LABELS, LABELS=LABELS, CONTRACT_TYPE_LABELS=CONTRACT_TYPE_LABELS,
                       STAGE_ORDER=STAGE_ORDER, vocabulary=v, OFFICE_REASONS=OFFICE_REASONS,
                       HIDDEN_CITIES=HIDDEN_CITIES)
