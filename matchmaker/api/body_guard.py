"""Refuse, cheaply and before any parsing, what no handler can use: NUL, absurd nesting, wrong encodings,
and JSON whose types are only coercible (`"trl": "5"`, `"is_challenge": "true"`).

Each answer is the one 400 problem format with the real reason, in Chinese, on both databases alike.
"""

from __future__ import annotations

import re

import msgspec
from litestar import Request, Response

from matchmaker.api.options import answer_options
from matchmaker.api.problems import TITLES, field_detail, problem
from matchmaker.reasons import translate

# PostgreSQL cannot store NUL in text and SQLite can: checking at the edge keeps the stores alike and the
# error specific. A JSON body carries NUL escaped (\u0000 after an even run of backslashes), a form or
# query string percent-encoded, a CSV upload raw.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# A UTF-16 escape of a high surrogate not followed by a low one (or a lone low one): not text in any encoding.
_LONE_SURROGATE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
                             rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})(?<!\\)(?:\\\\)*\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_DEPTH = 32   # a posting is three levels deep; deeper input is an attack or a mistake, refused before parsing


async def guard_request(request: Request) -> Response | None:
    if request.method == "OPTIONS":
        return answer_options(request)
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        return _refused(request, "query", "不能含有空字符（U+0000）",
                        "查询参数中含有空字符（U+0000），文字里不能有这种字符。请删去后重新发送。")
    if request.method not in _BODY_METHODS:
        return None
    if _binary_upload(request):
        return None   # a workbook is a ZIP archive: its bytes are read by the importer, never stored as text
    body = await request.body()
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _refused(request, "body", "UTF-16 编码的文字", "请求内容是 UTF-16 编码的文字，请改用 UTF-8 编码后重新发送。")
    if body.startswith(b"PK\x03\x04"):
        return _refused(request, "body", "ZIP 压缩包（也许是 .xlsx 工作簿）",
                        "请求内容是 ZIP 压缩包，例如 .xlsx 工作簿。这里请发送 JSON；导入工作簿请发到导入地址，"
                        "并把 Content-Type 设为 .xlsx 的类型。")
    if b"\x00" in body or _JSON_NUL.search(body) or b"%00" in body:
        return _refused(request, "body", "不能含有空字符（U+0000）",
                        "请求内容中含有空字符（U+0000），文字里不能有这种字符。请删去后重新发送。")
    if _LONE_SURROGATE.search(body):
        return _refused(request, "body", "不成对的 UTF-16 代理项转义（\\ud800…\\udfff）",
                        "请求内容里有不成对的 UTF-16 代理项转义（\\ud800…\\udfff），它不是一个字符。"
                        "请改成完整的字符后重新发送。")
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        return _refused(request, "body", f"嵌套超过 {MAX_DEPTH} 层",
                        f"请求内容嵌套超过 {MAX_DEPTH} 层，请减少层级后重新发送。")
    return _loose_types(request, body)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _binary_upload(request: Request) -> bool:
    """An .xlsx sent to an import route, a contract's PDF, or a page's file upload."""
    media_type = request.content_type[0]
    path = request.url.path
    return (media_type == XLSX and path.endswith("/import")) or \
        (media_type == "application/pdf" and path.endswith("/document")) or \
        (media_type == "multipart/form-data" and path.startswith("/web/upload/"))


_AT = re.compile(r" - at `\$\.?(.*)`$")


def _loose_types(request: Request, body: bytes) -> Response | None:
    """Litestar converts bodies leniently (a string "5" becomes 5) because query strings need it; a JSON body
    has real types, so it is decoded once more, strictly, against the handler's own body type."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None or not request.content_type[0].endswith("json"):
        return None
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None   # malformed JSON: Litestar's own answer names the position
    try:
        msgspec.convert(_integral_floats_as_ints(value), type=data.annotation, strict=True)
    except msgspec.ValidationError as error:
        message = str(error)
        at = _AT.search(message)
        field = at.group(1) if at and at.group(1) else "body"
        reason = translate(field, _AT.sub("", message))
        return _refused(request, field, reason, field_detail([{"field": field, "reason": reason}]))
    return None


def _integral_floats_as_ints(value):
    """5.0 is an integer to JSON Schema, so it stays acceptable where an int is; "5" does not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


def _depth(body: bytes) -> int:
    """The deepest nesting of JSON arrays and objects, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:      # backslash
                escaped = True
            elif byte == 0x22:      # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _refused(request: Request, where: str, reason: str, detail: str) -> Response:
    return problem(400, TITLES[400], detail, [{"field": where, "reason": reason}], request)
