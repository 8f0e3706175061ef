"""The technology-contract registration form's (技术合同认定登记表) closed lists, as the form prints them.

Stored values are English codes (as every vocabulary here); the Chinese names are what people choose from on the
pages and what registration offices' spreadsheets hold, so imports accept either. docs/registry.md says where these
lists follow the official form and where they are shortened.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container
from decimal import Decimal, InvalidOperation
from typing import Any

from matchmaker import vocabulary as v

# Sub-types per contract type (合同类别 → 细类).
SUBTYPES: dict[str, dict[str, str]] = {
    "development": {"commissioned": "委托开发", "cooperative": "合作开发"},
    "transfer": {"patent": "专利权转让", "patent_application": "专利申请权转让", "know_how": "技术秘密转让",
                 "software": "计算机软件著作权转让", "ic_layout": "集成电路布图设计专有权转让",
                 "plant_variety": "植物新品种权转让", "other": "其他技术转让"},
    "licence": {"patent": "专利实施许可", "know_how": "技术秘密使用许可", "software": "计算机软件著作权许可",
                "ic_layout": "集成电路布图设计专有权许可", "plant_variety": "植物新品种权许可", "other": "其他技术许可"},
    "consulting": {"feasibility": "可行性论证", "forecasting": "技术预测", "survey": "专题技术调查",
                   "evaluation": "分析评价报告"},
    "service": {"general": "一般技术服务", "training": "技术培训", "intermediary": "技术中介"},
}
CONTRACT_TYPES = v.CONTRACT_TYPE_NAMES
# 买方 / 卖方 类型 (the form's 法人类型 and 经济类型, folded into one list).
PARTY_TYPES = {"government": "机关法人", "institute": "科研机构", "university": "高等院校", "public_other": "其他事业法人",
               "state_owned": "国有企业", "collective": "集体企业", "private": "民营企业",
               "foreign_invested": "外商投资企业", "hmt_invested": "港澳台投资企业", "social": "社会团体",
               "individual": "自然人", "other": "其他组织"}
# What an organisation's kind on this platform makes it on the form, unless the submitter says otherwise.
PARTY_TYPE_OF_KIND = {v.OrganisationKind.UNIVERSITY.value: "university", v.OrganisationKind.INSTITUTE.value: "institute",
                      v.OrganisationKind.ENTERPRISE.value: "private", v.OrganisationKind.AGENCY.value: "other",
                      v.OrganisationKind.GOVERNMENT.value: "government"}
# 计划类别: where the technology's funding came from.
PROGRAMMES = {"national": "国家科技计划", "provincial": "省级科技计划", "municipal": "市县级科技计划",
              "other_public": "其他财政资金项目", "none": "非计划项目"}
# 知识产权类型 of the contract's object.
IP_TYPES = {"invention_patent": "发明专利", "utility_model": "实用新型专利", "design_patent": "外观设计专利",
            "software_copyright": "计算机软件著作权", "ic_layout": "集成电路布图设计", "plant_variety": "植物新品种",
            "know_how": "技术秘密", "none": "不涉及知识产权"}
PAYMENT_MODES = {"lump_sum": "一次性支付", "instalments": "分期支付", "royalty": "提成支付", "equity": "作价入股",
                 "use_first_pay_later": "先使用后付费"}
LICENCE_SCOPES = {"exclusive": "独占许可", "sole": "排他许可", "ordinary": "普通许可"}
# Countries a registration office meets most; any ISO 3166 alpha-2 code is accepted, these get a Chinese name.
COUNTRIES = {"CN": "中国", "HK": "中国香港", "MO": "中国澳门", "TW": "中国台湾", "US": "美国", "DE": "德国", "JP": "日本",
             "KR": "韩国", "GB": "英国", "FR": "法国", "SG": "新加坡", "RU": "俄罗斯", "IL": "以色列", "IT": "意大利"}
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def code_of(names: dict[str, str], value: str) -> str | None:
    """A list's code from either its code or its Chinese name (spreadsheets hold either); None when neither."""
    value = value.strip()
    if value in names:
        return value
    return next((code for code, name in names.items() if name == value), None)


