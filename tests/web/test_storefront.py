"""The open door in Chromium (issue 14's must-show): an anonymous visitor browses and searches the storefront,
registers an organisation (an invalid credit code first, refused clearly, then a valid one), verifies the
email from the message a real SMTP server caught, is approved by the city's reviewer, logs in and posts. And at
390 px no page scrolls sideways: storefront, search, dashboard, board and posting pages."""

from __future__ import annotations

import re

import pytest
from web_world import login, playwright_or_skip, published_achievement, site_with_mail, worker_burst

pytestmark = pytest.mark.slow
playwright_api = playwright_or_skip()
expect = playwright_api.expect

VALID_CODE = "91210200MA0Q00000G"
WRONG_CHECK = "91210200MA0Q00000A"


@pytest.fixture(scope="module")
def site(tmp_path_factory, templates):
    with site_with_mail(tmp_path_factory.mktemp("storefront"), templates) as site:
        yield site


def _context(site, **options):
    context = site["browser"].new_context(locale="zh-CN", **options)
    context.set_default_timeout(15_000)
    return context


def _mailed_path(site, address: str, path: str) -> str:
    worker_burst(site["url"], site["folder"], smtp_url=site["mail"].url, base=site["base"])
    bodies = [m.get_body(("plain",)).get_content() for m in site["mail"].to(address)]
    found = [m.group(1) for body in bodies for m in [re.search(rf"({path}\?token=[\w-]+)", body)] if m]
    assert found, bodies
    return found[-1]


def test_a_visitor_browses_registers_is_approved_and_posts(site):
    base = site["base"]
    source = published_achievement(site["url"])
    visitor = _context(site).new_page()
    errors = []
    visitor.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    visitor.goto(f"{base}/")                                       # the bare address is the storefront
    expect(visitor).to_have_url(re.compile(r"/web/?$"))
    expect(visitor.get_by_role("heading", name="科技成果转化供需对接平台")).to_be_visible()
    expect(visitor.locator("#kpi-contracts")).to_contain_text("项")
    expect(visitor.get_by_test_id("footer-market")).to_have_text("辽宁科技大市场")
    word = source.title[:4]
    visitor.get_by_label("搜索科技成果").fill(word)
    visitor.get_by_role("button", name="搜索成果").click()
    expect(visitor.locator("#result-count")).not_to_have_text("共 0 条")
    visitor.get_by_role("link", name=source.title).first.click()
    expect(visitor.get_by_role("heading", name=source.title)).to_be_visible()
    if source.confidential_detail:
        expect(visitor.get_by_text(source.confidential_detail)).to_have_count(0)   # never on a public page
    assert visitor.locator('link[rel="canonical"]').get_attribute("href").endswith(f"/web/market/achievements/{source.id}")
    assert errors == []                                             # the favicon and every asset load

    visitor.get_by_role("link", name="注册").first.click()
    visitor.get_by_label("单位全称").fill("大连海湾新材料有限公司")
    visitor.get_by_label("单位类型").select_option("enterprise")
    visitor.get_by_label("统一社会信用代码").fill(WRONG_CHECK)
    visitor.get_by_label("所在地区").select_option("210200")
    visitor.get_by_label("联系人姓名").fill("王海")
    visitor.get_by_label("电子邮箱").fill("wang.hai@haiwan.example.test")
    visitor.get_by_label("登录密码").fill("Lab-2026-secure")
    visitor.get_by_role("button", name="提交注册").click()
    expect(visitor.locator("#credit_code-error")).to_contain_text("校验位不正确")
    expect(visitor.get_by_label("统一社会信用代码")).to_have_attribute("aria-invalid", "true")
    expect(visitor.get_by_label("单位全称")).to_have_value("大连海湾新材料有限公司")
    visitor.get_by_label("统一社会信用代码").fill(VALID_CODE)
    visitor.get_by_label("登录密码").fill("Lab-2026-secure")       # a password is never sent back to the page
    visitor.get_by_role("button", name="提交注册").click()
    expect(visitor.get_by_role("heading", name="请查收验证邮件")).to_be_visible()

    visitor.goto(base + _mailed_path(site, "wang.hai@haiwan.example.test", "/web/verify-email"))
    expect(visitor.get_by_role("heading", name="邮箱已验证")).to_be_visible()

    reviewer = _context(site).new_page()
    login(reviewer, base, site["users"]["city_analyst"])
    expect(reviewer.get_by_test_id("market")).to_have_text("大连市")
    reviewer.get_by_role("link", name="注册审核").click()
    application = reviewer.locator("li", has_text="大连海湾新材料有限公司")
    expect(application).to_contain_text(VALID_CODE)
    application.get_by_role("button", name="通过").click()
    expect(reviewer.locator(".notice-success")).to_contain_text("已通过")

    firm = _context(site).new_page()
    login(firm, base, ("wang.hai@haiwan.example.test", "Lab-2026-secure"))
    expect(firm).to_have_url(re.compile(r"/web/firm$"))
    firm.get_by_role("link", name="发布需求").click()
    firm.get_by_label("需求名称").fill("海水淡化膜抗污染涂层")
    firm.get_by_label("拟解决的技术难题").fill("反渗透膜在高盐海水中易结垢污染，需要长效抗污染涂层，通量衰减控制在 10% 以内")
    firm.get_by_label("技术领域").select_option(source.field_code)
    firm.get_by_label("预算上限（元）").fill("200万")                # amounts as the pages show them, in 万元
    firm.get_by_role("button", name="保存并提交审核").click()
    expect(firm.locator(".status-pending_review").first).to_have_text("待审核")
    worker_burst(site["url"], site["folder"], smtp_url=site["mail"].url, base=base)
    assert any("已通过审核" in m.get_body(("plain",)).get_content() for m in site["mail"].to("wang.hai@haiwan.example.test"))


