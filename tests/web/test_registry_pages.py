"""The registry in Chromium (issue 15): a contract between the demo firm and office waits as 待登记; the registrar
returns it once (the parties read why), then registers it; both parties see the number on their contract page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from web_world import CHROMIUM, CHROMIUM_ARGS, build_world, login, playwright_or_skip, running_server

from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.models import Contract, User

pytestmark = pytest.mark.slow
playwright_api = playwright_or_skip()
expect = playwright_api.expect


def _contract(url: str) -> int:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with transaction(make_session_factory(engine)) as session:
        firm, office = (session.scalar(select(User).where(User.login == name)) for name in ("demo_firm", "demo_office"))
        contract = Contract(contract_type="licence", amount=Decimal("800000.00"), payment_mode="lump_sum",
                            signed_on=dt.date.today(), buyer_id=firm.organisation_id, buyer_region_code="210200",
                            seller_id=office.organisation_id, seller_region_code="210200", created_at=now,
                            updated_at=now)
        session.add(contract)
        session.flush()
        contract_id = contract.id
    engine.dispose()
    return contract_id


def test_the_registrar_returns_then_registers_and_both_parties_see_the_number(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry-pages")
    url, users = build_world(folder)
    contract_id = _contract(url)
    with running_server(url, folder) as server, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        base = server.base_url

        def page_of(role: str):
            context = browser.new_context(locale="zh-CN")
            context.set_default_timeout(15_000)
            page = context.new_page()
            login(page, base, users[role])
            page.goto(f"{base}/web/contracts/{contract_id}")
            return page

        registrar = page_of("admin")
        expect(registrar.get_by_test_id("registration-number")).to_contain_text("待登记")
        registrar.get_by_label("退回补正的原因").fill("请补充技术领域和知识产权类型")
        registrar.get_by_role("button", name="退回补正").click()
        expect(registrar.locator(".notice-success")).to_contain_text("已退回补正")
        firm = page_of("firm")
        expect(firm.get_by_test_id("return-reason")).to_contain_text("请补充技术领域")
        expect(firm.get_by_role("button", name="登记并生成登记号")).to_have_count(0)   # a party does not register

        registrar.get_by_role("button", name="登记并生成登记号").click()
        expect(registrar.locator(".notice-success")).to_contain_text("已登记")
        number = re.search(r"\d{16}", registrar.get_by_test_id("registration-number").inner_text()).group(0)
        assert number.startswith(f"{dt.date.today().year}2102")
        for role in ("firm", "office"):
            party = page_of(role)
            expect(party.get_by_test_id("registration-number")).to_contain_text(number)
            expect(party.get_by_test_id("return-reason")).to_have_count(0)
        browser.close()
