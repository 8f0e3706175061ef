"""Refuse NUL (U+0000) anywhere in a request, so both databases answer the same clear 400."""

from __future__ import annotations

import re

from litestar import Request, Response

from matchmaker.api.problems import problem

# PostgreSQL cannot store NUL in text and SQLite can: checking at the edge keeps the stores alike and the
# error specific. A JSON body carries NUL escaped (\u0000 after an even run of backslashes), a form or
# query string percent-encoded, a CSV upload raw.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def refuse_nul(request: Request) -> Response | None:
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        return _refused(request, "query")
    if request.method in _BODY_METHODS:
        body = await request.body()
        if b"\x00" in body or _JSON_NUL.search(body) or b"%00" in body:
            return _refused(request, "body")
    return None


def _refused(request: Request, where: str) -> Response:
    return problem(400, "Invalid request", f"the {where} contains a NUL character (U+0000), which text may not hold",
                   [{"field": where, "reason": "NUL character (U+0000) is not allowed"}], request)
