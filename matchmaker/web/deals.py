"""Deal pages: a pair's thread (interest, answer, undertaking, messages and meetings), my deals, the one inbox,
notice preferences, and the one-click unsubscribe an email links to."""

from __future__ import annotations

import datetime as dt

from litestar import Request, get, post
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.deals import introductions, thread
from matchmaker.errors import DomainError, NotFound
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Demand, Introduction, Pipeline, User
from matchmaker.notices import services as notices
from matchmaker.notices.email import read_unsubscribe_token
from matchmaker.notices.services import DELIVERY_WORDS, KIND_WORDS
from matchmaker.web.forms import FormData, field_problems
from matchmaker.web.views import redirect, render

CHINA = dt.timezone(dt.timedelta(hours=8))


def _thread_page(request: Request, actor: Actor, session: Session, demand_id: int, achievement_id: int,
                 problems: dict | None = None, form: dict | None = None, status_code: int = 200) -> Template:
    with session.begin():
        found = thread.deal_thread(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id)
        side = found.pair.side_of(actor)
    return render(request, "deal.html", status_code=status_code, t=found, side=side and side.value,
                  undertaking=introductions.UNDERTAKING_WORDING, problems=problems or {}, form=form or {},
                  china=CHINA)


@get("/deals/{demand_id:int}/{achievement_id:int}", sync_to_thread=True)
def deal_page(request: Request, demand_id: int, achievement_id: int, actor: Actor, session: Session) -> Template:
    """One pair's deal: both postings, where the deal stands, and everything said and done in it."""
    return _thread_page(request, actor, session, demand_id, achievement_id)


@post("/deals/{demand_id:int}/{achievement_id:int}/interest")
async def interest(request: Request, demand_id: int, achievement_id: int, actor: Actor, session: Session) -> Template | Redirect:
    form = FormData.of(await request.form())
    if len(form.get("message", "")) > 2000:
        return _thread_page(request, actor, session, demand_id, achievement_id, {"message": "留言最多 2000 字"}, form, 422)
    with session.begin():
        found = introductions.express_interest(session, actor=actor, demand_id=demand_id,
                                               achievement_id=achievement_id, message=form.get("message", ""))
    words = "双方都有意向，已互相介绍" if found.status == v.IntroductionStatus.ACCEPTED else "已发出对接意向，对方会收到通知"
    return redirect(request, f"/web/deals/{demand_id}/{achievement_id}", words)


@post("/introductions/{introduction_id:int}/answer")
async def answer(request: Request, introduction_id: int, actor: Actor, session: Session) -> Template | Redirect:
    form = FormData.of(await request.form())
    accept = form.get("decision") == "accept"
    try:
        with session.begin():
            found = introductions.answer_introduction(session, actor=actor, introduction_id=introduction_id,
                                                      accept=accept, note=form.get("note", "")[:2000])
    except DomainError as error:
        if error.status != 422:
            raise
        with session.begin():
            pair = session.get(Introduction, introduction_id)
            ids = (pair.demand_id, pair.achievement_id)
        return _thread_page(request, actor, session, *ids, {"note": "谢绝时请写明原因，方便对方了解什么样的合作更合适"},
                            form, 422)
    words = "已接受：双方联系人已互相可见，可以在下方留言或约见" if accept else "已谢绝，对方会看到您写的原因"
    return redirect(request, f"/web/deals/{found.demand_id}/{found.achievement_id}", words)


@post("/introductions/{introduction_id:int}/undertaking", sync_to_thread=True)
def undertake(request: Request, introduction_id: int, actor: Actor, session: Session) -> Redirect:
    with session.begin():
        undertaking = introductions.acknowledge_undertaking(session, actor=actor, introduction_id=introduction_id)
        found = session.get(Introduction, undertaking.introduction_id)
    return redirect(request, f"/web/deals/{found.demand_id}/{found.achievement_id}",
                    "已签署保密承诺，签署时间和签署人已记录")


@post("/deals/{demand_id:int}/{achievement_id:int}/messages")
async def message(request: Request, demand_id: int, achievement_id: int, actor: Actor, session: Session) -> Template | Redirect:
    form = FormData.of(await request.form())
    body, problems = form.get("body", "").strip(), {}
    meeting_at = None
    if not body:
        problems["body"] = "请填写留言内容"
    elif len(body) > 4000:
        problems["body"] = "留言最多 4000 字"
    if form.get("meeting_at"):
        try:
            meeting_at = dt.datetime.fromisoformat(form.get("meeting_at")).replace(tzinfo=CHINA)
        except ValueError:
            problems["meeting_at"] = "请选择约见的日期和时间"
    if problems:
        return _thread_page(request, actor, session, demand_id, achievement_id, problems, form, 422)
    try:
        with session.begin():
            thread.post_message(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id, body=body,
                                meeting_at=meeting_at, meeting_place=form.get("meeting_place", "")[:200])
    except DomainError as error:
        if error.status != 422:
            raise
        return _thread_page(request, actor, session, demand_id, achievement_id,
                            {"meeting_at": "约见时间需要晚于现在"} if "meeting_at" in field_problems(error)
                            else field_problems(error), form, 422)
    return redirect(request, f"/web/deals/{demand_id}/{achievement_id}",
                    "约见请求已发出，对方会收到带日历附件的通知" if meeting_at else "留言已发出")


