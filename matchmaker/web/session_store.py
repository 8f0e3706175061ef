"""Page sessions kept in the database (one table every worker and host shares): logging out ends a session for
good, unlike a cookie that carries the session itself and stays valid until it expires."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import anyio
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import delete, select

from matchmaker.models import WebSession


def _key(session_id: str) -> str:
    # Only a digest of the cookie's value is stored: a leaked table opens no sessions.
    return hashlib.sha256(session_id.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


class DatabaseStore(Store):
    """Litestar's session store interface over the `web_sessions` table."""

    def __init__(self, session_factory, default_seconds: int = 12 * 3600) -> None:
        self.session_factory = session_factory
        self.default_seconds = default_seconds

    async def set(self, key: str, value: str | bytes, expires_in: int | dt.timedelta | None = None) -> None:
        seconds = expires_in.total_seconds() if isinstance(expires_in, dt.timedelta) else (expires_in or
                                                                                            self.default_seconds)
        data = value.encode() if isinstance(value, str) else value
        await anyio.to_thread.run_sync(self._set, _key(key), data, _now() + dt.timedelta(seconds=seconds))

    async def replace(self, key: str, value: bytes, expires_in: int) -> None:
        """`set`, but only over a session still stored: one that ended meanwhile (a logout) stays ended."""
        await anyio.to_thread.run_sync(self._set, _key(key), value, _now() + dt.timedelta(seconds=expires_in), False)

    def _set(self, key: str, data: bytes, expires_at: dt.datetime, create: bool = True) -> None:
        with self.session_factory() as session, session.begin():
            row = session.get(WebSession, key)
            if row is None:
                if create:
                    session.add(WebSession(key=key, data=data, expires_at=expires_at))
            else:
                row.data, row.expires_at = data, expires_at

    async def get(self, key: str, renew_for: int | dt.timedelta | None = None) -> bytes | None:
        return await anyio.to_thread.run_sync(self._get, _key(key), renew_for)

    def _get(self, key: str, renew_for) -> bytes | None:
        with self.session_factory() as session, session.begin():
            row = session.get(WebSession, key)
            if row is None:
                return None
            if _aware(row.expires_at) <= _now():
                session.delete(row)
                return None
            if renew_for:
                seconds = renew_for.total_seconds() if isinstance(renew_for, dt.timedelta) else renew_for
                row.expires_at = _now() + dt.timedelta(seconds=seconds)
            return row.data

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, _key(key))

    def _delete(self, key: str) -> None:
        with self.session_factory() as session, session.begin():
            session.execute(delete(WebSession).where(WebSession.key == key))

    async def delete_all(self) -> None:
        await anyio.to_thread.run_sync(self._delete_all)

    def _delete_all(self) -> None:
        with self.session_factory() as session, session.begin():
            session.execute(delete(WebSession))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        def read() -> int | None:
            with self.session_factory() as session:
                at = session.scalar(select(WebSession.expires_at).where(WebSession.key == _key(key)))
            return None if at is None else max(0, int((_aware(at) - _now()).total_seconds()))

        return await anyio.to_thread.run_sync(read)


SESSION_COOKIE = "mm_session"
ROTATE = "matchmaker.rotate_session"   # scope flag: give this response's session a new id (set at login)


LOADED = "matchmaker.session_loaded"   # scope: the stored session's data as this request read it


class RotatingBackend(ServerSideSessionBackend):
    """Server-side sessions whose id is replaced at login, so an id planted before login is worth nothing after.

    Litestar writes a request's session back on every response. A page polled every second (an auction's board)
    then wrote back the session it had read before a bid's response stored its note, and the note was lost (the
    Chromium auction test failed on it under load); a poll finishing after a logout stored the ended session again.
    So a session the request did not change is not written, one it changed is written only over a session still
    stored, and its expiry slides when it is read (`renew_on_access`) instead of when it is written."""

    async def load_from_connection(self, connection) -> dict:
        connection.scope[LOADED] = None
        if session_id := connection.cookies.get(self.config.key):
            data = await self.get(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
            if data is not None:
                connection.scope[LOADED] = data
                return self.deserialize_data(data)
        return {}

    async def store_in_message(self, scope_session, message, connection) -> None:
        loaded = connection.scope.get(LOADED)
        if loaded is None or scope_session is Empty or connection.scope.get(ROTATE):
            return await super().store_in_message(scope_session, message, connection)   # new, ended or rotated
        session_id = self.get_session_id(connection)
        data = self.serialize_data(scope_session, connection.scope)
        if data != loaded:
            store = self.config.get_store_from_app(connection.scope["app"])
            await store.replace(session_id, data, int(self.config.max_age))
        cookie = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie).to_header(header=""))

    def get_session_id(self, connection) -> str:
        if connection.scope.get(ROTATE):
            fresh = connection.scope.get(ROTATE + ".id")
            if fresh is None:
                fresh = connection.scope[ROTATE + ".id"] = self.generate_session_id()
            return fresh
        return super().get_session_id(connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingBackend


def forget(session_factory, session_id: str | None) -> None:
    """Delete a session by its cookie value (the old one, when login rotates it)."""
    if session_id:
        DatabaseStore(session_factory)._delete(_key(session_id))
