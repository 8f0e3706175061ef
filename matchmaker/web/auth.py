"""Who is looking at a page: the session's user as an Actor, and what a page shows when a service refuses."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect
from sqlalchemy.orm import Session

from matchmaker.errors import DomainError, NotAuthenticated
from matchmaker.identity.services import Actor, actor_of
from matchmaker.web.views import render

log = logging.getLogger("matchmaker.web")
SESSION_USER = "user_id"


def provide_page_actor(request: Request, session: Session) -> Actor:
    user_id = request.session.get(SESSION_USER) if request.session else None
    actor = actor_of(session, user_id) if user_id else None
    session.rollback()  # end the read transaction so the handler's service starts a fresh one
    if actor is None:
        request.clear_session()
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
    return render(request, "error.html", status_code=error.status, title=_TITLES.get(error.status, "操作未完成"),
                detail=error.detail)


def on_http_error(request: Request, error: HTTPException) -> Response:
    if isinstance(error, NotAuthorizedException):
        return _to_login(request)
    if isinstance(error, PermissionDeniedException) and "CSRF" in str(error.detail):
        detail = "表单已失效或来源不明（缺少安全校验码）。请返回上一页、刷新后重新提交。"
    else:
        detail = str(error.detail)
    return render(request, "error.html", status_code=error.status_code,
                title=_TITLES.get(error.status_code, "操作未完成"), detail=detail)


def on_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on page %s", request.url.path)
    return render(request, "error.html", status_code=500, title="系统出错了",
                detail="处理请求时发生了意外错误，已记录日志。请稍后再试，或联系平台管理员。")


_TITLES = {400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "找不到该页面或记录", 409: "状态已变化",
           422: "填写内容有误", 500: "系统出错了"}

WEB_EXCEPTION_HANDLERS = {DomainError: on_domain_error, HTTPException: on_http_error, Exception: on_unexpected_error}
