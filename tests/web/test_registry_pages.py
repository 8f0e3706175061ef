"""The registry in Chromium (issue 15): the demo firm submits a contract with the registration form and its PDF; the
registrar returns it once (the firm reads why and corrects it), then registers it; both parties see the number on
their contract page, and the PDF's checksum."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select
from web_world import CHROMIUM, CHROMIUM_ARGS, build_world, login, playwright_or_skip, running_server

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.models import Organisation, User

pytestmark = pytest.mark.slow
playwright_api = playwright_or_skip()
expect = playwright_api.expect
PDF = b"%PDF-1.4\n% signed and sealed\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _office_name(url: str) -> str:
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        office = session.scalar(select(User).where(User.login == "demo_office"))
        name = session.get(Organisation, office.organisation_id).name
    engine.dispose()
    return name


def test_a_party_submits_the_registrar_returns_then_registers_and_both_parties_see_the_number(tmp_path_factory, templates):
    folder = tmp_path_factory.mktemp("registry-pages")
    url, users = build_world(folder, templates)
    office_name = _office_name(url)
    pdf = folder / "合同.pdf"
    pdf.write_bytes(PDF)
    with running_server(url, folder) as server, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        base = server.base_url

        def page_of(role: str, path: str = "/web/contracts"):
            context = browser.new_context(locale="zh-CN")
            context.set_default_timeout(15_000)
            page = context.new_page()
            login(page, base, users[role])
            page.goto(f"{base}{path}")
            return page

        firm = page_of("firm")
        firm.get_by_role("link", name="提交技术合同登记").click()
        firm.get_by_label("买方（技术吸纳方）").check()
        firm.get_by_label("对方单位全称").fill(office_name)
        firm.get_by_label("项目名称").fill("高效储能电池材料技术开发")
        firm.get_by_label("合同类别").select_option(label="技术开发")
        firm.get_by_label("合同细类").select_option(label="委托开发")
        firm.get_by_label("合同成交额（元）").fill("1200000")
        firm.get_by_label("核定技术交易额（元）").fill("1500000")   # more than the amount: refused, named
        firm.get_by_label("支付方式").select_option(label="分期支付")
        firm.get_by_label("技术领域").select_option(index=1)
        firm.get_by_label("签字盖章后的合同 PDF").set_input_files(str(pdf))
        firm.get_by_role("button", name="提交登记").click()
        expect(firm.locator("#certified_amount-error")).to_contain_text("超过了合同成交额")
        firm.get_by_label("核定技术交易额（元）").fill("1000000")
        firm.get_by_label("签字盖章后的合同 PDF").set_input_files(str(pdf))
        firm.get_by_role("button", name="提交登记").click()
        expect(firm.locator(".notice-success")).to_contain_text("等待登记机构登记")
        expect(firm.get_by_test_id("registration-number")).to_contain_text("待登记")
        expect(firm.locator(".checksum")).to_contain_text(hashlib.sha256(PDF).hexdigest()[:16])
        contract_path = re.search(r"/web/contracts/\d+", firm.url).group(0)

        registrar = page_of("admin", contract_path)
        registrar.get_by_label("退回补正的原因").fill("请补充合同有效期")
        registrar.get_by_role("button", name="退回补正").click()
        expect(registrar.locator(".notice-success")).to_contain_text("已退回补正")
        firm.reload()
        expect(firm.get_by_test_id("return-reason")).to_contain_text("请补充合同有效期")
        expect(firm.get_by_role("button", name="登记并生成登记号")).to_have_count(0)   # a party does not register
        firm.get_by_role("link", name="修改并重新提交").click()
        firm.get_by_label("有效期起").fill(dt.date.today().isoformat())
        firm.get_by_label("有效期止").fill((dt.date.today() + dt.timedelta(days=365)).isoformat())
        firm.get_by_role("button", name="重新提交").click()
        expect(firm.locator(".notice-success")).to_contain_text("重新提交")
        expect(firm.get_by_test_id("return-reason")).to_have_count(0)

        registrar.reload()
        registrar.get_by_role("button", name="登记并生成登记号").click()
        expect(registrar.locator(".notice-success")).to_contain_text("已登记")
        number = re.search(r"\d{16}", registrar.get_by_test_id("registration-number").inner_text()).group(0)
        assert number.startswith(f"{dt.date.today().year}2102")
        for role in ("firm", "office"):
            party = page_of(role, contract_path)
            expect(party.get_by_test_id("registration-number")).to_contain_text(number)
            expect(party.get_by_role("link", name="修改登记信息")).to_have_count(0)   # registered: closed
        browser.close()
