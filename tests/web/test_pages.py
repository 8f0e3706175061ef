"""The pages end to end in headless Chromium against a real server: every role's main path, form errors, login, CSRF."""

from __future__ import annotations

import re

import pytest
from web_world import CHROMIUM, CHROMIUM_ARGS, build_world, login, playwright_or_skip, published_achievement, running_server

pytestmark = pytest.mark.slow


playwright_api = playwright_or_skip()
expect = playwright_api.expect


@pytest.fixture(scope="module")
def site(tmp_path_factory, templates):
    folder = tmp_path_factory.mktemp("pages")
    url, users = build_world(folder, templates)
    with running_server(url, folder) as server, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield {"base": server.base_url, "users": users, "browser": browser, "url": url}
        browser.close()


def _page(site, role: str):
    context = site["browser"].new_context(locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, site["base"], site["users"][role])
    return page


def _kpis(page) -> dict[str, str]:
    return {name: page.locator(f"#kpi-{name}").inner_text() for name in ("contracts", "turnover", "local")}


def test_login_failure_and_logout(site):
    context = site["browser"].new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{site['base']}/web/office")
    expect(page).to_have_url(re.compile(r"/web/login\?next="))  # pages need a login
    page.get_by_label("用户名或用户编号").fill("demo_office")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#login-problem")).to_have_text("用户名或密码不正确")
    expect(page.get_by_label("用户名或用户编号")).to_have_value("demo_office")
    page.get_by_label("密码").fill(site["users"]["office"][1])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/web/office$"))  # back where the person wanted to go
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/web/login$"))
    page.goto(f"{site['base']}/web/office")
    expect(page).to_have_url(re.compile(r"/web/login"))
    context.close()


def test_form_post_without_csrf_token_is_refused(site):
    page = _page(site, "firm")
    response = page.request.post(f"{site['base']}/web/demands/new", form={"title": "没有校验码的需求"})
    assert response.status == 403
    assert "安全校验码" in response.text()
    page.goto(f"{site['base']}/web/firm")
    expect(page.get_by_text("没有校验码的需求")).to_have_count(0)
    page.context.close()


def test_deal_from_demand_to_contract_moves_the_figures(site):
    base = site["base"]
    source = published_achievement(site["url"])

    analyst = _page(site, "analyst")
    analyst.goto(f"{base}/web/analyst")
    before = _kpis(analyst)

    # A firm posts a demand; a bad budget is refused next to the field and what was typed stays.
    firm = _page(site, "firm")
    firm.goto(f"{base}/web/demands/new")
    firm.get_by_label("需求名称").fill(f"寻求{source.title}")
    firm.get_by_label("拟解决的技术难题").fill(f"{source.summary[:200]} 关键词：{source.keywords}")
    firm.get_by_label("技术领域").select_option(source.field_code)
    firm.get_by_label("预算下限（元）").fill("三十万")
    firm.get_by_label("预算上限（元）").fill("5000000")
    firm.get_by_role("button", name="保存并提交审核").click()
    expect(firm.locator("#budget_min-error")).to_contain_text("请填写数字金额")
    expect(firm.get_by_label("预算下限（元）")).to_have_value("三十万")
    expect(firm.get_by_label("预算下限（元）")).to_have_attribute("aria-invalid", "true")
    expect(firm.get_by_label("需求名称")).to_have_value(f"寻求{source.title}")
    firm.get_by_label("预算下限（元）").fill("300000")
    firm.get_by_role("button", name="保存并提交审核").click()
    expect(firm.locator(".status-pending_review").first).to_have_text("待审核")
    demand_id = int(re.search(r"/web/demands/(\d+)$", firm.url).group(1))

    # The analyst reviews it (analysts and admins review postings).
    analyst.goto(f"{base}/web/review?library=demands&order=newest")
    item = analyst.locator(f"#demands-{demand_id}")
    # Sent back first: the firm reads why on its demand and resubmits; the reviewer sees the earlier note.
    item.get_by_label("退回意见").fill("请写明需要的技术成熟度")
    item.get_by_role("button", name="退回修改").click()
    expect(analyst.locator(".notice-success")).to_contain_text("已退回")
    firm.goto(f"{base}/web/demands/{demand_id}")
    expect(firm.get_by_test_id("review-note")).to_contain_text("请写明需要的技术成熟度")
    firm.get_by_role("button", name="提交审核").click()
    analyst.goto(f"{base}/web/review?library=demands&order=newest")
    expect(item).to_contain_text("上次退回意见：请写明需要的技术成熟度")
    item.get_by_role("button", name=re.compile("通过")).click()
    expect(analyst.locator(".notice-success")).to_contain_text("已通过审核")

    # The firm sees matches with their explanation and flags interest.
    firm.goto(f"{base}/web/demands/{demand_id}")
    expect(firm.locator(".status-published").first).to_have_text("已发布")
    first = firm.locator("li.match").first
    expect(first.locator(".match-title")).to_have_text(source.title)
    first.locator("details.explanation summary").click()
    expect(first.locator("ul.terms li").first).to_be_visible()
    expect(first.locator("ul.factors")).to_contain_text("技术领域")
    expect(first.locator("ul.factors")).to_contain_text("技术成熟度")
    expect(first.locator(".tier")).to_be_visible()
    first.get_by_role("button", name="感兴趣").click()
    expect(first.locator(".feedback.done")).to_contain_text("感兴趣")

    # A broker claims it from the queue and moves it to signed through the contract form.
    broker = _page(site, "broker")
    broker.goto(f"{base}/web/broker/queue")
    group = broker.locator(f"section:has(#demand-{demand_id})")
    group.get_by_role("button", name=re.compile("认领")).first.click()
    expect(broker.locator(".notice-success")).to_contain_text("已认领")
    card = broker.locator("article.deal").filter(has_text=f"寻求{source.title}")
    card.get_by_role("button", name="推进到“已联系”").click()
    card.get_by_role("button", name="推进到“洽谈中”").click()
    expect(broker.locator("section.column-negotiating")).to_contain_text(f"寻求{source.title}")
    _price_noticed(site["url"], source.id, demand_id)   # the university's 协议定价公示, published and ended
    card.get_by_role("link", name="签约并登记合同").click()
    broker.get_by_label("合同类型").select_option("transfer")
    broker.get_by_label("合同成交额（元）").fill("1200000")
    broker.get_by_label("核定技术交易额（元）").fill("1500000")  # above the amount: refused next to the field
    broker.get_by_role("button", name="签约并登记").click()
    expect(broker.locator("#certified_amount-error")).to_have_text(re.compile("不能超过合同成交额"))
    expect(broker.get_by_label("合同成交额（元）")).to_have_value("1200000")
    broker.get_by_label("核定技术交易额（元）").fill("1000000")
    broker.get_by_role("button", name="签约并登记").click()
    expect(broker.locator("dd.figure")).to_have_text("120.00 万元")
    broker.goto(f"{base}/web/contracts")
    expect(broker.locator("table.list")).to_contain_text("120.00 万元")

    # The analyst's turnover and local-conversion figures move.
    analyst.goto(f"{base}/web/analyst")
    after = _kpis(analyst)
    assert int(after["contracts"]) == int(before["contracts"]) + 1
    assert after["turnover"] != before["turnover"] and after["local"] != before["local"], (before, after)
    expect(analyst.locator("#chart-turnover")).to_be_visible()
    for context_page in (analyst, firm, broker):
        context_page.context.close()


