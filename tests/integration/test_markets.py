"""Regional sub-markets (issue 14): a city analyst sees, reviews and analyses only its city — pending postings,
contracts and organisation details — through the API and the pages; a province analyst sees all its cities."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from matchmaker.db import transaction
from matchmaker.identity.services import create_user, set_password
from matchmaker.models import Broker, Contract, Demand, Organisation, User

DALIAN, SHENYANG, LIAONING = "210200", "210100", "210000"
PASSWORD = "market-test-2026"


@pytest.fixture
def market(api):
    """Two cities' firms, each with a pending demand and a contract, and analysts of 大连, 沈阳 and 辽宁."""
    factory = api.users.factory
    today = dt.date.today()
    with transaction(factory) as session:
        ids = {}
        for city in (DALIAN, SHENYANG):
            firm = Organisation(name=f"市场测试企业{city}", kind="enterprise", region_code=city)
            seller = Organisation(name=f"市场测试高校{city}", kind="university", region_code=city)
            session.add_all([firm, seller])
            session.flush()
            pending = Demand(title=f"待审核需求{city}", problem="需要审核的技术难题", status="pending_review",
                             organisation_id=firm.id, region_code=city)
            session.add(pending)
            session.flush()
            contract = Contract(contract_type="transfer", amount=Decimal("1000000.00"), payment_mode="lump_sum",
                                signed_on=today, buyer_id=firm.id, buyer_region_code=city, seller_id=seller.id,
                                seller_region_code=city, created_at=dt.datetime.now(dt.UTC),
                                updated_at=dt.datetime.now(dt.UTC))
            session.add(contract)
            session.flush()
            ids[city] = {"firm": firm.id, "demand": pending.id, "contract": contract.id}
        for code in (DALIAN, SHENYANG, LIAONING):
            user, token = create_user(session, role="analyst", organisation_id=api.orgs.platform, name=f"analyst{code}")
            session.execute(update(User).where(User.id == user.id).values(region_code=code))
            set_password(session, user.id, PASSWORD)
            ids[f"analyst{code}"] = {"Authorization": f"Bearer {token}"}
    return ids


def test_a_city_analyst_sees_only_its_city_through_the_api(api, market):
    dalian, shenyang, province = (market[f"analyst{c}"] for c in (DALIAN, SHENYANG, LIAONING))

    def pending_titles(headers):
        body = api.get("/demands", params={"status": "pending_review", "limit": 200}, headers=headers).json()
        return {row["title"] for row in body["items"]}

    assert f"待审核需求{DALIAN}" in pending_titles(dalian)
    assert f"待审核需求{SHENYANG}" not in pending_titles(dalian)
    assert {f"待审核需求{DALIAN}", f"待审核需求{SHENYANG}"} <= pending_titles(province)

    other_demand, other_contract, other_firm = (market[SHENYANG][k] for k in ("demand", "contract", "firm"))
    assert api.get(f"/demands/{other_demand}", headers=dalian).status_code == 404
    assert api.get(f"/demands/{other_demand}", headers=shenyang).status_code == 200
    assert api.get(f"/demands/{other_demand}", headers=province).status_code == 200
    assert api.post(f"/demands/{other_demand}/approve", json={}, headers=dalian).status_code in (403, 404)

    assert api.get(f"/contracts/{other_contract}", headers=dalian).status_code == 403   # as for any contract not yours
    assert api.get(f"/contracts/{other_contract}", headers=province).status_code == 200
    listed = {c["id"] for c in api.get("/contracts", params={"limit": 200}, headers=dalian).json()["items"]}
    assert market[DALIAN]["contract"] in listed and other_contract not in listed

    assert api.get(f"/organisations/{other_firm}", headers=dalian).status_code == 404
    assert api.get(f"/organisations/{other_firm}", headers=province).status_code == 200
    names = {o["name"] for o in api.get("/organisations", params={"limit": 200, "q": "市场测试"}, headers=dalian).json()["items"]}
    assert names == {f"市场测试企业{DALIAN}", f"市场测试高校{DALIAN}"}

    # Analytics: the city's own figures by default, another city's refused, the province's cities for the province.
    assert api.get("/analytics/turnover", params={"region": SHENYANG}, headers=dalian).status_code == 403
    mine = api.get("/analytics/turnover", params={"by": "region", "region_level": "city"}, headers=dalian).json()
    assert {row["region_code"] for row in mine["rows"]} == {DALIAN}
    cities = api.get("/analytics/turnover", params={"by": "region", "region_level": "city", "region": LIAONING},
                     headers=province).json()
    assert {DALIAN, SHENYANG} <= {row["region_code"] for row in cities["rows"]}

    # The approver of the city's own pending demand is its city's analyst.
    assert api.post(f"/demands/{other_demand}/approve", json={}, headers=shenyang).status_code == 200