@get("/pipelines/{pipeline_id:int}", sync_to_thread=True)
def pipeline_history(request: Request, pipeline_id: int, actor: Actor, session: Session) -> Redirect:
    """A pipeline's history is its pair's deal thread (which answers 404 to anyone outside the deal)."""
    with session.begin():
        found = session.get(Pipeline, pipeline_id)
        if found is None:
            raise NotFound("没有找到这个对接项目")
        target = f"/web/deals/{found.demand_id}/{found.achievement_id}"
    return Redirect(target, status_code=303)


@get("/deals", sync_to_thread=True)
def my_deals(request: Request, actor: Actor, session: Session) -> Template:
    """Introductions on my organisation's postings, sent and received, with both titles."""
    with session.begin():
        rows, total = introductions.list_introductions(session, actor=actor, limit=100)
        titles = {("d", r.demand_id): session.get(Demand, r.demand_id).title for r in rows}
        titles |= {("a", r.achievement_id): session.get(Achievement, r.achievement_id).title for r in rows}
    return render(request, "deals.html", rows=rows, total=total, titles=titles)


@get("/inbox", sync_to_thread=True)
def inbox(request: Request, actor: Actor, session: Session) -> Template:
    """The one inbox: strong matches, interest, answers, messages, meetings, stage changes and review outcomes."""
    with session.begin():
        rows, total = notices.list_notices(session, actor=actor, limit=100)
    return render(request, "inbox.html", rows=rows, total=total, kinds=KIND_WORDS, china=CHINA)


@post("/inbox/read-all", sync_to_thread=True)
def read_all(request: Request, actor: Actor, session: Session) -> Redirect:
    with session.begin():
        notices.mark_all_read(session, actor=actor)
    return redirect(request, "/web/inbox", "已全部标为已读")


@get("/inbox/{notice_id:int}", sync_to_thread=True)
def open_notice(request: Request, notice_id: int, actor: Actor, session: Session) -> Redirect:
    """Mark a notice read and go where it points."""
    with session.begin():
        found = notices.mark_read(session, actor=actor, notice_id=notice_id)
        target = found.link if found.link.startswith("/web/") else "/web/inbox"
    return Redirect(target, status_code=303)


def _preferences_page(request: Request, actor: Actor, session: Session, problems: dict | None = None,
                      status_code: int = 200) -> Template:
    with session.begin():
        chosen = notices.preferences(session, actor.user_id)
        email = session.get(User, actor.user_id).email or ""
    return render(request, "notice_preferences.html", status_code=status_code, chosen=chosen, kinds=KIND_WORDS,
                  deliveries=DELIVERY_WORDS, email=email, problems=problems or {})


@get("/notice-preferences", sync_to_thread=True)
def preferences_page(request: Request, actor: Actor, session: Session) -> Template:
    return _preferences_page(request, actor, session)


@post("/notice-preferences")
async def save_preferences(request: Request, actor: Actor, session: Session) -> Template | Redirect:
    form = FormData.of(await request.form())
    email = form.get("email", "").strip()
    if email and (len(email) > 254 or "@" not in email or " " in email or "." not in email.split("@")[-1]):
        return _preferences_page(request, actor, session, {"email": "请填写有效的邮箱地址，例如 name@example.com"}, 422)
    choices = {kind.value: form.get(kind.value) for kind in v.NoticeKind if form.get(kind.value) in v.values(v.Delivery)}
    with session.begin():
        session.get(User, actor.user_id).email = email or None
        notices.set_preferences(session, actor.user_id, choices)
    return redirect(request, "/web/notice-preferences", "已保存提醒设置")


@get("/unsubscribe", exclude_from_auth=True, sync_to_thread=True)
def unsubscribe_page(request: Request, token: str = "") -> Template:
    """Where an email's unsubscribe link lands: says what will stop, and asks to confirm (no login needed)."""
    found = read_unsubscribe_token(request.app.state.settings.secret_key, token)
    if found is None:
        raise HTTPException(status_code=400, detail="退订链接无效或已损坏，请登录后在“提醒设置”中修改")
    return render(request, "unsubscribe.html", token=token, kind=KIND_WORDS[found[1]], done=False)


@post("/unsubscribe", exclude_from_auth=True)
async def unsubscribe(request: Request, session: Session) -> Template:
    """Turn one kind of email off for the person the signed token names (also RFC 8058 one-click from mail apps)."""
    form = FormData.of(await request.form())
    token = form.get("token", "") or request.query_params.get("token", "")
    found = read_unsubscribe_token(request.app.state.settings.secret_key, token)
    if found is None:
        raise HTTPException(status_code=400, detail="退订链接无效或已损坏，请登录后在“提醒设置”中修改")
    with session.begin():
        notices.set_preferences(session, found[0], {found[1].value: v.Delivery.OFF.value})
    return render(request, "unsubscribe.html", token=token, kind=KIND_WORDS[found[1]], done=True)


HANDLERS = [pipeline_history, deal_page, interest, answer, undertake, message, my_deals, inbox, read_all, open_notice,
            preferences_page, save_preferences, unsubscribe_page, unsubscribe]
