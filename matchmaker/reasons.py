"""What a person reads when a value is refused: the framework's English reasons (msgspec's and Litestar's, such as
"Expected `int`, got `str`" or "Object missing required field `title`") said in Chinese, with what to do.

Below the API and the pages alike: the API puts these words in its problem details (`detail`, `errors[].reason`),
the pages next to the form field. A reason already in Chinese (every service refusal) is passed on as written.
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")

# What is said when no pattern below knows the reason: still Chinese, still what to do.
FIELD_FALLBACK = "这一项的格式不正确，请按说明重新填写"
FORM_FALLBACK = "提交的内容有误，请按说明检查后重新提交"

# (pattern on the English reason, Chinese message); the first that matches wins.
_MESSAGES: list[tuple[str, str]] = [
    (r"length >= 1|^required", "必填"),
    (r"length <= (\d+)", "不能超过 {0} 个字"),
    (r"length >= (\d+)", "至少 {0} 个字"),
    (r"Expected `\w+` >= (\S+)", "不能小于 {0}"),
    (r"Expected `\w+` <= (\S+)", "不能大于 {0}"),
    (r"Expected `\w+` > (\S+)", "必须大于 {0}"),
    (r"Expected `\w+` < (\S+)", "必须小于 {0}"),
    (r"Expected `int`", "请填写整数"),
    (r"[Dd]ecimal", "请填写数字金额，例如 500000 或 125000.50"),
    (r"Expected `(?:float|number)`", "请填写数字"),
    (r"Expected `datetime`|RFC ?3339 encoded datetime", "请填写带时区的日期时间，例如 2026-12-31T09:00:00+08:00"),
    (r"Expected `date`|RFC ?3339", "请按 年-月-日 填写日期，例如 2026-12-31"),
    (r"Invalid enum value", "请从列表中选择"),
    (r"six-digit|GB/T 2260", "请选择有效的行政区划"),
    (r"technology field", "请选择有效的技术领域"),
    (r"at least (\d+) characters", "至少 {0} 个字符"),
    (r"u200b", "请填写内容，不能只有空格或看不见的字符"),   # the VISIBLE pattern of titles, names and notes
    (r"matching regex", "格式不正确，请按说明重新填写"),
    # The shape of an API request (the pages never send these).
    (r"Object missing required field `([^`]+)`", "缺少必填项 {0}，请补上后重新发送"),
    (r"Object contains unknown field `([^`]+)`", "没有名为 {0} 的项，请删去或核对拼写后重新发送"),
    (r"Missing required \w+ parameter '([^']+)'", "缺少必填参数 {0}，请补上后重新发送"),
    (r"Expected `object`", "这里应为 JSON 对象（用 {{ }} 括起的各项），请按接口说明重新发送"),
    (r"Expected `array`", "这里应为列表（用 [ ] 括起的各项），请按接口说明重新发送"),
    (r"Expected `bool`", "这里只能填 true 或 false"),
    (r"Expected `str`", "这里应为文字（用双引号括起），请按接口说明重新发送"),
    (r"Expected `null`", "这里应留空（null）"),
    (r"JSON is malformed|Input data was truncated", "请求内容不是有效的 JSON，请检查括号、引号和逗号后重新发送"),
    (r"multipart boundary", "上传的表单不完整（缺少分隔标记），请重新上传"),
]


def translate(field: str, reason: str) -> str:
    """The reason in Chinese: as written when it already is, else the first pattern's words, else a plain
    sentence that says the value's form is wrong and to fill it in again (`field` empty: the whole request)."""
    if CJK.search(reason):
        return reason
    for pattern, message in _MESSAGES:
        found = re.search(pattern, reason)
        if found:
            return message.format(*found.groups())
    return FIELD_FALLBACK if field else FORM_FALLBACK
