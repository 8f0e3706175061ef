"""Request-scoped dependencies: a database session and the authenticated actor."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import Forbidden, NotAuthenticated
from matchmaker.identity.services import Actor, authenticate


def provide_session(state: State) -> Iterator[Session]:
    """A session per request; services open their own transactions, so nothing is committed here."""
    session = state.session_factory()
    try:
        yield session
    finally:
        session.close()


def provide_actor(request: Request, session: Session) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    actor = authenticate(session, token.strip())
    session.rollback()  # end the read transaction so the handler's service starts a fresh one
    if actor is None:
        raise NotAuthenticated("the token is unknown or revoked")
    return actor


def require(actor: Actor, *roles: v.Role) -> None:
    """Refuse the call unless the actor holds one of the roles."""
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this action needs the role {allowed}; you are {actor.role.value}")
