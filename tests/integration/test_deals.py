"""One deal shared by the people in it (issue 13): interest → answer → undertaking → thread, who may see it, and
the notices each step leaves in the right people's inbox."""

from __future__ import annotations

from live_server import noticed
from sqlalchemy import select

from matchmaker.models import Demand


def _firm_demand(api) -> dict:
    with api.users.factory() as session:
        demand = session.scalars(select(Demand).where(Demand.organisation_id == api.orgs.firm,
                                                      Demand.status == "published").order_by(Demand.id)).first()
        return {"id": demand.id, "title": demand.title, "problem": demand.problem, "field": demand.field_code,
                "region": demand.region_code}


def publish_achievement(api, office: dict, body: dict) -> int:
    admin = api.users.headers("admin", api.orgs.platform)
    achievement_id = api.post("/achievements", json=body, headers=office).json()["id"]
    assert api.post(f"/achievements/{achievement_id}/submit", headers=office).status_code == 200
    assert api.post(f"/achievements/{achievement_id}/approve", headers=admin).status_code == 200
    return achievement_id


def deal_world(api) -> dict:
    """A firm's published demand and an office's new achievement with confidential detail, and their people."""
    demand = _firm_demand(api)
    office = api.users.headers("office", api.orgs.office, name="成果办-张老师")
    firm = api.users.headers("firm", api.orgs.firm, name="企业-李经理")
    achievement_id = publish_achievement(api, office, {
        "title": "锂电池极片激光清洗设备", "summary": "高精度激光清洗锂电池极片表面涂层残留", "field": demand["field"],
        "trl": 7, "region": demand["region"], "confidential_detail": "核心工艺参数：脉宽 80ns，功率 200W"})
    return {"demand": demand, "achievement_id": achievement_id, "office": office, "firm": firm,
            "pair": f"/deals/{demand['id']}/{achievement_id}"}


def test_interest_answer_undertaking_and_thread_for_the_parties_only(api):
    w = deal_world(api)
    demand_id, achievement_id, office, firm = w["demand"]["id"], w["achievement_id"], w["office"], w["firm"]
    stranger = api.users.headers("firm", api.orgs.other_firm)
    analyst = api.users.headers("analyst", api.orgs.platform)

    body = {"demand_id": demand_id, "achievement_id": achievement_id, "message": "希望下周约谈"}
    first = api.post("/introductions", json=body, headers={**firm, "Idempotency-Key": "i-1"})
    again = api.post("/introductions", json=body, headers={**firm, "Idempotency-Key": "i-1"})
    assert first.status_code == 201 and again.json() == first.json() and first.json()["status"] == "pending"
    introduction_id = first.json()["id"]

    # The office hears of it in its one inbox, with a link to the deal.
    notices = api.get("/me/notices", headers=office).json()["items"]
    assert {n["kind"] for n in notices} == {"interest_received", "review_outcome"}   # and its publication
    told = [n for n in notices if n["kind"] == "interest_received"]
    assert "锂电池极片激光清洗设备" in told[0]["title"] and told[0]["link"] == f"/web{w['pair']}"
    assert "希望下周约谈" in told[0]["body"]

    # Nobody outside the deal sees the thread, not even an analyst; nor can they answer or write in it.
    for outsider in (stranger, analyst):
        assert api.get(w["pair"], headers=outsider).status_code == 404
        assert api.post(f"{w['pair']}/messages", json={"body": "你好"}, headers=outsider).status_code == 404
        assert api.get(f"/introductions/{introduction_id}", headers=outsider).status_code == 404
    assert api.post(f"/introductions/{introduction_id}/answer", json={"accept": True},
                    headers=stranger).status_code == 404
    # The requester cannot answer its own request; a decline needs a reason; messages wait for an answer.
    assert api.post(f"/introductions/{introduction_id}/answer", json={"accept": True}, headers=firm).status_code == 403
    assert api.post(f"/introductions/{introduction_id}/answer", json={"accept": False},
                    headers=office).status_code == 422
    assert api.post(f"{w['pair']}/messages", json={"body": "你好"}, headers=firm).status_code == 409

    # Confidential detail stays closed until the introduction is accepted and the firm gives its undertaking.
    assert api.get(f"/achievements/{achievement_id}", headers=firm).json()["confidential_detail"] is None
    assert api.post(f"/introductions/{introduction_id}/undertaking", headers=firm).status_code == 409
    accepted = api.post(f"/introductions/{introduction_id}/answer", json={"accept": True, "note": "欢迎"}, headers=office)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert api.get(f"/achievements/{achievement_id}", headers=firm).json()["confidential_detail"] is None
    undertaking = api.post(f"/introductions/{introduction_id}/undertaking", headers=firm)
    assert undertaking.status_code == 201 and "保密" in undertaking.json()["wording"]
    assert api.get(f"/achievements/{achievement_id}", headers=firm).json()["confidential_detail"].startswith("核心工艺")
    assert api.get(f"/achievements/{achievement_id}", headers=stranger).json()["confidential_detail"] is None
    answered = api.get("/me/notices", headers=firm).json()["items"]
    assert any(n["kind"] == "introduction_answered" and "已接受" in n["title"] for n in answered)

    meeting = api.post(f"{w['pair']}/messages", headers=firm, json={
        "body": "请贵方技术负责人参加", "meeting_at": "2030-03-02T10:00:00+08:00", "meeting_place": "大连高新区"})
    assert meeting.status_code == 201
    thread = api.get(w["pair"], headers=office).json()
    assert [e["kind"] for e in thread["entries"]] == ["interest", "answer", "undertaking", "meeting"]
    assert {c["name"] for c in thread["contacts"]} == {"成果办-张老师", "企业-李经理"}
    assert api.get(w["pair"], headers=firm).json()["entries"] == thread["entries"]
    assert any(n["kind"] == "deal_message" and "约见" in n["title"]
               for n in api.get("/me/notices", headers=office).json()["items"])


