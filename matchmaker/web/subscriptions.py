"""Subscriptions page: anyone subscribes to new postings by field, region and keywords, and reads what was pushed."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.errors import DomainError
from matchmaker.identity.services import Actor
from matchmaker.push import services as push
from matchmaker.web.forms import FormData, field_problems
from matchmaker.web.libraries import form_choices
from matchmaker.web.views import redirect, render

NOTICES_SHOWN = 50


def _page(request: Request, actor: Actor, session: Session, form: dict, problems: dict,
          status_code: int = 200) -> Template:
    with session.begin():
        subscriptions = push.list_subscriptions(session, actor=actor)
        notices, total = push.list_notices(session, actor=actor, limit=NOTICES_SHOWN)
        choices = form_choices(session)
    region_names = {r.code: r.name for r in [*choices["provinces"], *choices["cities"]]}
    return render(request, "subscriptions.html", status_code=status_code, subscriptions=subscriptions,
                  notices=notices, notices_total=total, form=form, problems=problems, region_names=region_names,
                  **choices)


@get("/subscriptions", sync_to_thread=True)
def subscriptions(request: Request, actor: Actor, session: Session) -> Template:
    """The caller's subscriptions, a form to add one, and the new postings they brought."""
    return _page(request, actor, session, {"library": "demands" if actor.role is v.Role.BROKER else ""}, {})


@post("/subscriptions")
async def subscribe(request: Request, actor: Actor, session: Session) -> Template | Redirect:
    form = FormData.of(await request.form())
    library = form.get("library", "")
    if library not in v.values(v.Library):
        return _page(request, actor, session, form, {"library": "请选择订阅成果还是需求"}, status_code=422)
    if len(form.get("keywords", "")) > 200:
        return _page(request, actor, session, form, {"keywords": "关键词最多 200 字"}, status_code=422)
    try:
        with session.begin():
            push.create_subscription(session, actor=actor, library=library, field=form.get("field") or None,
                                     region=form.get("region") or None, keywords=form.get("keywords", ""))
    except DomainError as error:
        return _page(request, actor, session, form, field_problems(error), status_code=422)
    return redirect(request, "/web/subscriptions", "已订阅：新发布的匹配信息会出现在本页")


@post("/subscriptions/{subscription_id:int}/delete", sync_to_thread=True)
def unsubscribe(request: Request, subscription_id: int, actor: Actor, session: Session) -> Redirect:
    with session.begin():
        push.delete_subscription(session, actor=actor, subscription_id=subscription_id)
    return redirect(request, "/web/subscriptions", "已取消订阅（已收到的推送仍保留）")


@post("/notices/{notice_id:int}/dismiss", sync_to_thread=True)
def dismiss_notice(request: Request, notice_id: int, actor: Actor, session: Session) -> Redirect:
    with session.begin():
        push.dismiss_notice(session, actor=actor, notice_id=notice_id)
    return redirect(request, "/web/subscriptions", "已移除这条推送")


HANDLERS = [subscriptions, subscribe, unsubscribe, dismiss_notice]
