"""Log in with a name and password, log out, and the landing page that sends each role to its home."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker.identity.services import Actor, verify_login
from matchmaker.models import Organisation, User
from matchmaker.web.auth import SESSION_USER
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
    actor = verify_login(session, name, password) if name and password else None
    if actor is None:
        session.rollback()
        return render(request, "login.html", status_code=401, next=_safe_next(data.get("next")) or "", login=name,
                    problem="用户名或密码不正确" if name and password else "请填写用户名和密码")
    user = session.get(User, actor.user_id)
    organisation = session.get(Organisation, actor.organisation_id)
    session.rollback()
    # A fresh session at login, so a cookie planted before login is worth nothing after it.
    request.clear_session()
    request.set_session({SESSION_USER: actor.user_id,
                         "me": {"name": user.name, "role": actor.role.value, "organisation": organisation.name}})
    return redirect(request, _safe_next(data.get("next")) or HOME[actor.role.value], f"欢迎，{user.name}")


@post("/logout", sync_to_thread=False)
def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/web/login", status_code=303)


@get("/", sync_to_thread=False)
def landing(actor: Actor) -> Redirect:
    return Redirect(HOME[actor.role.value])


HANDLERS = [login_form, login, logout, landing]
