"""Posting quality gates (issue 14), through the pages: enough content before review, closing dates in the
future, amounts in 万元, every problem in one answer, likely duplicates flagged, withdraw / solved / renew on
the page, an error never in a success box, and the review queue's order kept after a decision."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from page_client import log_in as _login
from page_client import token as _token
from sqlalchemy import select

from matchmaker.models import Demand
from matchmaker.seeds import fields

FUTURE = (dt.date.today() + dt.timedelta(days=60)).isoformat()
FIELD = min(field.code for field in fields())


def _post(client, path: str, form: dict, *, page: str = "/web/firm", follow: bool = False):
    return client.post(path, data={**form, "_csrf_token": _token(client, page)}, follow_redirects=follow)


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="(\w+)-error" role="alert">([^<]+)</p>', html))


def test_every_problem_at_once_and_content_before_review(pages):
    _login(pages, "demo_firm")
    only_title = _post(pages, "/web/demands/new", {"title": "只有标题的需求", "action": "submit"})
    assert only_title.status_code == 422
    errors = _errors(only_title.text)
    assert "拟解决的技术难题" in errors["problem"] and "技术领域" in errors["field"]
    with pages.factory() as session:
        assert session.scalar(select(Demand.id).where(Demand.title == "只有标题的需求")) is None   # nothing saved

    several = _post(pages, "/web/demands/new", {"title": "多处错误的需求", "budget_min": "三十万", "budget_max": "100",
                                                "deadline": "2020-01-01", "bounty": "5万", "action": "save"})
    errors = _errors(several.text)
    assert set(errors) >= {"budget_min", "deadline", "bounty"}, errors      # one answer, all of them
    assert "已经过去" in errors["deadline"] and "只有揭榜挂帅项目" in errors["bounty"]

    made = _post(pages, "/web/demands/new", {"title": "盐湖提锂吸附剂寿命提升", "field": FIELD, "deadline": FUTURE,
                                             "problem": "现有铝系吸附剂循环 300 次后容量衰减超过 30%，需要延长寿命的改性方案",
                                             "budget_min": "50万", "budget_max": "1,200,000", "action": "submit"})
    assert made.status_code == 303
    with pages.factory() as session:
        demand = session.scalar(select(Demand).where(Demand.title == "盐湖提锂吸附剂寿命提升"))
        assert (demand.budget_min, demand.budget_max, demand.status) == (Decimal("500000.00"), Decimal("1200000.00"),
                                                                         "pending_review")


def test_the_api_refuses_a_past_closing_date_and_a_bare_submission(api):
    headers = api.users.headers("firm", api.orgs.firm)
    past = api.post("/demands", json={"title": "过期需求", "deadline": "2020-01-01"}, headers=headers)
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "deadline"
    bare = api.post("/demands", json={"title": "只有标题"}, headers=headers).json()
    refused = api.post(f"/demands/{bare['id']}/submit", headers=headers)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"problem", "field"}


def test_duplicates_withdraw_solve_renew_and_the_red_box(pages):
    _login(pages, "demo_firm")
    text = "高炉煤气余热回收效率低，需要新型换热器把排烟温度降到 120 度以下并且连续运行一年"
    ids = []
    for title in ("高炉煤气余热回收换热器", "高炉煤气余热回收换热器（二期）"):
        response = _post(pages, "/web/demands/new", {"title": title, "problem": text, "field": FIELD,
                                                      "deadline": FUTURE, "action": "submit"})
        ids.append(int(response.headers["location"].rsplit("/", 1)[1]))
    page = pages.get(f"/web/demands/{ids[1]}").text
    assert 'data-testid="likely-duplicate"' in page and "高炉煤气余热回收换热器" in page

    _login(pages, "demo_analyst")
    queue = pages.get("/web/review", params={"library": "demands", "order": "newest"}).text
    assert 'data-testid="likely-duplicate"' in queue
    decided = _post(pages, f"/web/review/demands/{ids[0]}/approve", {"order": "newest", "page": "1"}, page="/web/review")
    assert decided.headers["location"].startswith("/web/review?library=demands&order=newest&page=1")
    refused = _post(pages, f"/web/review/demands/{ids[1]}/reject", {"order": "newest", "page": "1", "note": ""},
                    page="/web/review", follow=True)
    assert re.search(r'notice-error[^>]*>未完成', refused.text) and "notice-success" not in refused.text

    _login(pages, "demo_firm")
    page = pages.get(f"/web/demands/{ids[0]}").text
    for button in ("已解决", "续期", "撤回"):
        assert f">{button}</button>" in page
    past = _post(pages, f"/web/demands/{ids[0]}/renew", {"until": "2020-01-01"}, follow=True)
    assert re.search(r'notice-error[^>]*>未完成：[^<]*已经过去', past.text) and "notice-success" not in past.text
    later = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    renewed = _post(pages, f"/web/demands/{ids[0]}/renew", {"until": later}, follow=True)
    assert f"已续期至 {later}" in renewed.text
    assert "已解决" in _post(pages, f"/web/demands/{ids[0]}/close", {}, follow=True).text
    assert "已撤回" in _post(pages, f"/web/demands/{ids[1]}/withdraw", {}, follow=True).text
    with pages.factory() as session:
        statuses = [session.get(Demand, i).status for i in ids]
        assert statuses == ["solved", "withdrawn"]
        assert session.get(Demand, ids[0]).deadline.isoformat() == later


def test_people_see_names_not_login_names(pages):
    _login(pages, "demo_firm")
    home = pages.get("/web/firm").text
    assert "王海燕" in home and "demo_firm" not in home     # the login name is typed, never shown
    _login(pages, "demo_analyst")
    assert "demo_broker" not in pages.get("/web/analyst").text   # the broker league names people too
