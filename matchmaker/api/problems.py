"""One error format for the whole API: RFC 9457 problem details naming the field at fault.

The `title`, `detail` and `errors[].reason` are for the person reading them, so they are Chinese and say what to
do; `type`, `status` and `errors[].field` are for the integrator's code and stay as they are.
"""

from __future__ import annotations

import logging

import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from matchmaker.errors import DomainError
from matchmaker.reasons import CJK, translate

log = logging.getLogger("matchmaker.api")
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, errors: list[dict] | None = None, request: Request | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def on_domain_error(request: Request, error: DomainError) -> Response:
    errors = [{"field": p.field, "reason": p.reason} for p in error.problems]
    response = problem(error.status, TITLES.get(error.status, OTHER_TITLE), error.detail, errors, request)
    if error.status == 401:   # RFC 9110: a 401 names the scheme the client should use
        response.headers["WWW-Authenticate"] = 'Bearer realm="matchmaker"'
    return response


def on_validation_error(request: Request, error: ValidationException) -> Response:
    """Litestar's and msgspec's English reasons ("Expected `int`, got `str`") in the pages' Chinese words."""
    errors = []
    for item in error.extra or []:
        if isinstance(item, dict):
            field = str(item.get("key") or item.get("source") or "body")
            errors.append({"field": field, "reason": translate(field, str(item.get("message", "")))})
    return problem(400, TITLES[400], field_detail(errors) or translate("", str(error.detail)), errors, request)


def field_detail(errors: list[dict]) -> str:
    """The problems of a request in one sentence, each after the parameter it concerns (the body needs no name)."""
    return "；".join(e["reason"] if e["field"] == "body" else f"{e['field']}：{e['reason']}" for e in errors)


def on_http_error(request: Request, error: HTTPException) -> Response:
    detail = str(error.detail)
    if not CJK.search(detail):   # the framework's own English words ("Method Not Allowed", "JSON is malformed")
        detail = _DETAILS.get(error.status_code) or translate("", detail)
    response = problem(error.status_code, TITLES.get(error.status_code, OTHER_TITLE), detail, None, request)
    for name, value in (error.headers or {}).items():   # e.g. Allow on a 405, which RFC 9110 requires
        response.headers[name] = value
    return response


def on_integrity_error(request: Request, error: IntegrityError) -> Response:
    # Services check rules first; this catches the race where two requests pass the check together.
    log.info("integrity error on %s: %s", request.url.path, error.orig)
    return problem(409, TITLES[409], "这项修改与已有数据冲突：可能已有相同的记录，或刚被他人修改。请重新读取最新数据后再提交。",
                   None, request)


def on_data_error(request: Request, error: DataError) -> Response:
    # A value the database refuses to store or compare: PostgreSQL rejects NUL (U+0000) in text, for one.
    log.info("data error on %s: %s", request.url.path, error.orig)
    return problem(400, TITLES[400], "请求中有无法保存或查询的值（例如文字里的空字符 U+0000）。请删去这样的字符后重新发送。",
                   None, request)


# What passes if the client retries: a lock wait, a conflict between transactions, a cancelled statement, a
# connection lost (PostgreSQL SQLSTATE classes 08, 40, 55P03, 57014; SQLite's "locked" and "busy").
_TRANSIENT_STATES = ("08", "40", "55P03", "57014")


def is_transient(error: OperationalError) -> bool:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or ""
    text = str(error.orig).lower()
    return error.connection_invalidated or state.startswith(_TRANSIENT_STATES) or "locked" in text or "busy" in text


def on_operational_error(request: Request, error: OperationalError) -> Response:
    if not is_transient(error):   # a fault of ours (say, too many bound parameters): retrying will not help
        return on_unexpected_error(request, error)
    log.warning("database busy on %s: %s", request.url.path, error.orig)
    response = problem(503, TITLES[503], "数据库正忙，请稍等片刻（约一秒）后重试。", None, request)
    response.headers["Retry-After"] = "1"
    return response


def on_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return problem(500, TITLES[500], _DETAILS[500], None, request)