def test_a_broker_subscribes_and_is_told_of_a_new_demand(site):
    base = site["base"]
    broker = _page(site, "broker")
    broker.goto(f"{base}/web/subscriptions")
    broker.get_by_label("订阅范围").select_option("")
    broker.get_by_role("button", name="订阅", exact=True).click()
    expect(broker.locator("#library-error")).to_contain_text("请选择")
    broker.get_by_label("订阅范围").select_option("demands")
    broker.get_by_label(re.compile("^关键词")).fill("双极板 质子交换膜")
    broker.get_by_role("button", name="订阅", exact=True).click()
    expect(broker.locator(".notice-success")).to_contain_text("已订阅")
    expect(broker.locator("ul.subscriptions")).to_contain_text("双极板 质子交换膜")

    firm = _page(site, "firm")
    firm.goto(f"{base}/web/demands/new")
    firm.get_by_label("需求名称").fill("氢燃料电池金属双极板涂层")
    firm.get_by_label("拟解决的技术难题").fill("不锈钢双极板在酸性环境下腐蚀，接触电阻升高")
    firm.get_by_label("技术领域").select_option("new_energy")    # a field is needed before review (issue 14)
    firm.get_by_role("button", name="保存并提交审核").click()
    demand_id = int(re.search(r"/web/demands/(\d+)$", firm.url).group(1))
    analyst = _page(site, "analyst")
    analyst.goto(f"{base}/web/review?library=demands&order=newest")
    analyst.locator(f"#demands-{demand_id}").get_by_role("button", name=re.compile("通过")).click()
    expect(analyst.locator(".notice-success")).to_contain_text("已通过审核")

    broker.goto(f"{base}/web/subscriptions")
    notice = broker.locator("article.notice-item").filter(has_text="氢燃料电池金属双极板涂层")
    expect(notice).to_have_count(1)
    notice.get_by_role("button", name="不再显示").click()
    expect(broker.locator("article.notice-item").filter(has_text="氢燃料电池金属双极板涂层")).to_have_count(0)
    for page in (broker, firm, analyst):
        page.context.close()


def _price_noticed(url: str, achievement_id: int, demand_id: int) -> None:
    """The office's price notice for this buyer, published three weeks ago (a negotiated transfer of a university's
    achievement is signed only after one has ended)."""
    import datetime as dt

    from sqlalchemy import select

    from matchmaker.db import make_engine, make_session_factory, transaction
    from matchmaker.models import Achievement, Demand
    from matchmaker.trading.price_notices import record_notice

    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        buyer = session.scalar(select(Demand.organisation_id).where(Demand.id == demand_id))
        record_notice(session, session.get(Achievement, achievement_id), buyer_id=buyer, price=1200000,
                      starts_on=dt.date.today() - dt.timedelta(days=21))
    engine.dispose()
