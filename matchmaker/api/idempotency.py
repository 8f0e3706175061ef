"""Idempotency-Key support: a retried write replays its first response instead of writing twice."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.params import HeaderParameter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchmaker.errors import InvalidInput
from matchmaker.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        required=False,
        min_length=1,
        max_length=100,
        description=(
            "Optional client-chosen key (at most 100 characters, unique per user). A retry with the same key "
            "and the same request returns the first response (same status and body, with "
            f"`{REPLAYED_HEADER}: true`) and writes nothing; the same key with a different request is a 422."
        ),
    ),
]


@dataclass(frozen=True)
class IdempotentRequest:
    """Who sent the write, under which key, and a digest of what they asked for."""

    user_id: int
    key: str | None
    fingerprint: str


def idempotent_request(request: Request, *, user_id: int, key: str | None, data: Any = None) -> IdempotentRequest:
    return IdempotentRequest(user_id, key, fingerprint(request.method, request.url.path, data))


def fingerprint(method: str, path: str, data: Any) -> str:
    """Digest of method, path and the decoded body, so key order or whitespace in the JSON do not matter."""
    body = msgspec.json.encode(msgspec.to_builtins(data), order="sorted")
    return hashlib.sha256(f"{method.upper()} {path}\n".encode() + body).hexdigest()


def created(session: Session, request: Request, *, user_id: int, key: str | None, data: Any,
            write: Callable[[], msgspec.Struct]) -> Response:
    """A creating write, once per Idempotency-Key: 201 with what `write` returned, or the first answer replayed."""
    return respond(session, idempotent_request(request, user_id=user_id, key=key, data=data), status_code=201,
                   write=write)


def respond(
    session: Session, request: IdempotentRequest, *, status_code: int, write: Callable[[], msgspec.Struct]
) -> Response:
    """Run `write` in one transaction and answer with its result; with a key, store or replay the answer."""
    if request.key is None:
        with session.begin():
            body = msgspec.json.encode(write())
        return _json(body, status_code)
    try:
        with session.begin():
            stored = session.get(IdempotencyRecord, (request.user_id, request.key))
            if stored is not None:
                return _replay(stored, request)
            # Claim the key before writing: a concurrent twin blocks on this primary key (PostgreSQL) or behind
            # the write lock (SQLite), then fails with IntegrityError and replays what this request stored.
            record = IdempotencyRecord(user_id=request.user_id, key=request.key,
                                       request_fingerprint=request.fingerprint, status_code=0, response_body="")
            session.add(record)
            session.flush()
            body = msgspec.json.encode(write())
            record.status_code, record.response_body = status_code, body.decode()
        return _json(body, status_code)
    except IntegrityError:
        replay = _stored_response(session, request)
        if replay is None:
            raise  # a genuine conflict with other data: the problem handler answers 409
        return replay


def _stored_response(session: Session, request: IdempotentRequest) -> Response | None:
    with session.begin():
        stored = session.get(IdempotencyRecord, (request.user_id, request.key), populate_existing=True)
        return None if stored is None else _replay(stored, request)


def _replay(stored: IdempotencyRecord, request: IdempotentRequest) -> Response:
    if stored.request_fingerprint != request.fingerprint:
        raise InvalidInput.on(HEADER, "这个 Idempotency-Key 已用于另一个不同的请求；新的请求请换一个新的键值")
    return _json(stored.response_body.encode(), stored.status_code, replayed=True)


def _json(body: bytes, status_code: int, *, replayed: bool = False) -> Response:
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return Response(content=body, status_code=status_code, media_type=MediaType.JSON, headers=headers)
