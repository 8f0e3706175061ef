"""Who is looking at a page: the session's user as an Actor, and what a page shows when a service refuses."""

from __future__ import annotations

import logging
from urllib.parse import quote

import anyio
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect

from matchmaker.api.problems import OTHER_TITLE, TITLES
from matchmaker.errors import DomainError, NotAuthenticated
from matchmaker.identity.services import Actor, actor_of
from matchmaker.web.views import render
from matchmaker.reasons import translate

log = logging.getLogger("matchmaker.web")
SESSION_USER = "user_id"


class SessionAuthentication(AbstractAuthenticationMiddleware):
    """Every page needs a logged-in user unless its handler is declared public (exclude_from_auth=True)."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        session = connection.scope.get("session") or {}
        user_id = session.get(SESSION_USER) if isinstance(session, dict) else None
        actor = await anyio.to_thread.run_sync(_actor_for_user, connection.app.state.session_factory, user_id) \
            if user_id else None
        if actor is None:
            connection.scope["session"] = {}   # a stale cookie (user gone) is dropped
            raise NotAuthenticated("请先登录")
        return AuthenticationResult(user=actor, auth=None)


def _actor_for_user(session_factory, user_id: int) -> Actor | None:
    with session_factory() as session:
        return actor_of(session, user_id)


def provide_page_actor(request: Request) -> Actor:
    """The logged-in user (the middleware has sent anyone else to the login page)."""
    actor = request.user
    if not isinstance(actor, Actor):
        raise NotAuthenticated("请先登录")
    return actor


def _to_login(request: Request) -> Response:
    target = "/web/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
    if request.headers.get("hx-request"):
        return Response(None, status_code=204, headers={"HX-Redirect": target})  # htmx follows it as a full page load
    return Redirect(target)


def on_domain_error(request: Request, error: DomainError) -> Response:
    if isinstance(error, NotAuthenticated):
        return _to_login(request)
    # The reasons themselves (an InvalidInput's detail starts with the field's name, which is not for people).
    detail = "；".join(dict.fromkeys(translate(p.field, p.reason) for p in error.problems)) if error.problems \
        else translate("", error.detail)
    return render(request, "error.html", status_code=error.status, title=_TITLES.get(error.status, OTHER_TITLE),
                detail=detail)


def on_http_error(request: Request, error: HTTPException) -> Response:
    if isinstance(error, NotAuthorizedException):
        return _to_login(request)
    if isinstance(error, PermissionDeniedException) and "CSRF" in str(error.detail):
        detail = "表单已失效或来源不明（缺少安全校验码）。请返回上一页、刷新后重新提交。"
    elif str(error.detail).isascii():   # the framework's own English words: say it in Chinese, with what to do
        detail = _DETAILS.get(error.status_code, "请求未能完成。请返回上一页重试，或从首页重新进入。")
    else:
        detail = str(error.detail)
    return render(request, "error.html", status_code=error.status_code,
                title=_TITLES.get(error.status_code, OTHER_TITLE), detail=detail)


def on_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on page %s", request.url.path)
    return render(request, "error.html", status_code=500, title="系统出错了",
                detail="处理请求时发生了意外错误，已记录日志。请稍后再试，或联系平台管理员。")


_DETAILS = {404: "您访问的页面不存在。请检查网址，或从首页重新进入。",
            405: "这个页面不支持这种操作。请从页面上的按钮或链接进入。",
            400: "请求的格式不正确。请返回上一页重新填写后提交。",
            413: "提交的内容太大。请删减后重新提交。"}
# The API's titles, but a page's address can be mistyped too.
_TITLES = {**TITLES, 404: "找不到该页面或记录"}

WEB_EXCEPTION_HANDLERS = {DomainError: on_domain_error, HTTPException: on_http_error, Exception: on_unexpected_error}
