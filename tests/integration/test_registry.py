"""The technology-contract registry's numbers (issue 15): a registrar of the parties' region registers a contract
with the next number of its office's sequence; 1,000 registrations at once in one office give 1,000 distinct,
consecutive numbers, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from matchmaker.brokerage import registry
from matchmaker.db import transaction
from matchmaker.identity.services import actor_of, create_user
from matchmaker.models import Contract, Organisation

DALIAN, SHENYANG = "210200", "210100"


def _contracts(factory, n: int, seller_region: str = DALIAN) -> list[int]:
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as session:
        seller = Organisation(name=f"登记测试高校{seller_region}", kind="university", region_code=seller_region)
        buyer = Organisation(name=f"登记测试企业{seller_region}", kind="enterprise", region_code=seller_region)
        session.add_all([seller, buyer])
        session.flush()
        rows = [Contract(contract_type="transfer", amount=Decimal("100000.00"), payment_mode="lump_sum",
                         signed_on=dt.date.today(), buyer_id=buyer.id, buyer_region_code=seller_region,
                         seller_id=seller.id, seller_region_code=seller_region, created_at=now, updated_at=now)
                for _ in range(n)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _registrar(factory, platform: int, region: str | None):
    with transaction(factory) as session:
        user, _ = create_user(session, role="analyst", organisation_id=platform, name=f"登记员{region}",
                              region_code=region)
        return actor_of(session, user.id)


def test_a_registrar_of_the_region_registers_or_returns(api):
    factory = api.users.factory
    ids = _contracts(factory, 3)
    dalian = _registrar(factory, api.orgs.platform, DALIAN)
    shenyang = _registrar(factory, api.orgs.platform, SHENYANG)
    year = dt.date.today().year
    with transaction(factory) as session:
        first = registry.register(session, actor=dalian, contract_id=ids[0]).registration_number
        second = registry.register(session, actor=dalian, contract_id=ids[1]).registration_number
    assert (first, second) == (f"{year}{DALIAN}000001", f"{year}{DALIAN}000002")
    with transaction(factory) as session, pytest.raises(Exception, match="已经登记"):
        registry.register(session, actor=dalian, contract_id=ids[0])
    with transaction(factory) as session, pytest.raises(Exception, match="不属于您负责的地区"):
        registry.register(session, actor=shenyang, contract_id=ids[2])
    with transaction(factory) as session, pytest.raises(Exception, match="写明"):
        registry.return_for_correction(session, actor=dalian, contract_id=ids[2], reason=" ")
    with transaction(factory) as session:
        returned = registry.return_for_correction(session, actor=dalian, contract_id=ids[2], reason="缺少技术领域")
        assert returned.return_reason == "缺少技术领域" and returned.registration_number is None

    admin = api.users.headers("admin", api.orgs.platform)      # through the API: the next number, once
    answer = api.post(f"/contracts/{ids[2]}/register", headers=admin)
    assert answer.status_code == 200 and answer.json()["return_reason"] is None
    assert answer.json()["registration_number"] == f"{year}{DALIAN}000003"   # an admin registers at the seller's city
    assert api.post(f"/contracts/{ids[2]}/register", headers=admin).status_code == 409
    firm = api.users.headers("firm", api.orgs.firm)
    assert api.post(f"/contracts/{ids[2]}/return", json={"reason": "x"}, headers=firm).status_code == 403


@pytest.mark.slow
def test_a_thousand_registrations_at_once_give_a_thousand_consecutive_numbers(api):
    factory = api.users.factory
    ids = _contracts(factory, 1000, seller_region=SHENYANG)
    registrar = _registrar(factory, api.orgs.platform, SHENYANG)
    numbers, failures, lock = [], [], threading.Lock()
    queue = list(ids)
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        while True:
            with lock:
                if not queue:
                    return
                contract_id = queue.pop()
            for _attempt in range(50):   # SQLite's one writer: a busy database is waited for, not skipped
                try:
                    with transaction(factory) as session:
                        number = registry.register(session, actor=registrar, contract_id=contract_id).registration_number
                    break
                except OperationalError:
                    continue
            else:
                failures.append(contract_id)
                continue
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    year = dt.date.today().year
    assert failures == []
    assert sorted(numbers) == [f"{year}{SHENYANG}{serial:06d}" for serial in range(1, 1001)]
    with factory() as session:
        stored = session.scalars(select(Contract.registration_number).where(Contract.id.in_(ids))).all()
    assert sorted(stored) == sorted(numbers)


def test_the_registrar_registers_on_the_page_and_both_parties_see_the_number(seeded_url, tmp_path):
    import re

    from litestar.testing import TestClient

    from matchmaker.app import create_app
    from matchmaker.config import Settings
    from matchmaker.db import make_engine, make_session_factory
    from matchmaker.identity.demo import ensure_demo_users
    from matchmaker.models import User

    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as session:
        passwords = {login: password for _r, login, password, _o in ensure_demo_users(session)}
        firm, office = (session.scalar(select(User).where(User.login == login)) for login in ("demo_firm", "demo_office"))
        contract = Contract(contract_type="licence", amount=Decimal("800000.00"), payment_mode="lump_sum",
                            signed_on=dt.date.today(), buyer_id=firm.organisation_id, buyer_region_code=DALIAN,
                            seller_id=office.organisation_id, seller_region_code=DALIAN, created_at=now, updated_at=now)
        session.add(contract)
        session.flush()
        contract_id = contract.id
    app = create_app(Settings(database_url=seeded_url, index_dir=tmp_path / "index", semantic=False))

    def login(client, name):
        client.cookies.clear()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/web/login").text).group(1)
        client.post("/web/login", data={"login": name, "password": passwords[name], "_csrf_token": token})
        return re.search(r'name="_csrf_token" value="([^"]+)"', client.get(f"/web/contracts/{contract_id}").text)

    with TestClient(app) as client:
        token = login(client, "demo_firm")
        assert "待登记" in client.get(f"/web/contracts/{contract_id}").text
        assert "登记并生成登记号" not in client.get(f"/web/contracts/{contract_id}").text   # a party cannot register
        token = login(client, "demo_admin").group(1)
        empty = client.post(f"/web/contracts/{contract_id}/return", data={"reason": "", "_csrf_token": token})
        assert "notice-error" in empty.text and "写明" in empty.text
        done = client.post(f"/web/contracts/{contract_id}/register", data={"_csrf_token": token})
        number = re.search(r"登记号 (\d{16})", done.text).group(1)
        for party in ("demo_firm", "demo_office"):
            login(client, party)
            assert number in client.get(f"/web/contracts/{contract_id}").text
    engine.dispose()