def test_interest_from_both_sides_accepts_and_a_broker_joins_the_thread_by_claiming(api):
    w = deal_world(api)
    demand_id, achievement_id = w["demand"]["id"], w["achievement_id"]
    body = {"demand_id": demand_id, "achievement_id": achievement_id}
    assert api.post("/introductions", json=body, headers=w["office"]).json()["status"] == "pending"
    assert api.post("/introductions", json=body, headers=w["firm"]).json()["status"] == "accepted"
    broker = api.users.headers("broker", api.orgs.agency)
    assert api.get(w["pair"], headers=broker).status_code == 404
    claimed = api.post("/pipelines", json=body, headers=broker)
    assert claimed.status_code == 201
    thread = api.get(w["pair"], headers=broker).json()
    assert thread["pipeline_id"] == claimed.json()["id"] and thread["stage"] == "claimed" and thread["broker"]
    assert "stage" in [e["kind"] for e in thread["entries"]]
    stage_notices = [n for n in api.get("/me/notices", headers=w["firm"]).json()["items"] if n["kind"] == "deal_stage"]
    assert stage_notices and "认领" in stage_notices[0]["title"]


def test_notices_are_read_and_preferences_kept_per_person(api):
    w = deal_world(api)
    api.post("/introductions", json={"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"]},
             headers=w["firm"])
    items = api.get("/me/notices", params={"unread_only": True}, headers=w["office"]).json()["items"]
    assert api.get("/me", headers=w["office"]).json()["unread_notices"] == len(items) >= 1
    assert api.post(f"/me/notices/{items[0]['id']}/read", headers=w["firm"]).status_code == 404
    assert api.post(f"/me/notices/{items[0]['id']}/read", headers=w["office"]).json()["read_at"] is not None
    prefs = api.put("/me/notice-preferences", json={"deal_message": "daily", "strong_match": "off"}, headers=w["firm"])
    assert prefs.status_code == 200 and prefs.json()["deal_message"] == "daily" and prefs.json()["deal_stage"] == "immediate"
    assert api.put("/me/notice-preferences", json={"deal_message": "weekly"}, headers=w["firm"]).status_code == 400
    assert api.patch("/me", json={"email": "not-an-address"}, headers=w["firm"]).status_code == 400
    assert api.patch("/me", json={"email": "li@firm.test"}, headers=w["firm"]).json()["email"] == "li@firm.test"


def test_the_funnel_counts_direct_introductions_beside_brokered_deals(api):
    analyst = api.users.headers("analyst", api.orgs.platform)
    before = api.get("/analytics/funnel", headers=analyst).json()["introductions"]
    w = deal_world(api)
    pair = {"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"]}
    introduction = api.post("/introductions", json=pair, headers=w["firm"]).json()["id"]
    after_interest = api.get("/analytics/funnel", headers=analyst).json()["introductions"]
    assert after_interest["interest"] == before["interest"] + 1 and after_interest["accepted"] == before["accepted"]
    api.post(f"/introductions/{introduction}/answer", json={"accept": True}, headers=w["office"])
    broker = api.users.headers("broker", api.orgs.agency)
    pipeline = api.post("/pipelines", json=pair, headers=broker).json()
    for stage in ("contacted", "negotiating"):
        moved = api.post(f"/pipelines/{pipeline['id']}/moves", json={"to_stage": stage}, headers=broker)
        assert moved.status_code == 201, moved.text
    noticed(api.users.engine, pipeline["id"])   # the office's 协议定价公示, ended
    signed = api.post(f"/pipelines/{pipeline['id']}/contract", headers=broker, json={
        "contract_type": "licence", "licence_scope": "ordinary", "amount": "500000", "payment_mode": "lump_sum",
        "signed_on": "2026-11-30", "seller_region": "110108", "note": "首付款30%"})
    assert signed.status_code == 201, signed.text
    assert signed.json()["seller_region_code"] == "110108"                  # corrected at signing
    assert signed.json()["buyer_region_code"] == w["demand"]["region"]      # the demand's own region
    now = api.get("/analytics/funnel", headers=analyst).json()["introductions"]
    assert (now["interest"], now["accepted"], now["contract"], now["brokered"]) == (
        before["interest"] + 1, before["accepted"] + 1, before["contract"] + 1, before["brokered"] + 1)
    thread = api.get(f"/deals/{pair['demand_id']}/{pair['achievement_id']}", headers=w["firm"]).json()
    assert thread["contract_id"] == signed.json()["id"]
    assert any("首付款30%" in e["text"] for e in thread["entries"])   # the signing note is kept in the thread


def test_owners_are_reminded_once_before_a_posting_closes(api):
    import datetime as dt

    from matchmaker.catalog.reminders import remind_expiring

    demand = _firm_demand(api)
    firm = api.users.headers("firm", api.orgs.firm, name="企业-到期提醒")
    today = dt.date.today()
    with api.users.factory() as session, session.begin():
        session.get(Demand, demand["id"]).deadline = today + dt.timedelta(days=3)
    with api.users.factory() as session, session.begin():
        first = remind_expiring(session, today=today)
    with api.users.factory() as session, session.begin():
        again = remind_expiring(session, today=today + dt.timedelta(days=1))
    assert first >= 1 and again == 0                    # one reminder per posting and date
    told = [n for n in api.get("/me/notices", headers=firm).json()["items"] if n["kind"] == "posting_expiring"]
    assert len([n for n in told if demand["title"][:40] in n["title"]]) == 1
    assert "到期" in told[0]["title"] and told[0]["link"].endswith("/edit")
