"""Form posts to the catalog's and brokerage's inputs: each field checked on its own, problems worded in Chinese."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import msgspec

from matchmaker.catalog.schemas import record_problems
from matchmaker.errors import DomainError, InvalidInput

MULTI_FIELDS = {"transfer_modes", "cooperation_modes"}
CHECKBOXES = {"use_first_pay_later", "is_challenge", "exclusive", "close_demand"}


MONEY_FIELDS = {"budget_min", "budget_max", "bounty", "asking_price", "amount", "certified_amount"}
_YUAN = re.compile(r"^(\d+(?:\.\d+)?)(亿|万)?$")


def yuan(text: str) -> str:
    """An amount as people type it on a page that shows 万元: "50万", "50 万元", "1.2亿", "500,000", "500000元"
    all become yuan digits; anything else is returned as typed, for the field's own error message."""
    compact = re.sub(r"[\s,，]", "", text).removesuffix("元").removesuffix("人民币")
    found = _YUAN.match(compact)
    if not found:
        return text
    scale = {"亿": Decimal(100_000_000), "万": Decimal(10_000), None: Decimal(1)}[found.group(2)]
    return f"{(Decimal(found.group(1)) * scale).quantize(Decimal('0.01')):f}"


def yuan_field(data: dict, name: str, label: str, example: str) -> Decimal:
    """A required money field of a plain form as Decimal yuan (万 and 亿 understood, at most two decimals); what
    cannot be one is an InvalidInput on the field, saying what to type (`example`, e.g. "400000 或 40万")."""
    try:
        value = Decimal(yuan(data.get(name, "").strip()))
    except InvalidOperation:
        raise InvalidInput.on(name, f"{label}请只填数字，例如 {example}") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise InvalidInput.on(name, f"{label}最多两位小数")
    return value


class FormData(dict):
    """What the person typed, field by field (lists for checkbox groups), to put back into the form."""

    @classmethod
    def of(cls, form) -> FormData:
        data = cls()
        for key in form.keys():
            if key == "_csrf_token":
                continue
            values = form.getall(key) if hasattr(form, "getall") else [form.get(key)]
            data[key] = [str(x) for x in values] if key in MULTI_FIELDS else str(values[-1]).strip()
        return data


def to_struct(schema: type, form: FormData, *, skip: frozenset[str] = frozenset()) -> tuple[Any, dict[str, str]]:
    """(struct, {}) when every field converts, else (None, {field: Chinese message}).

    Each field is converted alone with its annotated type, so a page can show every problem at once
    (msgspec stops at the first); the schema's bounds and patterns are the ones the API enforces.
    """
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in msgspec.structs.fields(schema):
        name = field.name
        if name in skip:
            continue
        if name in MULTI_FIELDS:
            raw: Any = form.get(name, [])
        elif name in CHECKBOXES:
            raw = name in form and form.get(name) not in ("", "0", "false")
        else:
            raw = form.get(name, "")
            if raw == "":
                if field.required:
                    problems[name] = "必填"
                continue  # optional and empty: the schema's default applies
            if name in MONEY_FIELDS:
                raw = yuan(raw)
        try:
            values[name] = msgspec.convert(raw, type=field.type, strict=False)
        except msgspec.ValidationError as error:
            problems[name] = translate(name, str(error))
    _cross_field(schema, values, problems, skip)
    if problems:
        return None, problems
    return msgspec.convert(values, type=schema, strict=False), {}


CLOSING_DATES = ("deadline", "expires_on")


def _cross_field(schema: type, values: dict[str, Any], problems: dict[str, str], skip: frozenset[str]) -> None:
    """The rules between fields and about dates, on whatever converted, so one submit shows every problem (not
    the field errors first and the rest after a second try). The services check them again."""
    for name in CLOSING_DATES:
        if isinstance(values.get(name), dt.date) and values[name] < dt.date.today():
            problems.setdefault(name, f"{values[name]} 已经过去，请填写今天或之后的日期")
    defaults = {}
    for field in msgspec.structs.fields(schema):
        if field.default is not msgspec.NODEFAULT:
            defaults[field.name] = field.default
        elif field.default_factory is not msgspec.NODEFAULT:
            defaults[field.name] = field.default_factory()
        else:
            defaults[field.name] = None
    try:
        found = record_problems(schema, SimpleNamespace(**{**defaults, **values}))
    except (TypeError, AttributeError):   # a value missing that a rule needs: its own field error says so
        return
    for name, reason in found:
        if name not in skip:
            problems.setdefault(name, translate(name, reason))


def field_problems(error: DomainError) -> dict[str, str]:
    """A service's refusal as {field: Chinese message}; a refusal naming no field goes under '_form'."""
    if not error.problems:
        return {"_form": translate("", error.detail)}
    found: dict[str, str] = {}
    for problem in error.problems:
        found.setdefault(problem.field, translate(problem.field, problem.reason))
    return found


# (pattern on the English reason, Chinese message); the first that matches wins.
_MESSAGES: list[tuple[str, str]] = [
    (r"length >= 1|^required", "必填"),
    (r"length <= (\d+)", "不能超过 {0} 个字"),
    (r"Expected `int` >= (\d+)", "不能小于 {0}"),
    (r"Expected `int` <= (\d+)", "不能大于 {0}"),
    (r"Expected `int`", "请填写整数"),
    (r"[Dd]ecimal|must be a number", "请填写数字金额，例如 500000 或 125000.50"),
    (r"Expected `date`|RFC 3339", "请按 年-月-日 填写日期，例如 2026-12-31"),
    (r"Invalid enum value|unknown value", "请从列表中选择"),
    (r"six-digit|GB/T 2260", "请选择有效的行政区划"),
    (r"technology field", "请选择有效的技术领域"),
    (r"greater than budget_max", "最低预算不能高于最高预算"),
    (r"only a challenge", "只有揭榜挂帅项目才能设置悬赏金额；请勾选“揭榜挂帅”或清空悬赏金额"),
    (r"must not be negative", "不能为负数"),
    (r"two decimal places", "金额最多保留两位小数（精确到分）"),
    (r"must be at most", "金额过大，请核对"),
    (r"before posted_on", "有效期不能早于发布日期"),
    (r"exceeds the contract amount", "核定技术交易额不能超过合同成交额"),
    (r"required when payment_mode is use_first_pay_later", "选择“先使用后付费”时须填写试用期截止日期"),
    (r"is not after signed_on", "试用期截止日期应晚于合同签订日期"),
    (r"only a use_first_pay_later contract", "只有“先使用后付费”的合同才填写试用期截止日期"),
    (r"applies to a transfer contract", "“独占转让”只适用于技术转让合同"),
    (r"has passed", "截止日期已过，请改为今天之后的日期"),
    (r"stale|no longer at version", "该项目刚被他人更新，请刷新页面后再操作"),
    (r"say why the match is not relevant", "请选择不相关的原因"),
    (r"at least (\d+) characters", "至少 {0} 个字符"),
    (r"u200b", "请填写内容，不能只有空格或看不见的字符"),   # the VISIBLE pattern of titles, names and notes
    (r"matching regex", "格式不正确"),
]


def translate(field: str, reason: str) -> str:
    for pattern, message in _MESSAGES:
        found = re.search(pattern, reason)
        if found:
            return message.format(*found.groups())
    return reason  # an English reason is better than none; add its wording above when one shows up
