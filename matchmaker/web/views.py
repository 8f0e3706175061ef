"""Rendering helpers shared by the page controllers: the page frame's context, flash notes, a form's one write,
pagination."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker.catalog import directory
from matchmaker import db
from matchmaker.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from matchmaker.web.forms import field_problems

# What each role sees in the top navigation: (path, label).
NAVIGATION = {
    "office": [("/web/office", "我的成果"), ("/web/achievements/new", "发布成果"), ("/web/search", "检索"),
               ("/web/deals", "对接记录"), ("/web/contracts", "技术合同"), ("/web/listings", "挂牌交易"),
               ("/web/auctions", "拍卖"), ("/web/price-notices", "定价公示"), ("/web/challenges", "揭榜挂帅"),
               ("/web/subscriptions", "订阅推送"), ("/web/inbox", "消息")],
    "firm": [("/web/firm", "我的需求"), ("/web/demands/new", "发布需求"), ("/web/search", "检索"),
             ("/web/deals", "对接记录"), ("/web/contracts", "技术合同"), ("/web/listings", "挂牌交易"),
             ("/web/auctions", "拍卖"), ("/web/price-notices", "定价公示"), ("/web/challenges", "揭榜挂帅"),
             ("/web/subscriptions", "订阅推送"), ("/web/inbox", "消息")],
    "broker": [("/web/broker/queue", "待认领匹配"), ("/web/pipelines", "对接看板"), ("/web/contracts", "技术合同"),
               ("/web/search", "检索"), ("/web/subscriptions", "订阅推送"), ("/web/inbox", "消息")],
    "analyst": [("/web/analyst", "运行监测"), ("/web/registry-stats", "登记统计"), ("/web/review", "发布审核"), ("/web/simulations", "政策模拟"),
                ("/web/contracts", "技术合同"), ("/web/challenges", "揭榜挂帅"), ("/web/search", "检索"), ("/web/subscriptions", "订阅推送"),
                ("/web/inbox", "消息")],
    "expert": [("/web/challenges", "评审任务"), ("/web/search", "检索"), ("/web/inbox", "消息")],
    "evaluator": [("/web/evaluations", "科技成果评价"), ("/web/challenges", "评审任务"), ("/web/search", "检索"),
                  ("/web/inbox", "消息")],
    "admin": [("/web/analyst", "运行监测"), ("/web/registry-stats", "登记统计"), ("/web/review", "发布审核"), ("/web/simulations", "政策模拟"),
              ("/web/contracts", "技术合同"), ("/web/challenges", "揭榜挂帅"), ("/web/search", "检索"), ("/web/subscriptions", "订阅推送"),
              ("/web/audit", "审计日志"), ("/web/inbox", "消息")],
}
HOME = {"office": "/web/office", "firm": "/web/firm", "broker": "/web/broker/queue", "analyst": "/web/analyst",
        "admin": "/web/review", "expert": "/web/challenges"}


def render(request: Request, template: str, *, status_code: int = 200, **context) -> Template:
    """A full page (or, for an htmx request of a fragment template, just the fragment)."""
    me = _session(request).get("me")
    # An evaluation centre's experts also file evaluation reports: their menu says so.
    nav = NAVIGATION.get("evaluator" if me.get("kind") == "evaluator" else me["role"], []) if me else []
    if me and me.get("org_admin"):
        nav = [*nav, ("/web/team", "本单位账号")]
    if me and me["role"] in ("analyst", "admin"):
        nav = [*nav[:2], ("/web/applications", "注册审核"), *nav[2:]]
    # Only a full page shows the notes a form left (base.html); a fragment (`_….html`, what a page polls) leaves them
    # for it, or a poll landing between a POST and its page would take the note ("出价已接受") away.
    fragment = template.rsplit("/", 1)[-1].startswith("_")
    frame = {"me": me, "nav": nav, "path": request.url.path, "flashes": [] if fragment else pop_flashes(request),
             "request": request,
             "field_names": directory.field_names(request.app.state), "host": host(request.app.state)}
    return Template(template_name=template, context={**frame, **context}, status_code=status_code)


_HOST_LOCK = threading.Lock()


def host(state) -> dict[str, str]:
    """Who runs this market, for the footer: the S&T department's organisation and its region (read once)."""
    with _HOST_LOCK:
        found = state.get("host")
        if found is None:
            with state.session_factory() as session:
                found = directory.host(session)
            state.host = found
        return found


def _session(request: Request) -> dict:
    try:
        return request.session or {}
    except Exception:  # noqa: BLE001 - outside the /web router there is no session middleware
        return {}


def flash(request: Request, text: str, kind: str = "success") -> None:
    """A one-time note shown on the next page (after a redirect)."""
    notes = list(request.session.get("flash", []))
    notes.append({"text": text, "kind": kind})
    request.set_session({**request.session, "flash": notes})


def pop_flashes(request: Request) -> list[dict]:
    session = _session(request)
    notes = session.get("flash") or []
    if notes:
        request.set_session({k: val for k, val in session.items() if k != "flash"})
    return notes


def refused(request: Request, target: str, error) -> Redirect:
    """A service said no to a form: its reasons in the red box on the page the person came from."""
    flash(request, "未完成：" + "；".join(field_problems(error).values()), kind="error")
    return Redirect(target, status_code=303)


REFUSALS = (InvalidInput, Conflict, Forbidden, NotFound)


def acted(request: Request, session: Session, action: Callable[[], Any], *, back: str,
          done: str | Callable[[Any], str], then: str | Callable[[Any], str] | None = None,
          refusals: tuple[type[DomainError], ...] = REFUSALS) -> Redirect:
    """A form's one write: `action()` in one transaction, then on to `then` (default `back`) with the note `done`
    (either may be worked out from what `action` returned); a refusal the person can act on goes back to `back`
    with its reasons in the red box."""
    try:
        with session.begin():
            result = action()
            note = done(result) if callable(done) else done
            target = then(result) if callable(then) else (then or back)
    except refusals as error:
        return refused(request, back, error)
    return redirect(request, target, note)


def redirect(request: Request, target: str, note: str | None = None) -> Redirect:
    """Post/redirect/get, with an optional note for the next page."""
    if note:
        flash(request, note)
    return Redirect(target, status_code=303)


@dataclass(frozen=True)
class Pager:
    """Page numbers over a total, and links that keep the current filters."""

    total: int
    page: int
    size: int
    params: dict
    capped: bool = False   # the total was counted up to COUNT_CAP (a library list): above it, "more than"

    @property
    def exact(self) -> bool:
        return not self.capped or self.total <= db.COUNT_CAP

    @property
    def shown_total(self) -> int:
        return self.total if self.exact else db.COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.shown_total // self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def link(self, page: int) -> str:
        return "?" + urlencode({**{k: val for k, val in self.params.items() if val not in (None, "")}, "page": page})


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1