def subtype_code(contract_type: str, value: str) -> str | None:
    return code_of(SUBTYPES.get(contract_type, {}), value)


def country_code(value: str) -> str | None:
    value = value.strip()
    code = code_of(COUNTRIES, value) or value.upper()
    return code if COUNTRY_CODE.match(code) else None


# ---------------------------------------------------------------- checking one filled-in form

# Field names as the form labels them, for messages and spreadsheet headers.
FIELD_NAMES = {
    "registration_number": "登记号", "registered_on": "登记日期", "title": "项目名称", "contract_type": "合同类别",
    "sub_type": "合同细类", "amount": "合同成交额（元）", "certified_amount": "核定技术交易额（元）",
    "payment_mode": "支付方式", "trial_ends_on": "试用期截止日期", "licence_scope": "许可方式", "signed_on": "签订日期",
    "valid_from": "有效期起", "valid_until": "有效期止", "seller_name": "卖方名称", "seller_party_type": "卖方类型",
    "seller_country": "卖方国别", "seller_region_code": "卖方所在地区代码", "buyer_name": "买方名称",
    "buyer_party_type": "买方类型", "buyer_country": "买方国别", "buyer_region_code": "买方所在地区代码",
    "field_code": "技术领域", "ip_type": "知识产权类型", "programme": "计划类别", "foreign_related": "涉外",
    "tax_relief": "申请减免税",
}
YES, NO = {"是", "true", "1", "y", "yes", "√"}, {"否", "false", "0", "n", "no", ""}


