"""What an owner does to a posting besides editing it: withdraw it (撤回), mark it done (已解决 / 已转让),
renew it (续期: a later closing date, which needs no new review)."""

from __future__ import annotations

import datetime as dt

from litestar import Request, post
from litestar.response import Redirect
from sqlalchemy.orm import Session

from matchmaker.catalog import services as catalog
from matchmaker.catalog.review import close_record, withdraw_record
from matchmaker.catalog.schemas import AchievementUpdate, DemandUpdate
from matchmaker.errors import DomainError
from matchmaker.identity.services import Actor
from matchmaker.web.libraries import library_page
from matchmaker.web.login import Form
from matchmaker.web.views import flash, redirect, refused

DONE_WORDS = {"achievements": "已标记为已转让，不再公开征集", "demands": "已标记为已解决，不再公开征集"}


def _refused(request: Request, back: str, error: DomainError) -> Redirect:
    if error.status not in (409, 422):
        raise error
    return refused(request, back, error)


@post("/{library:str}/{record_id:int}/withdraw", sync_to_thread=True)
def withdraw(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Redirect:
    lib = library_page(library)
    back = f"/web/{lib.slug}/{record_id}"
    try:
        with session.begin():
            withdraw_record(session, actor=actor, spec=lib.spec, record_id=record_id)
    except DomainError as error:
        return _refused(request, back, error)
    return redirect(request, back, "已撤回：不再公开，也不再参与匹配")


@post("/{library:str}/{record_id:int}/close", sync_to_thread=True)
def close(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Redirect:
    lib = library_page(library)
    back = f"/web/{lib.slug}/{record_id}"
    try:
        with session.begin():
            close_record(session, actor=actor, spec=lib.spec, record_id=record_id)
    except DomainError as error:
        return _refused(request, back, error)
    return redirect(request, back, DONE_WORDS[lib.slug])


@post("/{library:str}/{record_id:int}/renew", sync_to_thread=True)
def renew(request: Request, library: str, record_id: int, actor: Actor, session: Session,
          data: dict[str, str] = Form) -> Redirect:
    lib = library_page(library)
    back = f"/web/{lib.slug}/{record_id}"
    try:
        until = dt.date.fromisoformat(data.get("until", ""))
    except ValueError:
        flash(request, "未完成：请按 年-月-日 选择新的截止日期", kind="error")
        return Redirect(back, status_code=303)
    column = lib.spec.date_column
    changes = (DemandUpdate if lib.slug == "demands" else AchievementUpdate)(**{column: until})
    try:
        with session.begin():
            catalog.update_record(session, actor=actor, spec=lib.spec, record_id=record_id, changes=changes)
    except DomainError as error:
        return _refused(request, back, error)
    return redirect(request, back, f"已续期至 {until.isoformat()}")


HANDLERS = [withdraw, close, renew]