# The pages' words (web/auth.py) where the statuses are the same.
TITLES = {400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "找不到该记录", 405: "不支持该操作", 409: "状态已变化",
          413: "请求内容过大", 415: "不支持的内容类型", 422: "填写内容有误", 429: "请求过于频繁", 500: "系统出错了",
          503: "服务暂时繁忙"}
OTHER_TITLE = "操作未完成"   # a status without its own title
# What the framework's own refusals (in English) mean for the caller, and what to do.
_DETAILS = {401: "请在请求头中携带 API 令牌：Authorization: Bearer <令牌>",
            403: "没有权限进行这项操作。",
            404: "该地址不存在，或该记录不存在。请核对请求的路径和编号。",
            405: "该地址不支持这种请求方法，请按响应头 Allow 所列的方法重新发送。",
            413: "请求内容太大，请删减或分批后重新发送。",
            415: "不支持这种内容类型，请按接口说明设置 Content-Type 后重新发送。",
            429: "请求过于频繁，请稍后再试。",
            500: "处理请求时发生了意外错误，已记录日志。请稍后再试；问题持续时请联系平台管理员。"}

EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    IntegrityError: on_integrity_error,
    DataError: on_data_error,
    OperationalError: on_operational_error,
    Exception: on_unexpected_error,
}


# --- documenting the problems in the OpenAPI spec -------------------------------------------------------------


class FieldError(msgspec.Struct):
    field: str
    reason: str


class ProblemDetails(msgspec.Struct):
    """RFC 9457 problem details, as every error response of this API carries them."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | msgspec.UnsetType = msgspec.UNSET
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: a parameter or the body does not fit the schema",
    401: "No API token, or the token is unknown or revoked",
    403: "The caller's role or organisation may not do this",
    404: "No such record, or not one the caller may see",
    409: "Conflicts with the current state: an illegal move, a stale version, a duplicate",
    413: "Request body too large",
    422: "Well-formed but breaks a domain rule (the field at fault is named), or an Idempotency-Key reused "
         "for a different request",
    503: "The database is busy; retry after the Retry-After seconds",
}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_NOT_INPUTS = {"actor", "session", "state", "request", "data", "body"}  # dependencies and the body


def problem_statuses(route: HTTPRoute, handler) -> list[int]:
    """The error statuses a handler can answer with, from what it takes and whether it writes."""
    names = set(handler.parsed_fn_signature.parameters)
    has_path = bool(route.path_parameters)
    has_body = bool(names & {"data", "body"})
    has_params = has_path or bool(names - _NOT_INPUTS)
    writes = bool(set(handler.http_methods) & _WRITE_METHODS)
    authenticated = not handler.opt.get("exclude_from_auth")
    statuses = []
    if has_params or has_body:
        statuses.append(400)
    if authenticated:
        statuses += [401, 403]
    if has_path or _body_names_records(handler):
        statuses.append(404)
    if writes:
        statuses += [409, 422]
    elif authenticated and has_params:
        statuses.append(422)  # services check cross-field rules of queries too (a period, a sort key)
    if has_body:
        statuses.append(413)
    if authenticated:
        statuses.append(503)  # every authenticated call reads the database
    return sorted(statuses)


def _body_names_records(handler) -> bool:
    """Whether the request body refers to other records by id (a claim names a demand and an achievement)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    fields = getattr(data.annotation, "__struct_fields__", ()) if data is not None else ()
    return any(name.endswith("_id") for name in fields)


def document_problems(app: Litestar) -> None:
    """Declare the problem responses of every operation in the OpenAPI spec (built lazily, on first request).

    Litestar documents only the success status and a 400 with its own error shape; this API answers every error
    with application/problem+json, so each handler gets the statuses it can answer with, in that shape. A response
    a handler declares itself with `responses=` wins.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            declared = dict(handler.responses or {})
            for status in problem_statuses(route, handler):
                declared.setdefault(status, ResponseSpec(
                    data_container=ProblemDetails, media_type=PROBLEM_JSON, generate_examples=False,
                    description=_PROBLEM_DESCRIPTIONS[status]))
            handler.responses = declared