def check(values: dict[str, Any], *, regions: Container[str], fields: dict[str, str],
          today: dt.date) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One form's values (typed, or the text a spreadsheet cell holds) as the contract's columns, and every problem
    as (field, what to do) in Chinese. `regions` are the known GB/T 2260 codes, `fields` technology field code → name."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []

    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value).strip()

    def pick(name: str, names: dict[str, str], *, required: bool = True, default: str | None = None) -> str | None:
        raw = text(name)
        if not raw:
            if required and default is None:
                problems.append((name, f"请填写{FIELD_NAMES[name]}"))
            return default
        code = code_of(names, raw)
        if code is None:
            problems.append((name, f"“{raw}”不是可选的{FIELD_NAMES[name]}；可选：{'、'.join(names.values())}"))
        return code

    def day(name: str, *, required: bool = False) -> dt.date | None:
        value = values.get(name)
        if isinstance(value, dt.date):
            return value
        raw = text(name)
        if not raw:
            if required:
                problems.append((name, f"请填写{FIELD_NAMES[name]}"))
            return None
        try:
            return dt.date.fromisoformat(raw.replace("/", "-")[:10])
        except ValueError:
            problems.append((name, f"“{raw}”不是日期，请写成 2026-05-01 的格式"))
            return None

    def yuan(name: str, *, required: bool) -> Decimal | None:
        raw = text(name).replace(",", "").replace("，", "")
        if not raw:
            if required:
                problems.append((name, f"请填写{FIELD_NAMES[name]}"))
            return None
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            problems.append((name, f"“{raw}”不是金额，请只填数字（单位：元）"))
            return None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount >= 10**16:
            problems.append((name, f"“{raw}”不是有效金额：须为不小于 0 的数字，最多两位小数"))
            return None
        return amount

    def flag(name: str) -> bool:
        value = values.get(name)
        if isinstance(value, bool):
            return value
        raw = text(name).lower()
        if raw in YES:
            return True
        if raw not in NO:
            problems.append((name, f"“{raw}”请填“是”或“否”"))
        return False

    out["title"] = text("title")[:300]
    if not out["title"]:
        problems.append(("title", "请填写项目名称（合同名称）"))
    contract_type = out["contract_type"] = pick("contract_type", CONTRACT_TYPES)
    if contract_type is not None:
        out["sub_type"] = pick("sub_type", SUBTYPES[contract_type])
    out["payment_mode"] = pick("payment_mode", PAYMENT_MODES)
    out["licence_scope"] = pick("licence_scope", LICENCE_SCOPES, required=False)
    out["ip_type"] = pick("ip_type", IP_TYPES, default="none")
    out["programme"] = pick("programme", PROGRAMMES, default="none")
    out["amount"] = yuan("amount", required=True)
    out["certified_amount"] = yuan("certified_amount", required=False)
    for name in ("signed_on", "trial_ends_on", "valid_from", "valid_until"):
        out[name] = day(name, required=name == "signed_on")
    out["tax_relief"] = flag("tax_relief")
    field_raw = text("field_code")
    out["field_code"] = code_of(fields, field_raw) if field_raw else None
    if not field_raw:
        problems.append(("field_code", "请选择技术领域"))
    elif out["field_code"] is None:
        problems.append(("field_code", f"“{field_raw}”不是平台的技术领域；可选：{'、'.join(fields.values())}"))
    for side in ("seller", "buyer"):
        out[f"{side}_party_type"] = pick(f"{side}_party_type", PARTY_TYPES)
        country = country_code(text(f"{side}_country") or "CN")
        if country is None:
            problems.append((f"{side}_country", f"“{text(f'{side}_country')}”不是国家或地区代码，请写 CN、US 这样的两位字母"))
        out[f"{side}_country"] = country or "CN"
        region = text(f"{side}_region_code") or None
        if out[f"{side}_country"] == "CN":
            if region is None:
                problems.append((f"{side}_region_code", f"境内的{FIELD_NAMES[side + '_name'][:2]}须填写所在地区代码（六位行政区划代码）"))
            elif region not in regions:
                problems.append((f"{side}_region_code", f"“{region}”不是有效的行政区划代码（GB/T 2260 六位代码）"))
        elif region is not None:
            problems.append((f"{side}_region_code", "境外的一方不填地区代码，只填国别"))
            region = None
        out[f"{side}_region_code"] = region
    # 涉外 follows from the parties: a party outside the mainland makes it so, whatever the box said.
    abroad = out["seller_country"] != "CN" or out["buyer_country"] != "CN"
    if flag("foreign_related") and not abroad:
        problems.append(("foreign_related", "双方都在境内，不是涉外合同；请取消“涉外”或改正一方的国别"))
    out["foreign_related"] = abroad
    problems += _cross_checks(out, today)
    return out, problems


def _cross_checks(out: dict[str, Any], today: dt.date) -> list[tuple[str, str]]:
    problems = []
    amount, certified = out.get("amount"), out.get("certified_amount")
    if amount is not None and certified is not None and certified > amount:
        problems.append(("certified_amount", f"核定技术交易额 {certified:f} 元超过了合同成交额 {amount:f} 元；请改为不超过成交额"))
    signed = out.get("signed_on")
    if signed is not None and signed > today:
        problems.append(("signed_on", "签订日期在今天之后；合同签订后才能登记"))
    if out.get("valid_from") and out.get("valid_until") and out["valid_until"] < out["valid_from"]:
        problems.append(("valid_until", "有效期止早于有效期起，请改正"))
    if out.get("payment_mode") == "use_first_pay_later":
        if out.get("trial_ends_on") is None:
            problems.append(("trial_ends_on", "选择“先使用后付费”时须填写试用期截止日期"))
        elif signed is not None and out["trial_ends_on"] <= signed:
            problems.append(("trial_ends_on", "试用期截止日期须在签订日期之后"))
    elif out.get("trial_ends_on") is not None:
        problems.append(("trial_ends_on", "只有“先使用后付费”的合同才填写试用期截止日期"))
    if out.get("licence_scope") is not None and out.get("contract_type") not in (None, "licence"):
        problems.append(("licence_scope", "许可方式只适用于技术许可合同；其他类型的合同请留空"))
    return problems