def _page_login(api, name: str):
    form = api.get("/web/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)
    response = api.post("/web/login", data={"login": name, "password": PASSWORD, "_csrf_token": token},
                        follow_redirects=False)
    assert response.status_code == 303, response.text


def test_a_city_analyst_sees_only_its_city_on_the_pages(api, market):
    _page_login(api, f"analyst{DALIAN}")
    queue = api.get("/web/review", params={"library": "demands"}).text
    assert f"待审核需求{DALIAN}" in queue and f"待审核需求{SHENYANG}" not in queue
    assert "大连市" in api.get("/web/analyst").text            # the market is named on every page
    contracts = api.get("/web/contracts").text
    assert f"/web/contracts/{market[DALIAN]['contract']}" in contracts
    assert f"/web/contracts/{market[SHENYANG]['contract']}" not in contracts
    assert api.get(f"/web/contracts/{market[SHENYANG]['contract']}").status_code == 403
    assert api.get(f"/web/demands/{market[SHENYANG]['demand']}").status_code == 404

    api.cookies.clear()
    _page_login(api, f"analyst{LIAONING}")
    queue = api.get("/web/review", params={"library": "demands"}).text
    assert f"待审核需求{DALIAN}" in queue and f"待审核需求{SHENYANG}" in queue


def test_an_admin_places_an_analyst_in_a_market(api, market):
    admin = api.users.headers("admin", api.orgs.platform)
    made = api.post("/users", json={"role": "analyst", "organisation_id": api.orgs.platform, "name": "大连审核员",
                                    "region_code": DALIAN}, headers=admin)
    assert made.status_code == 201 and made.json()["user"]["region_code"] == DALIAN
    analyst = {"Authorization": f"Bearer {made.json()['token']}"}
    assert api.get(f"/demands/{market[SHENYANG]['demand']}", headers=analyst).status_code == 404
    assert api.get(f"/demands/{market[DALIAN]['demand']}", headers=analyst).status_code == 200
    firm = api.post("/users", json={"role": "firm", "organisation_id": api.orgs.firm, "name": "x", "region_code": DALIAN},
                    headers=admin)
    assert firm.status_code == 422 and firm.json()["errors"][0]["field"] == "region_code"


def test_the_funnel_and_the_league_of_a_city_count_its_own_pairs(api, market):
    from matchmaker.models import Achievement, Pipeline

    factory = api.users.factory
    with transaction(factory) as session:   # one claim in 大连, one in 沈阳, by the world's first broker
        broker = session.scalar(select(Broker.id).order_by(Broker.id))
        for city in (DALIAN, SHENYANG):
            achievement = Achievement(title=f"市场测试成果{city}", status="published", region_code=city,
                                      organisation_id=None)
            session.add(achievement)
            session.flush()
            session.add(Pipeline(demand_id=market[city]["demand"], achievement_id=achievement.id, broker_id=broker,
                                 stage="claimed", version=1, score=0.5))
    dalian, province = market[f"analyst{DALIAN}"], market[f"analyst{LIAONING}"]
    claimed = {name: next(s["count"] for s in api.get("/analytics/funnel", headers=headers).json()["steps"]
                          if s["stage"] == "claimed")
               for name, headers in (("dalian", dalian), ("province", province))}
    assert claimed["dalian"] >= 1 and claimed["province"] >= claimed["dalian"] + 1
    league = api.get("/analytics/brokers", headers=dalian).json()
    assert sum(row["claimed"] for row in league) == claimed["dalian"]


def test_an_empty_market_dashboard_says_so_instead_of_bare_axes(api, market):
    with transaction(api.users.factory) as session:
        user, _ = create_user(session, role="analyst", organisation_id=api.orgs.platform, name="analyst610100",
                              region_code="610100")   # 西安: no contracts, no claims in this world
        set_password(session, user.id, PASSWORD)
    _page_login(api, "analyst610100")
    page = api.get("/web/analyst").text
    for chart in ("chart-turnover", "chart-conversion", "chart-regions"):
        assert f'data-testid="empty-{chart}"' in page and f'id="{chart}"' not in page
    assert "还没有签订的技术合同" in page
