"""Authentication on by default: every route of the app refuses an anonymous caller unless declared public."""

from __future__ import annotations

import re

import pytest
from litestar import get
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from matchmaker.app import create_app
from matchmaker.config import Settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Declared public: by handler (exclude_from_auth=True) or by path (the spec and its viewers, static files).
PUBLIC_PATHS = re.compile(r"^/(schema|web/static)(/|$)")


def _routes(app):
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                yield route.path, method, handler


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+(:[^}]+)?\}", lambda m: "demands" if "library" in m.group(0) else "1", path)


def test_every_route_refuses_an_anonymous_caller_unless_declared_public(migrated_url, tmp_path):
    app = create_app(Settings(database_url=migrated_url, index_dir=tmp_path / "index"))
    checked, public = 0, []
    with TestClient(app) as client:
        for path, method, handler in _routes(app):
            if handler.opt.get("exclude_from_auth") or PUBLIC_PATHS.match(path):
                public.append(f"{method} {path}")
                continue
            response = client.request(method, _concrete(path), json={}, follow_redirects=False)
            if path.startswith("/web/upload/"):   # checks its token itself, after the login: the login page first
                assert response.status_code in (302, 303) and response.headers["location"].startswith("/web/login")
            elif path.startswith("/web") and method != "GET":   # a form post without its CSRF token stops there
                assert response.status_code == 403, (method, path, response.status_code)
            elif path.startswith("/web"):   # pages send people to the login page
                assert response.status_code in (302, 303, 307), (method, path, response.status_code)
                assert response.headers["location"].startswith("/web/login"), (method, path)
            else:
                assert response.status_code == 401, (method, path, response.status_code, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.headers["content-type"].startswith("application/problem+json")
            checked += 1
    assert checked > 60
    declared = [r for r in public if not PUBLIC_PATHS.match(r.split(" ", 1)[1])]
    assert sorted(declared) == sorted([
        "GET /", "GET /health", "GET /web/login", "POST /web/login",
        # an email's unsubscribe link: the signed token is its authority
        "GET /web/unsubscribe", "POST /web/unsubscribe",
        # the storefront (issue 14): published postings, challenges, organisations, for search engines too
        "GET /web", "GET /web/market/{library:str}", "GET /web/market/{library:str}/{record_id:int}",
        "GET /favicon.ico", "GET /robots.txt", "GET /sitemap.xml",
        # coming in by oneself: apply, verify the email, reset a password, accept an invitation (a mailed link)
        "GET /web/register", "POST /web/register", "GET /web/verify-email", "GET /web/forgot-password",
        "POST /web/forgot-password", "GET /web/reset-password", "POST /web/reset-password",
        "GET /web/invitation", "POST /web/invitation"])


def test_a_handler_that_never_asks_for_the_caller_is_still_protected(migrated_url, tmp_path):
    @get("/forgetful", sync_to_thread=False)
    def forgetful() -> dict:   # no actor dependency: before, this answered anyone
        return {"secret": "42"}

    app = create_app(Settings(database_url=migrated_url, index_dir=tmp_path / "index"))
    app.register(forgetful)
    with TestClient(app) as client:
        assert client.get("/forgetful").status_code == 401
        assert client.get("/forgetful", headers={"Authorization": "Bearer nonsense"}).status_code == 401
