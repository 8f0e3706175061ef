"""F3: page sessions live on the server (logout ends them, login gives a new id), logins are throttled with
backoff per account and per address, and every login, failure and logout is in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from matchmaker.db import make_session_factory, transaction
from matchmaker.identity.services import set_password
from matchmaker.models import AuditEntry, User

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)   # a PostgreSQL run is in CI below
PASSWORD = "a-long-enough-password"


def _user(api, name: str) -> int:
    api.users.headers("firm", api.orgs.firm, name=name)
    with transaction(make_session_factory(api.users.engine)) as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
        set_password(session, user_id, PASSWORD)
    return user_id


def _login(api, name: str, password: str):
    form = api.get("/web/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)
    return api.post("/web/login", data={"login": name, "password": password, "_csrf_token": token},
                    follow_redirects=False)


def _csrf(api) -> str:
    page = api.get("/web/login")
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


def _actions(api) -> list[str]:
    with api.users.engine.connect() as conn:
        return list(conn.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _session_cookie(response) -> str:
    return re.search(r"mm_session=([^;]+)", response.headers["set-cookie"]).group(1)


def test_logout_ends_the_session_a_saved_cookie_opens_nothing(api):
    _user(api, "会话用户")
    token = _csrf(api)
    csrf_cookie = api.cookies.get("mm_csrf")
    planted = {"cookie": f"mm_csrf={csrf_cookie}; mm_session=planted-before-login"}
    api.cookies.clear()
    login = api.post("/web/login", data={"login": "会话用户", "password": PASSWORD, "_csrf_token": token},
                     headers=planted, follow_redirects=False)
    assert login.status_code in (302, 303)
    saved = _session_cookie(login)
    assert saved != "planted-before-login"                       # a new id at login
    signed_in = {"cookie": f"mm_csrf={csrf_cookie}; mm_session={saved}"}
    assert api.get("/web/search", headers=signed_in, follow_redirects=False).status_code == 200
    logout = api.post("/web/logout", data={"_csrf_token": token}, headers=signed_in, follow_redirects=False)
    assert logout.status_code == 303
    again = api.get("/web/search", headers=signed_in, follow_redirects=False)   # the copy an attacker kept
    assert again.status_code in (302, 303) and again.headers["location"].startswith("/web/login")
    assert _actions(api)[-2:] == ["login", "logout"]


def test_thirty_wrong_passwords_are_throttled_and_the_right_one_waits_too(api):
    _user(api, "被猜的用户")
    statuses = [_login(api, "被猜的用户", f"guess-{n}").status_code for n in range(30)]
    assert statuses[:5] == [401] * 5                            # the first mistakes cost nothing
    assert statuses.count(429) >= 20                            # then each try must wait, and early ones are refused
    right = _login(api, "被猜的用户", PASSWORD)
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1
    assert "秒后再试" in right.text
    actions = _actions(api)
    assert actions.count("login_failed") >= 5 and "login_throttled" in actions and "login" not in actions


def test_another_account_from_the_same_address_is_throttled_too(api):
    _user(api, "同一地址的另一个用户")
    for n in range(8):
        _login(api, f"不存在的用户{n}", "whatever")
    assert _login(api, "同一地址的另一个用户", PASSWORD).status_code == 429


def test_a_request_that_left_the_session_alone_does_not_undo_another_requests_change(api):
    """web/session_store.py: every response wrote its session back, so a page polled every second that had read the
    session before a bid's response stored its note wrote the note away, and one that finished after a logout
    stored the ended session again."""
    import asyncio

    from litestar.connection import ASGIConnection
    from litestar.types import Empty

    from matchmaker.web.session_store import SESSION_COOKIE, SessionConfig

    _user(api, "轮询的用户")
    session_id = _session_cookie(_login(api, "轮询的用户", PASSWORD))
    config = SessionConfig(key=SESSION_COOKIE, max_age=3600, store="sessions", renew_on_access=True)
    backend = config._backend_class(config=config)

    board = next(route.route_handlers[0] for route in api.app.routes if route.path.endswith("/board"))

    def request() -> ASGIConnection:
        return ASGIConnection({"type": "http", "app": api.app, "litestar_app": api.app, "route_handler": board, "path": "/web/auctions/1/board",
                               "query_string": b"", "headers": [(b"cookie", f"{SESSION_COOKIE}={session_id}".encode())]})

    def response() -> dict:
        return {"type": "http.response.start", "status": 200, "headers": []}

    async def races() -> tuple[dict, bool]:
        poll, bid = request(), request()
        polled = await backend.load_from_connection(poll)            # the poll reads the session first
        noted = {**await backend.load_from_connection(bid), "flash": [{"text": "出价已接受", "kind": "success"}]}
        await backend.store_in_message(noted, response(), bid)       # the bid's response stores its note
        await backend.store_in_message(polled, response(), poll)     # then the poll's response goes out
        after_bid = await backend.load_from_connection(request())
        poll, logout = request(), request()
        polled = await backend.load_from_connection(poll)
        await backend.load_from_connection(logout)
        await backend.store_in_message(Empty, response(), logout)   # logout ends the session
        await backend.store_in_message({**polled, "flash": []}, response(), poll)   # a poll that changed it ends
        return after_bid, await api.app.stores.get("sessions").exists(session_id)

    after_bid, still_stored = asyncio.run(races())
    assert after_bid.get("flash") == [{"text": "出价已接受", "kind": "success"}]
    assert not still_stored
