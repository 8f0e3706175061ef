"""Form posts to the catalog's and brokerage's inputs: each field checked on its own, problems worded in Chinese
(by `matchmaker.reasons.translate`, which the API uses for its problem details too)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import msgspec

from matchmaker.catalog.schemas import record_problems
from matchmaker.errors import DomainError, InvalidInput
from matchmaker.reasons import translate

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
