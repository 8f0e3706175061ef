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
from matchmaker.errors import Conflict, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.web.libraries import library_page
from matchmaker.web.login import Form
from matchmaker.web.views import acted

DONE_WORDS = {"achievements": "已标记为已转让，不再公开征集", "demands": "已标记为已解决，不再公开征集"}


# A posting's page shows refusals it can explain (409, 422); a 403 or 404 is the error page's to say.
REFUSALS = (Conflict, InvalidInput)


@post("/{library:str}/{record_id:int}/withdraw", sync_to_thread=True)
def withdraw(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Redirect:
    lib = library_page(library)
    return acted(request, session, lambda: withdraw_record(session, actor=actor, spec=lib.spec, record_id=record_id),
                 back=f"/web/{lib.slug}/{record_id}", done="已撤回：不再公开，也不再参与匹配", refusals=REFUSALS)


@post("/{library:str}/{record_id:int}/close", sync_to_thread=True)
def close(request: Request, library: str, record_id: int, actor: Actor, session: Session) -> Redirect:
    lib = library_page(library)
    return acted(request, session, lambda: close_record(session, actor=actor, spec=lib.spec, record_id=record_id),
                 back=f"/web/{lib.slug}/{record_id}", done=DONE_WORDS[lib.slug], refusals=REFUSALS)


@post("/{library:str}/{record_id:int}/renew", sync_to_thread=True)
def renew(request: Request, library: str, record_id: int, actor: Actor, session: Session,
          data: dict[str, str] = Form) -> Redirect:
    lib = library_page(library)

    def action() -> dt.date:
        try:
            until = dt.date.fromisoformat(data.get("until", ""))
        except ValueError:
            raise InvalidInput.on("until", "请按 年-月-日 选择新的截止日期") from None
        changes = (DemandUpdate if lib.slug == "demands" else AchievementUpdate)(**{lib.spec.date_column: until})
        catalog.update_record(session, actor=actor, spec=lib.spec, record_id=record_id, changes=changes)
        return until

    return acted(request, session, action, back=f"/web/{lib.slug}/{record_id}", refusals=REFUSALS,
                 done=lambda until: f"已续期至 {until.isoformat()}")


HANDLERS = [withdraw, close, renew]
