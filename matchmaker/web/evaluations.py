"""The evaluation centre's page (科技成果评价): its experts file a report on a published achievement by its number,
and see the reports their centre has filed. The report then shows on the achievement's pages."""

from __future__ import annotations

import datetime as dt

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog import evaluations
from matchmaker.errors import Forbidden, InvalidInput
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Organisation
from matchmaker.web.forms import yuan_field
from matchmaker.web.login import Form
from matchmaker.web.views import acted, render


def _evaluator(session: Session, actor: Actor) -> Organisation:
    org = session.get(Organisation, actor.organisation_id)
    if actor.role is not v.Role.EXPERT or org is None or org.kind != v.OrganisationKind.EVALUATOR.value:
        raise Forbidden("这里是第三方评价机构提交科技成果评价报告的页面")
    return org


@get("/evaluations", sync_to_thread=True)
def evaluation_page(request: Request, actor: Actor, session: Session, achievement: str = "") -> Template:
    with session.begin():
        org = _evaluator(session, actor)
        reports = evaluations.filed_by(session, org.id)
        titles = dict(session.execute(select(Achievement.id, Achievement.title).where(
            Achievement.id.in_({r.achievement_id for r in reports}))).all()) if reports else {}
    return render(request, "evaluations.html", organisation=org, reports=reports, titles=titles,
                  methods=[(m.value, v.LABELS_ZH[m]) for m in v.EvaluationMethod], achievement=achievement,
                  today=dt.date.today().isoformat())


@post("/evaluations", sync_to_thread=True)
def file_report(request: Request, actor: Actor, session: Session, data: dict[str, str] = Form) -> Redirect:
    def action():
        number, trl = data.get("achievement_id", "").strip(), data.get("trl_assessed", "").strip()
        if not number.isdigit() or not 1 <= int(number) < 2**31:
            raise InvalidInput.on("achievement_id", "请填写成果编号（成果页地址中的数字）")
        if not trl.isdigit():
            raise InvalidInput.on("trl_assessed", "请选择评定的技术成熟度")
        try:
            evaluated_on = dt.date.fromisoformat(data.get("evaluated_on", ""))
        except ValueError:
            raise InvalidInput.on("evaluated_on", "请填写评价日期") from None
        return evaluations.file_report(
            session, actor=actor, achievement_id=int(number), trl_assessed=int(trl),
            value_low=yuan_field(data, "value_low", "评估价值下限", "800000 或 80万"),
            value_high=yuan_field(data, "value_high", "评估价值上限", "1200000 或 120万"),
            method=data.get("method", ""), evaluated_on=evaluated_on, signatory=data.get("signatory", ""),
            conclusion=data.get("conclusion", ""))

    return acted(request, session, action, back="/web/evaluations",
                 done="评价报告已提交，成果页上已可看到；成果方已收到通知")


HANDLERS = [evaluation_page, file_report]
