"""Wires the pages into the app: the /web router with session login and CSRF, templates, static files, `/` → /web/."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path

from xml.sax.saxutils import escape

from litestar import Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.datastructures import CacheControlHeader
from litestar.response import File, Redirect
from sqlalchemy.orm import Session
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from matchmaker.catalog import storefront
from matchmaker.config import Settings
from matchmaker.web import labels
from matchmaker.web.auth import WEB_EXCEPTION_HANDLERS, SessionAuthentication, provide_page_actor
from matchmaker.web.session_store import SESSION_COOKIE, SessionConfig

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SESSION_HOURS = 12  # a working day; the session lives in the database (web_sessions), the cookie holds its key


@get("/", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def home() -> Redirect:
    """The bare address is the storefront (its canonical address is /web/, where the session cookie lives)."""
    return Redirect("/web/", status_code=301)


@get("/favicon.ico", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False,
     cache_control=CacheControlHeader(max_age=86_400, public=True))
def favicon() -> File:
    return File(STATIC / "favicon.ico", media_type="image/x-icon", content_disposition_type="inline")


@get("/robots.txt", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False, media_type="text/plain")
def robots(request: Request) -> str:
    """Crawlers may read the storefront, nothing behind a login and not the API."""
    base = request.app.state.settings.public_url
    return ("User-agent: *\nAllow: /web/$\nAllow: /web/market/\nDisallow: /web/\nDisallow: /achievements\n"
            f"Disallow: /demands\nDisallow: /schema\nSitemap: {base}/sitemap.xml\n")


@get("/sitemap.xml", include_in_schema=False, exclude_from_auth=True, sync_to_thread=True, media_type="application/xml")
def sitemap(request: Request, session: Session) -> str:
    """Every public page (sitemaps.org protocol 0.9), built at most every ten minutes per process: crawlers come
    often, the list changes with reviews, and building it for 25,000 postings takes about 150 ms."""
    state = request.app.state
    cached = state.get("sitemap")
    if cached is not None and time.monotonic() - cached[0] < SITEMAP_SECONDS:
        return cached[1]
    base = state.settings.public_url
    with session.begin():
        paths = storefront.sitemap_paths(session)
    urls = "".join(f"<url><loc>{escape(base + path)}</loc>{f'<lastmod>{day.isoformat()}</lastmod>' if day else ''}</url>"
                   for path, day in paths)
    text = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    state.sitemap = (time.monotonic(), text)
    return text


SITEMAP_SECONDS = 600


def page_misses(api_handlers: dict) -> dict:
    """Errors raised before any page handler runs (an unknown /web address, a wrong method) answer with the
    Chinese error page under /web and the API's problem+json elsewhere."""
    from litestar.exceptions import HTTPException

    def on_http_error(request: Request, error: HTTPException):
        if request.url.path.startswith("/web"):
            return WEB_EXCEPTION_HANDLERS[HTTPException](request, error)
        return api_handlers[HTTPException](request, error)

    return {**api_handlers, HTTPException: on_http_error}


def _key(secret: str, purpose: str) -> bytes:
    # One configured secret, separate keys per use: a leaked CSRF key must not open sessions.
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def _session_middleware(app, secure: bool):
    """Server-side sessions in the `sessions` store (web/session_store.py): logout ends them everywhere."""
    config = SessionConfig(key=SESSION_COOKIE, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                                     path="/web", secure=secure, store="sessions", renew_on_access=True)
    return config.middleware(app)


# Pages load scripts and styles from /web/static only; inline styles stay allowed for the bar widths the
# templates compute. No page may be framed (clickjacking), and other sites learn only our origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def web_handlers(settings: Settings) -> list:
    """The page router and its static files; session and CSRF middleware apply to /web only, so
    Bearer-token API clients see no cookies and no CSRF checks."""
    from matchmaker.web import accounts, analyst, audit, broker, deals, libraries, login, search, storefront as shop
    from matchmaker.web import after_signing, challenges, contract_form, evaluations, posting_actions, registry, registry_stats, spreadsheets, subscriptions, trading

    secret = settings.secret_key or secrets.token_urlsafe(32)  # tests without a key: sessions last the process
    csrf = CSRFConfig(secret=_key(secret, "csrf").hex(), cookie_name="mm_csrf", cookie_path="/web",
                      cookie_samesite="lax", header_name="x-csrftoken", cookie_secure=settings.secure_cookies,
                      # One-click unsubscribe (RFC 8058) posts from a mail app: the signed token is its authority.
                      # Uploads check their token in the handler (web/spreadsheets.py): the middleware's reading of a
                      # multipart body leaves nothing for the handler, and the request waits forever (Litestar 2).
                      exclude=["/web/unsubscribe", "/web/upload/"])
    public_pages = [*shop.HANDLERS, *accounts.HANDLERS]
    pages = Router(
        path="/web",
        route_handlers=[*public_pages, *login.HANDLERS, *posting_actions.HANDLERS, *spreadsheets.HANDLERS, *registry.HANDLERS, *contract_form.HANDLERS, *after_signing.HANDLERS, *registry_stats.HANDLERS, *trading.HANDLERS, *challenges.HANDLERS, *evaluations.HANDLERS, *libraries.HANDLERS, *broker.HANDLERS, *analyst.HANDLERS, *search.HANDLERS,
                       *subscriptions.HANDLERS, *audit.HANDLERS, *deals.HANDLERS],
        middleware=[DefineMiddleware(_session_middleware, secure=settings.secure_cookies),
                    DefineMiddleware(CSRFMiddleware, config=csrf),
                    DefineMiddleware(SessionAuthentication, exclude=["^/web/static"])],
        # Overrides the app's Bearer-token `actor` for pages: the logged-in user from the session cookie.
        dependencies={"actor": Provide(provide_page_actor, sync_to_thread=False)},
        exception_handlers=WEB_EXCEPTION_HANDLERS,
        after_request=_security_headers,
        include_in_schema=False,
        opt={"csrf": csrf},
    )
    static = create_static_files_router(path="/web/static", directories=[STATIC], include_in_schema=False,
                                        cache_control=None)
    return [home, favicon, robots, sitemap, pages, static]


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=labels.register)
