"""科技成果评价 (issue 16): the evaluation centre's expert files a report on a published achievement — the assessed
TRL, the value range, the method, the date, the signatory — which shows on the achievement's pages (public and
signed-in) and tells its office; nobody else may file one, and a report's figures are checked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from page_client import log_in, token
from sqlalchemy import select

from matchmaker.db import transaction
from matchmaker.models import Achievement, EvaluationReport, Notice, Organisation, User

pytestmark = pytest.mark.trading
TODAY = dt.date.today()
REPORT = {"trl_assessed": 6, "value_low": "800000.00", "value_high": "1200000.00", "method": "income",
          "evaluated_on": TODAY.isoformat(), "signatory": "钱思远",
          "conclusion": "中试验证完成，关键指标达到国内先进水平；按收益法评估，许可使用的合理价值区间如上。"}


def _evaluator(api) -> int:
    with api.users.engine.connect() as conn:
        return conn.scalar(select(Organisation.id).where(Organisation.kind == "evaluator"))


def _published(api, organisation_id: int) -> int:
    with api.users.engine.connect() as conn:
        return conn.scalar(select(Achievement.id).where(Achievement.organisation_id == organisation_id,
                                                        Achievement.status == "published").order_by(Achievement.id))


def test_an_evaluator_files_a_report_and_the_achievement_shows_it(api):
    achievement = _published(api, api.orgs.office)
    evaluator = api.users.headers("expert", _evaluator(api), name="评价中心专家")
    office = api.users.headers("office", api.orgs.office, name="成果方")
    filed = api.post(f"/achievements/{achievement}/evaluations", headers=evaluator, json=REPORT)
    assert filed.status_code == 201, filed.text
    assert filed.json()["trl_assessed"] == 6 and filed.json()["method"] == "income"

    # Only an evaluation centre's expert files; a panel expert elsewhere, the office itself or a firm may not.
    for caller in (api.users.headers("expert", api.orgs.agency), office, api.users.headers("firm", api.orgs.firm)):
        refused = api.post(f"/achievements/{achievement}/evaluations", headers=caller, json=REPORT)
        assert refused.status_code == 403, refused.text
    for bad, field in (({"value_high": "700000.00"}, "value_high"),
                       ({"evaluated_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "evaluated_on"),
                       ({"method": "guess"}, "method"), ({"trl_assessed": 10}, "trl_assessed")):
        answer = api.post(f"/achievements/{achievement}/evaluations", headers=evaluator, json={**REPORT, **bad})
        assert answer.status_code in (400, 422) and field in answer.text, (bad, answer.text)

    firm = api.users.headers("firm", api.orgs.firm)
    listed = api.get(f"/achievements/{achievement}/evaluations", headers=firm).json()
    assert [(r["trl_assessed"], r["value_low"], r["value_high"]) for r in listed] == [(6, "800000.00", "1200000.00")]
    public = api.get(f"/web/market/achievements/{achievement}")
    assert "科技成果评价" in public.text and "收益法" in public.text and "钱思远" in public.text
    with api.users.engine.connect() as conn:
        told = conn.scalar(select(Notice.title).join(User, User.id == Notice.user_id)
                           .where(User.organisation_id == api.orgs.office, Notice.event.like("evaluation:%")))
    assert told is not None and "科技成果评价报告" in told


def test_the_evaluation_page(pages):
    log_in(pages, "demo_evaluator")
    page = pages.get("/web/evaluations")
    assert page.status_code == 200 and "提交评价报告" in page.text and "科技成果评价" in page.text
    with transaction(pages.factory) as session:
        office = session.scalar(select(User).where(User.login == "demo_office")).organisation_id
        achievement = session.scalar(select(Achievement.id).where(Achievement.organisation_id == office,
                                                                  Achievement.status == "published"))
    filed = pages.post("/web/evaluations", data={
        "achievement_id": str(achievement), "trl_assessed": "7", "value_low": "50万", "value_high": "90万",
        "method": "market", "evaluated_on": TODAY.isoformat(), "signatory": "钱思远",
        "conclusion": "同类技术近两年三笔许可交易的价格区间为 45 万至 95 万元，据此采用市场法评估。",
        "_csrf_token": token(pages, "/web/evaluations")}, follow_redirects=True)
    assert "评价报告已提交" in filed.text, re.findall(r"未完成[^<]*", filed.text)
    with transaction(pages.factory) as session:
        report = session.scalar(select(EvaluationReport).where(EvaluationReport.achievement_id == achievement))
        assert (report.trl_assessed, f"{report.value_low:.2f}", report.method) == (7, "500000.00", "market")
    log_in(pages, "demo_office")
    own = pages.get(f"/web/achievements/{achievement}").text
    assert "科技成果评价" in own and "市场法" in own
    assert pages.get("/web/evaluations").status_code == 403
