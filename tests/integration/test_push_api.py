"""Push (精准推送) over HTTP: inbox entries on publication for the matching owners only, dismissal, subscriptions."""

from __future__ import annotations

from sqlalchemy import func, select

from matchmaker import vocabulary as v
from matchmaker.models import Achievement, InboxEntry, Organisation
from matchmaker.push.services import push_published



def _demand_and_owner(api, headers, offset: int = 0) -> dict:
    return api.get("/demands", params={"status": "published", "sort": "posted_on", "limit": 1, "offset": offset},
                   headers=headers).json()["items"][0]


def _publish(api, body: dict) -> int:
    office, admin = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform)
    body = {"field": "new_materials", **body}
    body["summary"] = body.get("summary", "") + "（这是测试用的成果简介）" * (len(body.get("summary", "")) < 10)
    a_id = api.post("/achievements", json=body, headers=office).json()["id"]
    api.post(f"/achievements/{a_id}/submit", headers=office)
    assert api.post(f"/achievements/{a_id}/approve", headers=admin).status_code == 200
    return a_id


def test_publication_pushes_to_matching_owner_only_once_and_dismiss_works(api):
    analyst = api.users.headers("analyst", api.orgs.platform)
    demand = _demand_and_owner(api, analyst)
    owner = api.users.headers("firm", demand["organisation_id"])
    a_id = _publish(api, {"title": demand["title"], "summary": demand["problem"] + demand["targets"],
                          "field": demand["field"], "trl": 9, "region": demand["region"]})
    inbox = api.get("/inbox", headers=owner).json()["items"]
    entry = next(e for e in inbox if e["achievement_id"] == a_id and e["demand_id"] == demand["id"])
    assert entry["score"] >= 0.3 and entry["achievement_title"] == demand["title"]
    with api.users.factory() as session:
        pushed_to = set(session.scalars(select(InboxEntry.organisation_id).where(InboxEntry.achievement_id == a_id)))
        assert api.orgs.office not in pushed_to and demand["organisation_id"] in pushed_to
        count = session.scalar(select(func.count()).select_from(InboxEntry))
    # Publishing again (or a second worker pushing the same record) adds nothing.
    with api.users.factory() as session, session.begin():
        again = push_published(session, matching=api.app.state.matching, library=v.Library.ACHIEVEMENTS,
                               record=session.get(Achievement, a_id))
    with api.users.factory() as session:
        assert again == 0 and session.scalar(select(func.count()).select_from(InboxEntry)) == count
    stranger = api.users.headers("firm", next(o for o in range(31, 331) if o not in pushed_to))
    assert all(e["achievement_id"] != a_id for e in api.get("/inbox", headers=stranger).json()["items"])
    assert api.post(f"/inbox/{entry['id']}/dismiss", headers=stranger).status_code == 404
    dismissed = api.post(f"/inbox/{entry['id']}/dismiss", headers=owner)
    assert dismissed.status_code == 200 and dismissed.json()["dismissed_at"] is not None
    assert entry["id"] not in [e["id"] for e in api.get("/inbox", headers=owner).json()["items"]]
    everything = api.get("/inbox", params={"include_dismissed": True}, headers=owner).json()["items"]
    assert entry["id"] in [e["id"] for e in everything]
    assert api.post("/inbox/99999999/dismiss", headers=owner).status_code == 404


