"""One error format for the whole API: RFC 9457 problem details naming the field at fault."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import IntegrityError, OperationalError

from matchmaker.errors import DomainError

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
    return problem(error.status, error.title, error.detail, errors, request)


def on_validation_error(request: Request, error: ValidationException) -> Response:
    errors = []
    for item in error.extra or []:
        if isinstance(item, dict):
            field = item.get("key") or item.get("source") or "body"
            errors.append({"field": str(field), "reason": str(item.get("message", ""))})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or str(error.detail)
    return problem(400, "Invalid request", detail, errors, request)


def on_http_error(request: Request, error: HTTPException) -> Response:
    return problem(error.status_code, _TITLES.get(error.status_code, "Error"), str(error.detail), None, request)


def on_integrity_error(request: Request, error: IntegrityError) -> Response:
    # Services check rules first; this catches the race where two requests pass the check together.
    log.info("integrity error on %s: %s", request.url.path, error.orig)
    return problem(409, "Conflict", "the change conflicts with existing data (a duplicate or a concurrent change)", None, request)


def on_operational_error(request: Request, error: OperationalError) -> Response:
    log.warning("database busy on %s: %s", request.url.path, error.orig)
    response = problem(503, "Service unavailable", "the database is busy; retry shortly", None, request)
    response.headers["Retry-After"] = "1"
    return response


def on_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return problem(500, "Internal server error", "an unexpected error occurred; it has been logged", None, request)


_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 413: "Request body too large", 415: "Unsupported media type", 422: "Invalid input",
           429: "Too many requests"}

EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    IntegrityError: on_integrity_error,
    OperationalError: on_operational_error,
    Exception: on_unexpected_error,
}
