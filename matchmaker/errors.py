"""Domain errors raised by services; the HTTP layer turns each into one problem-details response."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


class InvalidInput(DomainError):
    """The request is well-formed but breaks a domain rule (a field's value, a cross-field check)."""

    status = 422
    title = "Invalid input"

    @classmethod
    def on(cls, field: str, reason: str) -> InvalidInput:
        return cls(f"{field}: {reason}", problems=[FieldProblem(field, reason)])


class NotAuthenticated(DomainError):
    status = 401
    title = "Not authenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request contradicts the current state: an illegal stage move, a stale version, a duplicate."""

    status = 409
    title = "Conflict"