def test_subscriptions_are_per_user_and_trigger_on_publication(api):
    analyst = api.users.headers("analyst", api.orgs.platform)
    demand = _demand_and_owner(api, analyst, offset=3)
    firm = api.users.headers("firm", demand["organisation_id"])
    other = api.users.headers("firm", demand["organisation_id"])  # same organisation, another user
    created = api.post("/subscriptions", json={"library": "achievements", "field": "salt_lake_chemicals",
                                               "region": "210000", "keywords": "卤水提锂，吸附剂"}, headers=firm)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert [s["id"] for s in api.get("/subscriptions", headers=firm).json()] == [sub["id"]]
    hidden = api.get(f"/subscriptions/{sub['id']}", headers=other)
    assert hidden.status_code == 404 and hidden.json()["detail"].startswith("找不到这条订阅")
    assert api.patch(f"/subscriptions/{sub['id']}", json={"keywords": "x"}, headers=other).status_code == 404
    assert api.post("/subscriptions", json={"library": "patents"}, headers=firm).status_code == 400
    bad = api.post("/subscriptions", json={"library": "demands", "field": "alchemy"}, headers=firm)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "field"
    assert bad.json()["errors"][0]["reason"] == "技术领域代码“alchemy”不存在，请从平台的技术领域中选择。"
    patched = api.patch(f"/subscriptions/{sub['id']}", json={"keywords": "卤水提锂 吸附剂 膜分离"}, headers=firm)
    assert patched.status_code == 200 and patched.json()["field"] == "salt_lake_chemicals"
    unrelated = _publish(api, {"title": "盐湖卤水综合利用", "field": "salt_lake_chemicals", "region": "210200"})
    a_id = _publish(api, {"title": "高选择性吸附剂卤水提锂技术", "summary": "铝系吸附剂", "field": "salt_lake_chemicals",
                          "trl": 6, "region": "210200"})
    notices = api.get("/notices", headers=firm).json()["items"]
    hit = [n for n in notices if n["record_id"] == a_id]
    assert len(hit) == 1 and hit[0]["subscription_id"] == sub["id"] and hit[0]["library"] == "achievements"
    assert hit[0]["title"] == "高选择性吸附剂卤水提锂技术"
    assert all(n["record_id"] != unrelated for n in notices)  # no keyword in it
    assert api.get("/notices", headers=other).json()["items"] == []  # notices are the subscriber's
    assert api.post(f"/notices/{hit[0]['id']}/dismiss", headers=other).status_code == 404
    assert api.post(f"/notices/{hit[0]['id']}/dismiss", headers=firm).json()["dismissed_at"] is not None
    assert api.get("/notices", headers=firm).json()["total"] == len(notices) - 1
    assert api.delete(f"/subscriptions/{sub['id']}", headers=other).status_code == 404
    assert api.delete(f"/subscriptions/{sub['id']}", headers=firm).status_code == 204
    assert api.get("/subscriptions", headers=firm).json() == []
    # What was pushed stays readable after unsubscribing.
    kept = api.get("/notices", params={"include_dismissed": True}, headers=firm).json()["items"]
    assert [n["subscription_id"] for n in kept if n["record_id"] == a_id] == [None]


def test_a_broker_without_postings_is_told_of_new_demands_it_subscribed_to(api):
    analyst, admin = api.users.headers("analyst", api.orgs.platform), api.users.headers("admin", api.orgs.platform)
    firm = api.users.headers("firm", _demand_and_owner(api, analyst, offset=5)["organisation_id"])
    with api.users.factory() as session:
        agency = session.scalar(select(Organisation.id).where(Organisation.kind == "agency").order_by(Organisation.id))
    broker = api.users.headers("broker", agency)
    sub = api.post("/subscriptions", json={"library": "demands", "keywords": "钠离子电池"}, headers=broker).json()
    before = api.get("/notices", headers=broker).json()["total"]
    d_id = api.post("/demands", json={"title": "钠离子电池正极材料量产工艺", "problem": "循环寿命不足，量产一致性差",
                                                 "field": "new_energy"},
                    headers=firm).json()["id"]
    api.post(f"/demands/{d_id}/submit", headers=firm)
    assert api.post(f"/demands/{d_id}/approve", headers=admin).status_code == 200
    notices = api.get("/notices", headers=broker).json()
    assert notices["total"] == before + 1
    assert (notices["items"][0]["record_id"], notices["items"][0]["subscription_id"]) == (d_id, sub["id"])
