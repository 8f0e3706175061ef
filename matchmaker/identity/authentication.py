"""Authentication on by default: every route needs a caller unless its handler is declared public.

The API authenticates Bearer tokens in middleware, so a handler that forgets to ask for the actor is still
protected; pages authenticate the session's user the same way (web/setup.py). Public routes say so with
`exclude_from_auth=True` on the handler (health, login, the storefront); the spec, static files and pages are
excluded by path and have their own rules.
"""

from __future__ import annotations

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from matchmaker import vocabulary as v
from matchmaker.errors import Forbidden, NotAuthenticated
from matchmaker.identity.services import Actor, authenticate

# Paths the API's token check leaves alone: the pages (their own session check), the spec and its viewers.
API_EXCLUDE = ["^/web", "^/schema", "^/favicon.ico$"]


class TokenAuthentication(AbstractAuthenticationMiddleware):
    """Bearer tokens for every API route; the actor lands in `request.user`."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("请在请求头中携带 API 令牌：Authorization: Bearer <令牌>")
        engine = connection.app.state.engine
        if _connection_free(engine):
            # One indexed read over a connection the pool holds open: on the event loop it costs that round trip
            # and spares two hand-overs between threads, each waiting for the interpreter lock behind the worker's
            # other requests (the match endpoint's p95 on PostgreSQL, benchmarks/speed/README.md). When no
            # connection is free a checkout may wait, and the loop must not: a thread takes it then.
            actor = _actor_for_token(engine, token.strip())
        else:
            actor = await anyio.to_thread.run_sync(_actor_for_token, engine, token.strip())
        if actor is None:
            raise NotAuthenticated("API 令牌无效、已过期或已被吊销：请换用有效的令牌，或请平台管理员重新发放")
        return AuthenticationResult(user=actor, auth=token.strip())


def _connection_free(engine) -> bool:
    checked_in = getattr(engine.pool, "checkedin", None)   # QueuePool's count of idle ones
    return checked_in is not None and checked_in() > 0


def _actor_for_token(engine, token: str) -> Actor | None:
    # One read, outside a transaction: on PostgreSQL a transaction around it is a BEGIN and a ROLLBACK more, two of
    # its three round trips, before every API request (benchmarks/speed/README.md).
    with engine.connect() as connection:
        return authenticate(connection.execution_options(isolation_level="AUTOCOMMIT"), token)


def provide_actor(request: Request) -> Actor:
    """The authenticated caller (the middleware has refused anyone else)."""
    actor = request.user
    if not isinstance(actor, Actor):   # only a public handler gets here without one, and it must not ask
        raise NotAuthenticated("无法识别调用者。请在请求头中携带 API 令牌：Authorization: Bearer <令牌>")
    return actor


def roles(*allowed: v.Role):
    """A Litestar guard: the route (or every route of a controller) is for these roles only. Declared where the
    route is declared, so the rule cannot be forgotten inside a handler."""

    def guard(connection: ASGIConnection, _handler) -> None:
        if connection.scope.get("method") == "OPTIONS":   # the automatic OPTIONS answer is public, like CORS
            return
        actor = connection.scope.get("user")
        if not isinstance(actor, Actor):
            raise NotAuthenticated("请在请求头中携带 API 令牌：Authorization: Bearer <令牌>")
        require(actor, *allowed)

    return guard


def require(actor: Actor, *roles: v.Role) -> None:
    """Refuse the call unless the actor holds one of the roles."""
    if actor.role not in roles:
        allowed = "、".join(v.ROLE_NAMES[r.value] for r in roles)
        raise Forbidden(f"这项操作只有{allowed}可以办理，您的身份是{v.ROLE_NAMES[actor.role.value]}；"
                        "请换用有权限的账号，或联系平台管理员")
