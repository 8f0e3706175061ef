"""Refuse, cheaply and before any parsing, what no handler can use: NUL, absurd nesting, wrong encodings,
and JSON whose types are only coercible (`"trl": "5"`, `"is_challenge": "true"`).

Each answer is the one 400 problem format with the real reason, on both databases alike.
"""

from __future__ import annotations

import re

import msgspec
from litestar import Request, Response

from matchmaker.api.options import answer_options
from matchmaker.api.problems import problem

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
        return _refused(request, "query", "NUL character (U+0000) is not allowed",
                        "the query contains a NUL character (U+0000), which text may not hold")
    if request.method not in _BODY_METHODS:
        return None
    if _binary_upload(request):
        return None   # a workbook is a ZIP archive: its bytes are read by the importer, never stored as text
    body = await request.body()
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _refused(request, "body", "UTF-16 text", "the body is UTF-16 text; send it as UTF-8")
    if body.startswith(b"PK\x03\x04"):
        return _refused(request, "body", "a ZIP archive (an .xlsx workbook?)",
                        "the body is a ZIP archive, such as an .xlsx workbook; send JSON, or send the workbook to an "
                        "import route with the .xlsx Content-Type")
    if b"\x00" in body or _JSON_NUL.search(body) or b"%00" in body:
        return _refused(request, "body", "NUL character (U+0000) is not allowed",
                        "the body contains a NUL character (U+0000), which text may not hold")
    if _LONE_SURROGATE.search(body):
        return _refused(request, "body", "a lone UTF-16 surrogate escape (\\ud800…\\udfff)",
                        "the body contains an unpaired surrogate escape, which is not a character")
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        return _refused(request, "body", f"nested more than {MAX_DEPTH} levels deep",
                        f"the body is nested more than {MAX_DEPTH} levels deep")
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
        return _refused(request, at.group(1) if at and at.group(1) else "body", _AT.sub("", message), message)
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
    return problem(400, "Invalid request", detail, [{"field": where, "reason": reason}], request)
