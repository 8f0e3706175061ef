"""Log in with a name and password, log out, and the landing page that sends each role to its home."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker.identity import audit, throttle
from matchmaker.identity.services import AccountNotReady, Actor, verify_login
from matchmaker.models import Organisation, Region, User
from matchmaker.web.auth import SESSION_USER
from matchmaker.web.session_store import ROTATE, SESSION_COOKIE, forget
from matchmaker.web.views import HOME, redirect, render

Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _safe_next(target: str | None) -> str | None:
    # Only our own pages: an open redirect would let a phishing link borrow the login form.
    return target if target and target.startswith("/web/") and not target.startswith("//") else None


@get("/login", exclude_from_auth=True, sync_to_thread=False)
def login_form(request: Request, next: str | None = None) -> Template:
    return render(request, "login.html", next=_safe_next(next) or "", login="", problem=None)


@post("/login", exclude_from_auth=True, sync_to_thread=True)
def login(request: Request, session: Session, data: dict[str, str] = Form) -> Template | Redirect:
    name, password = data.get("login", "").strip(), data.get("password", "")
    address = request.client.host if request.client else ""
    again = _safe_next(data.get("next")) or ""
    if not (name and password):
        return render(request, "login.html", status_code=401, next=again, login=name, problem="请填写用户名和密码")
    with session.begin():
        wait = throttle.wait_seconds(session, login=name, address=address)
        if wait:   # refused unchecked: a guess that comes early learns nothing
            audit.record(session, audit.LOGIN_THROTTLED, subject=f"login:{name}"[:40], address=address, wait=wait)
            response = render(request, "login.html", status_code=429, next=again, login=name,
                              problem=f"尝试次数过多，请 {wait} 秒后再试。忘记密码可点击下方“忘记密码”重设。")
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            actor = verify_login(session, name, password)
        except AccountNotReady as not_ready:
            actor, waiting = None, not_ready.detail
        else:
            waiting = None
        throttle.note(session, login=name, address=address, succeeded=actor is not None)
        if actor is None and waiting is None:
            audit.record(session, audit.LOGIN_FAILED, subject=f"login:{name}"[:40], address=address)
        elif actor is not None:
            audit.record(session, audit.LOGIN, actor=actor, subject=f"user:{actor.user_id}", address=address)
            user = session.get(User, actor.user_id)
            organisation = session.get(Organisation, actor.organisation_id)
            market = session.get(Region, actor.region_code).name if actor.region_code else None
            me = {"name": user.name, "role": actor.role.value, "organisation": organisation.name, "kind": organisation.kind,
                  "org_admin": user.org_admin, "market": market}
    if waiting is not None:
        return render(request, "login.html", status_code=403, next=again, login=name, problem=waiting)
    if actor is None:
        return render(request, "login.html", status_code=401, next=again, login=name, problem="用户名或密码不正确")
    # A new session id at login, so an id planted before login is worth nothing after it.
    forget(request.app.state.session_factory, request.cookies.get(SESSION_COOKIE))
    request.scope[ROTATE] = True
    request.set_session({SESSION_USER: actor.user_id, "me": me})
    return redirect(request, again or HOME[actor.role.value], f"欢迎，{me['name']}")


@post("/logout", sync_to_thread=True)
def logout(request: Request, actor: Actor, session: Session) -> Redirect:
    """Ends the session on the server: a saved copy of the cookie opens nothing afterwards."""
    with session.begin():
        audit.record(session, audit.LOGOUT, actor=actor, subject=f"user:{actor.user_id}",
                     address=request.client.host if request.client else "")
    request.clear_session()
    return Redirect("/web/login", status_code=303)


HANDLERS = [login_form, login, logout]
