"""Domain errors raised by services; the HTTP layer turns each into one problem-details response (its title comes
from the status, its detail and reasons are the Chinese sentences the service wrote)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


class DomainError(Exception):
    status = 400

    def __init__(self, detail: str, *, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []

    @classmethod
    def on(cls, field: str, reason: str) -> Self:
        """The refusal of one field's value: the reason is the detail too (the field's name is in `problems`, for
        the program that reads it; the detail is for a person)."""
        return cls(reason, problems=[FieldProblem(field, reason)])


class InvalidInput(DomainError):
    """The request is well-formed but breaks a domain rule (a field's value, a cross-field check)."""

    status = 422

    @classmethod
    def of(cls, problems: list[FieldProblem]) -> InvalidInput:
        """Every problem at once; the detail is their reasons in one sentence (each names its field in words)."""
        return cls("；".join(p.reason.rstrip("。") for p in problems) + "。", problems=problems)


class NotAuthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The request contradicts the current state: an illegal stage move, a stale version, a duplicate."""

    status = 409
