"""The deal thread in Chromium (issue 13): a firm marks interest on its demand's match list, the office gets the
email (captured by a real SMTP server) and accepts in the page at phone width, both see the thread, the broker
sees the interest first in the queue, and a reload keeps every verdict."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from web_world import login, playwright_or_skip, site_with_mail, worker_burst

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.models import Achievement, Demand, IndexChange, User


pytestmark = pytest.mark.slow
playwright_api = playwright_or_skip()
expect = playwright_api.expect


def _pair(url: str) -> tuple[int, int, str]:
    """A published demand of the demo firm and, published by the demo office, an achievement that answers it."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        firm = session.scalar(select(User).where(User.login == "demo_firm"))
        office = session.scalar(select(User).where(User.login == "demo_office"))
        demand = Demand(title="锂电池极片高精度激光清洗工艺", problem="锂电池极片涂布后表面残留需要高精度激光清洗，避免损伤集流体",
                        status="published", organisation_id=firm.organisation_id, region_code="210200",
                        posted_on=__import__("datetime").date.today())
        achievement = Achievement(title="锂电池极片高精度激光清洗设备", summary="面向锂电池极片的高精度激光清洗工艺与设备，不损伤集流体",
                                  status="published", organisation_id=office.organisation_id, region_code="210200",
                                  trl=7, confidential_detail="脉宽 80ns", posted_on=demand.posted_on)
        session.add_all([demand, achievement])
        session.flush()
        session.add_all([IndexChange(library="demands", record_id=demand.id),
                         IndexChange(library="achievements", record_id=achievement.id)])
        ids = demand.id, achievement.id, achievement.title
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory, templates):
    with site_with_mail(tmp_path_factory.mktemp("deal-pages"), templates) as site:
        yield site


def _page(site, role: str, **context_options):
    context = site["browser"].new_context(locale="zh-CN", **context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, site["base"], site["users"][role])
    return page


def _worker_burst(site) -> None:
    worker_burst(site["url"], site["folder"], smtp_url=site["mail"].url, base=site["base"])


def test_interest_email_acceptance_and_one_thread_for_both(site):
    base = site["base"]
    demand_id, achievement_id, title = _pair(site["url"])

    firm = _page(site, "firm")
    firm.goto(f"{base}/web/demands/{demand_id}")
    match = firm.locator(f"li.match#match-{achievement_id}")
    expect(match.locator(".match-title")).to_have_text(title)
    match.get_by_role("button", name="感兴趣").click()
    expect(match.locator(".feedback.done")).to_contain_text("已通知对方")
    other = firm.locator("li.match").filter(has_not=firm.locator(f"#match-{achievement_id}")).nth(1)
    other.get_by_role("button", name="不相关").click()           # no reason chosen: the browser asks, nothing is lost
    expect(other.get_by_label("不相关的原因")).to_be_visible()
    other.get_by_label("不相关的原因").select_option("field_mismatch")
    other.get_by_role("button", name="不相关").click()
    expect(other.locator(".feedback.done")).to_contain_text("不相关")
    other_id = other.get_attribute("id")
    firm.reload()                                                  # every verdict survives a reload
    expect(firm.locator(f"#match-{achievement_id} .feedback.done")).to_contain_text("感兴趣")
    expect(firm.locator(f"#{other_id} .feedback.done")).to_contain_text("不相关")

    broker = _page(site, "broker")
    broker.goto(f"{base}/web/broker/queue")
    expect(broker.get_by_test_id("interest-first")).to_contain_text(title)

    _worker_burst(site)
    mail = next(m for m in site["mail"].to("demo_office@matchmaker.test") if "希望就" in m["Subject"])
    text = mail.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(base)}(/web/deals/\d+/\d+)", text).group(1)
    assert link == f"/web/deals/{demand_id}/{achievement_id}"

    office = _page(site, "office", viewport={"width": 390, "height": 844})   # at phone width
    office.goto(f"{base}{link}")
    expect(office.get_by_role("heading", name="对方希望与您对接")).to_be_visible()
    office.get_by_role("button", name="谢绝").click()              # a decline without a reason is asked for one
    expect(office.locator(".field-error")).to_contain_text("请写明原因")
    office.get_by_label(re.compile("答复")).fill("欢迎来校交流")
    office.get_by_role("button", name="接受对接").click()
    expect(office.locator(".notice-success")).to_contain_text("已接受")
    expect(office.get_by_test_id("deal-thread")).to_contain_text("接受了对接意向：欢迎来校交流")
    assert office.evaluate("document.documentElement.scrollWidth") <= 390

    firm.goto(f"{base}/web/deals")
    firm.get_by_role("link", name=re.compile(title)).click()
    expect(firm.get_by_test_id("deal-status")).to_contain_text("双方已对接")
    expect(firm.get_by_test_id("deal-thread")).to_contain_text("表达了对接意向")
    firm.get_by_role("button", name="我已阅读并签署保密承诺").click()
    expect(firm.get_by_test_id("deal-thread")).to_contain_text("签署了保密承诺")
    firm.goto(f"{base}/web/achievements/{achievement_id}")
    expect(firm.get_by_text("脉宽 80ns")).to_be_visible()            # the detail opened with the undertaking
    firm.goto(f"{base}/web/deals/{demand_id}/{achievement_id}")
    firm.get_by_role("textbox", name="留言", exact=True).fill("下周二上午方便来校面谈吗？")
    firm.get_by_role("button", name="发送").click()
    office.reload()
    expect(office.get_by_test_id("deal-thread")).to_contain_text("下周二上午方便来校面谈吗？")
    firm.goto(f"{base}/web/demands/{demand_id}")               # the demand's own page names the deal
    expect(firm.get_by_test_id("posting-deals")).to_contain_text("双方已对接")
    firm.goto(f"{base}/web/pipelines/999999")
    expect(firm.get_by_role("alert")).to_have_text("没有找到这个对接项目")   # a page, not JSON
    office.goto(f"{base}/web/inbox")
    expect(office.get_by_test_id("inbox")).to_contain_text("对接记录有新留言")
    for page in (firm, broker, office):
        page.context.close()
