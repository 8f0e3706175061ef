"""Rules a hand-made mutation once changed without any test noticing (issue #12): each now has a test that fails
when the rule is broken. The mutation each test kills is named in its docstring."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from matchmaker.matching.service import matching_service
from matchmaker.models import Achievement, Demand, SubscriptionNotice
from tests.integration.test_brokerage_api import World, claim, contract_terms, negotiating, world  # noqa: F401

TODAY = dt.date.today()
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)   # the rules live in Python


def _published_achievement(api, office_org: int) -> dict:
    office = api.users.headers("office", office_org)
    return api.get("/achievements", params={"organisation_id": office_org, "status": "published"},
                   headers=office).json()["items"][0]


def test_an_office_of_another_organisation_never_sees_confidential_detail(api):
    """catalog/access.py sees_confidential: `organisation_id ==` turned into `!=` or dropped."""
    mine = _published_achievement(api, api.orgs.office)
    with api.users.engine.begin() as conn:
        conn.execute(update(Achievement).where(Achievement.id == mine["id"]).values(confidential_detail="配方：保密"))
    own = api.get(f"/achievements/{mine['id']}", headers=api.users.headers("office", api.orgs.office)).json()
    other = api.get(f"/achievements/{mine['id']}", headers=api.users.headers("office", api.orgs.other_office)).json()
    firm = api.get(f"/achievements/{mine['id']}", headers=api.users.headers("firm", api.orgs.firm)).json()
    assert own["confidential_detail"] == "配方：保密"
    assert other.get("confidential_detail") is None and firm.get("confidential_detail") is None


def test_one_idempotency_key_with_the_same_body_on_another_path_is_not_a_replay(api):
    """api/idempotency.py: the request's path left out of the fingerprint, so a demand came back as an achievement."""
    admin = {**api.users.headers("admin", api.orgs.platform), "Idempotency-Key": "same-key-1"}
    body = {"title": "同一个标题", "organisation_id": api.orgs.office}
    first = api.post("/achievements", json=body, headers=admin)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = api.post("/achievements", json=body, headers=admin)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = api.post("/demands", json=body, headers=admin)   # the very same body, another path: not a replay
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert "idempotent-replayed" not in other.headers
    same_body = api.post("/subscriptions", json={"library": "achievements"}, headers=admin)
    assert same_body.status_code == 422   # the key is the user's: one request, whichever path


def test_a_fully_certified_contract_may_be_signed(api, world):  # noqa: F811
    """brokerage/schemas.py: certified_amount `>` amount turned into `>=`."""
    broker = api.users.headers("broker", world.agency_ids[0])
    pipeline = negotiating(api, broker, world.pairs[1])
    signed = api.post(f"/pipelines/{pipeline['id']}/contract",
                      json=contract_terms(amount="500000.00", certified_amount="500000.00"), headers=broker)
    assert signed.status_code == 201, signed.text
    over = negotiating(api, broker, world.pairs[2])
    refused = api.post(f"/pipelines/{over['id']}/contract",
                       json=contract_terms(amount="500000.00", certified_amount="500000.01"), headers=broker)
    assert refused.status_code in (400, 422) and refused.json()["errors"][0]["field"] == "certified_amount"


@pytest.mark.parametrize("params", [{"trl_min": 0}, {"trl_max": 10}, {"trl_min": 10}, {"trl_max": 0}])
def test_trl_filters_outside_one_to_nine_are_refused(api, params):
    """The list endpoints' TRL bounds (1..9) loosened: a TRL of 0 or 10 is not a level."""
    firm = api.users.headers("firm", api.orgs.firm)
    for path in ("/achievements", "/demands"):
        response = api.get(path, params=params, headers=firm)
        assert response.status_code == 400, (path, params, response.text)
        assert response.json()["errors"][0]["field"].startswith("trl")


