"""What the brokerage rules share: who reads everything, the clock, and parsing of enumerated values."""

from __future__ import annotations

import datetime as dt

from matchmaker import vocabulary as v
from matchmaker.catalog.access import visible_record  # noqa: F401 - re-exported for the brokerage modules
from matchmaker.errors import InvalidInput

Stage = v.PipelineStage
READ_ALL_ROLES = (v.Role.ADMIN, v.Role.ANALYST)


def current_time(at: dt.datetime | None) -> dt.datetime:
    # The market simulator passes its own clock; the API uses the wall clock.
    return at or dt.datetime.now(dt.UTC)


# What people call the values of the enums the brokerage requests take, and what each enum is (refusals list the
# choices in these words, never the codes).
CHOICE_NAMES: dict[type, tuple[str, dict[str, str]]] = {
    v.ContractType: ("合同类型", v.CONTRACT_TYPE_NAMES),
    v.PaymentMode: ("支付方式", v.PAYMENT_MODE_NAMES),
    v.LicenceScope: ("许可方式", v.LICENCE_SCOPE_NAMES),
    v.PipelineStage: ("对接阶段", v.STAGE_NAMES),
    v.FeedbackReason: ("不相关的原因", v.FEEDBACK_REASON_NAMES),
}

def choice_names(enum) -> str:
    """The enum's values as people read them, joined for a message: 一次性支付、分期支付、……"""
    names = CHOICE_NAMES.get(enum, ("", {}))[1]
    return "、".join(names.get(value, value) for value in v.values(enum))


def parse(enum, value, field: str):
    try:
        return enum(value)
    except ValueError:
        what = CHOICE_NAMES.get(enum, ("选项", {}))[0]
        raise InvalidInput.on(field, f"“{value}”不是可选的{what}；请从以下选择：{choice_names(enum)}") from None
