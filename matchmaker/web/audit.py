"""The audit log page for admins: who did what, to what, from where, newest first."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from matchmaker.identity import audit
from matchmaker.identity.services import Actor
from matchmaker.models import User
from matchmaker.web.views import Pager, page_number, render

PAGE = 50


@get("/audit", sync_to_thread=True)
def audit_log(request: Request, actor: Actor, session: Session, action: str | None = None,
              page: str | None = None) -> Template:
    action = action if action in audit.ACTIONS else None
    number = page_number(page)
    with session.begin():
        rows, total = audit.list_entries(session, actor=actor, action=action, limit=PAGE, offset=(number - 1) * PAGE)
        names = {u.id: u.name for u in session.query(User).filter(User.id.in_({r.actor_user_id for r in rows}))}
    return render(request, "audit.html", rows=rows, names=names, action=action or "", words=audit.ACTION_WORDS,
                  pager=Pager(total, number, PAGE, {"action": action}))


HANDLERS = [audit_log]