def test_a_posting_is_open_on_its_last_day_and_expired_the_day_after(api):
    """catalog/expiry.py expire_overdue and matching/records.py: `<` today turned into `<=`."""
    office = api.users.headers("office", api.orgs.office)
    firm = api.users.headers("firm", api.orgs.firm)
    mine = _published_achievement(api, api.orgs.office)
    other = api.get("/achievements", params={"organisation_id": api.orgs.office, "status": "published",
                                             "offset": 1, "limit": 1}, headers=office).json()["items"][0]
    with api.users.engine.begin() as conn:
        conn.execute(update(Achievement).where(Achievement.id == mine["id"]).values(expires_on=TODAY))
        conn.execute(update(Achievement).where(Achievement.id == other["id"])
                     .values(expires_on=TODAY - dt.timedelta(days=1)))
    assert api.get(f"/achievements/{mine['id']}", headers=firm).json()["status"] == "published"
    assert api.get(f"/achievements/{other['id']}", headers=firm).json()["status"] == "expired"
    demand = api.get("/demands", params={"organisation_id": api.orgs.firm, "status": "published"},
                     headers=firm).json()["items"][0]
    with api.users.engine.begin() as conn:
        conn.execute(update(Demand).where(Demand.id == demand["id"]).values(deadline=TODAY))
    assert api.get(f"/demands/{demand['id']}", headers=firm).json()["status"] == "published"
    service = matching_service(api.app.state)
    service.rebuild()   # from what the database says is open today
    assert demand["id"] in service.matcher.demands and mine["id"] in service.matcher.achievements   # last day: open
    assert other["id"] not in service.matcher.achievements


def _match_ids(api, demand_id: int, headers, _title: str = "") -> set[int]:
    return {m["id"] for m in api.get(f"/demands/{demand_id}/matches", params={"k": 100},
                                     headers=headers).json()["items"]}


def test_a_city_subscription_is_not_told_of_another_city_of_the_province(api):
    """push/services.py: a city (xxxx00) compared on its province's two digits."""
    analyst = api.users.headers("analyst", api.orgs.platform)
    office, admin = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform)
    dalian = api.post("/subscriptions", json={"library": "achievements", "region": "210200"}, headers=analyst).json()
    liaoning = api.post("/subscriptions", json={"library": "achievements", "region": "210000"},
                        headers=analyst).json()
    posted = api.post("/achievements", json={"title": "沈阳的一项成果", "summary": "数控机床主轴热误差补偿",
                                             "field": "high_end_equipment", "region": "210100"}, headers=office).json()
    api.post(f"/achievements/{posted['id']}/submit", headers=office)
    assert api.post(f"/achievements/{posted['id']}/approve", headers=admin).status_code == 200
    with api.users.engine.connect() as conn:
        told = set(conn.scalars(select(SubscriptionNotice.subscription_id)
                                .where(SubscriptionNotice.record_id == posted["id"])))
    assert liaoning["id"] in told and dalian["id"] not in told


@pytest.mark.parametrize("close", ["transfer", "solve", "expire"])
def test_a_transferred_solved_or_expired_record_leaves_the_live_matches(api, close):
    """matching/records.py and the live index: only withdrawal was tested, so other endings could stay matchable."""
    office, firm = api.users.headers("office", api.orgs.office), api.users.headers("firm", api.orgs.firm)
    admin = api.users.headers("admin", api.orgs.platform)
    demand = api.get("/demands", params={"organisation_id": api.orgs.firm, "status": "published"},
                     headers=firm).json()["items"][0]
    answer = api.post("/achievements", json={"title": demand["title"], "summary": demand["problem"],
                                             "field": demand["field"]}, headers=office).json()
    api.post(f"/achievements/{answer['id']}/submit", headers=office)
    api.post(f"/achievements/{answer['id']}/approve", headers=admin)
    assert answer["id"] in _match_ids(api, demand["id"], firm, "")
    if close == "transfer":
        assert api.post(f"/achievements/{answer['id']}/transfer", headers=office).status_code == 200
        assert answer["id"] not in _match_ids(api, demand["id"], firm, "")
    elif close == "solve":
        assert api.post(f"/demands/{demand['id']}/solve", headers=firm).status_code == 200
        reverse = api.get(f"/achievements/{answer['id']}/matches", params={"k": 100}, headers=office).json()
        assert demand["id"] not in {m["id"] for m in reverse["items"]}
    else:
        with api.users.engine.begin() as conn:
            conn.execute(update(Achievement).where(Achievement.id == answer["id"])
                         .values(expires_on=TODAY - dt.timedelta(days=1)))
        assert answer["id"] not in _match_ids(api, demand["id"], firm, "")