def _no_sideways_scroll(page, path: str) -> None:
    # Measured once the page has loaded and no request of its own is still open: no page here asks for anything
    # after its load event but a poll every second or more, so nothing can change its width later. (Playwright's
    # "networkidle" waits for half a second of silence on top: 12 s of this test's 24 pages.)
    pending: set = set()
    # Lambdas, since Playwright cannot register a builtin method such as `pending.add` as a handler.
    handlers = {"request": lambda r: pending.add(r), "requestfinished": lambda r: pending.discard(r),
                "requestfailed": lambda r: pending.discard(r)}
    for event, handler in handlers.items():
        page.on(event, handler)
    page.goto(path)
    for _ in range(750):   # 15 s at most, as the context's timeout: a request that never ends is a failure
        if not pending:
            break
        page.wait_for_timeout(20)
    assert not pending, (path, [request.url for request in pending])
    for event, handler in handlers.items():
        page.remove_listener(event, handler)
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert width[0] <= width[1], (path, width, wide)


def _first_challenge(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT min(id) FROM challenges WHERE status = 'open'"))
    engine.dispose()
    return found


def test_nothing_scrolls_sideways_at_390_px(site):
    base = site["base"]
    source = published_achievement(site["url"])
    phone = {"viewport": {"width": 390, "height": 844}}
    anonymous = _context(site, **phone).new_page()
    challenge = _first_challenge(site["url"])
    for path in ("/web/", "/web/market/achievements?q=技术", "/web/market/demands", "/web/market/challenges",
                 f"/web/market/challenges/{challenge}", f"/web/market/achievements/{source.id}", "/web/register",
                 "/web/login"):
        _no_sideways_scroll(anonymous, base + path)
    pages = {"analyst": ["/web/analyst", "/web/review", "/web/search?q=技术", "/web/contracts", "/web/simulations"],
             "broker": ["/web/pipelines", "/web/broker/queue"],
             "office": ["/web/office", f"/web/achievements/{source.id}", "/web/achievements/new"],
             "firm": ["/web/firm", "/web/demands/new", "/web/deals", "/web/inbox", "/web/challenges",
                      f"/web/challenges/{challenge}"]}
    for role, paths in pages.items():
        page = _context(site, **phone).new_page()
        login(page, base, site["users"][role])
        for path in paths:
            _no_sideways_scroll(page, base + path)
