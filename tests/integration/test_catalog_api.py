"""The libraries over HTTP: CRUD, review workflow, role rules, lists, import, expiry and reference data."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import func, select

from matchmaker.models import Achievement, Demand, IndexChange, Organisation



def _count(api, model, **where) -> int:
    with api.users.factory() as session:
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return session.scalar(statement)


def _problem_fields(response) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


NEW_ACHIEVEMENT = {"title": "高镍三元正极材料低成本制备技术", "summary": "一种高镍三元正极材料的共沉淀制备工艺",
                   "confidential_detail": "烧结温度曲线与掺杂配比", "keywords": "锂电池 正极", "field": "new_energy",
                   "trl": 5, "region": "210200", "transfer_modes": ["licence"], "asking_price": "800000.00"}


def test_review_workflow_from_draft_to_published_and_withdrawn(api):
    office, admin = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform)
    firm, broker, analyst = (api.users.headers("firm", api.orgs.firm), api.users.headers("broker", api.orgs.agency),
                             api.users.headers("analyst", api.orgs.platform))
    created = api.post("/achievements", json=NEW_ACHIEVEMENT, headers=office)
    assert created.status_code == 201, created.text
    body = created.json()
    a_id = body["id"]
    assert body["status"] == "draft" and body["organisation_id"] == api.orgs.office and body["posted_on"] is None
    # A draft exists only for its owner and admins.
    assert api.get(f"/achievements/{a_id}", headers=firm).status_code == 404
    assert api.get(f"/achievements/{a_id}", headers=api.users.headers("office", api.orgs.other_office)).status_code == 404
    assert api.get(f"/achievements/{a_id}", headers=admin).status_code == 200
    patched = api.patch(f"/achievements/{a_id}", json={"trl": 6, "team": "材料学院"}, headers=office)
    assert patched.status_code == 200 and patched.json()["trl"] == 6 and patched.json()["title"] == NEW_ACHIEVEMENT["title"]
    assert api.post(f"/achievements/{a_id}/approve", headers=admin).status_code == 409  # still a draft
    assert api.post(f"/achievements/{a_id}/submit", headers=office).json()["status"] == "pending_review"
    assert api.post(f"/achievements/{a_id}/approve", headers=office).status_code == 403
    rejected = api.post(f"/achievements/{a_id}/reject", json={"note": "补充专利号"}, headers=admin)
    assert rejected.json()["status"] == "draft" and rejected.json()["review_note"] == "补充专利号"
    assert api.post(f"/achievements/{a_id}/reject", json={"note": "x"}, headers=admin).status_code == 409
    # The note is kept for the owner (and shown to the reviewer again on resubmission), not for others.
    assert api.get(f"/achievements/{a_id}", headers=office).json()["review_note"] == "补充专利号"
    api.post(f"/achievements/{a_id}/submit", headers=office)
    assert api.get(f"/achievements/{a_id}", headers=analyst).json()["review_note"] == "补充专利号"
    changes_before = _count(api, IndexChange, library="achievements", record_id=a_id)
    approved = api.post(f"/achievements/{a_id}/approve", headers=admin)
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    assert approved.json()["review_note"] is None and api.get(f"/achievements/{a_id}", headers=firm).json()["review_note"] is None
    assert approved.json()["posted_on"] == dt.date.today().isoformat()
    assert _count(api, IndexChange, library="achievements", record_id=a_id) == changes_before + 1
    # Published: everyone reads it, the confidential detail only the owner, admins, and brokers with a deal on it.
    assert api.get(f"/achievements/{a_id}", headers=firm).json()["confidential_detail"] is None
    assert api.get(f"/achievements/{a_id}", headers=analyst).json()["confidential_detail"] is None
    assert api.get(f"/achievements/{a_id}", headers=broker).json()["confidential_detail"] is None   # no deal yet
    assert api.get(f"/achievements/{a_id}", headers=office).json()["confidential_detail"] == "烧结温度曲线与掺杂配比"
    listed = api.get("/achievements", params={"q": "高镍三元正极材料低成本"}, headers=firm).json()
    assert [i["id"] for i in listed["items"]] == [a_id] and listed["items"][0]["confidential_detail"] is None
    assert api.post(f"/achievements/{a_id}/submit", headers=office).status_code == 409
    assert api.post(f"/achievements/{a_id}/withdraw", headers=office).json()["status"] == "withdrawn"
    assert api.patch(f"/achievements/{a_id}", json={"trl": 7}, headers=office).status_code == 409
    assert api.post(f"/achievements/{a_id}/transfer", headers=office).status_code == 409
    assert api.get("/achievements/99999999", headers=admin).status_code == 404


def test_demand_rules_and_errors_are_problem_details(api):
    firm, admin = api.users.headers("firm", api.orgs.firm), api.users.headers("admin", api.orgs.platform)
    bad_enum = api.post("/demands", json={"title": "x", "cooperation_modes": ["barter"]}, headers=firm)
    assert bad_enum.status_code == 400 and any("cooperation_modes" in f for f in _problem_fields(bad_enum))
    bad_type = api.post("/demands", json={"title": "x", "min_trl": "high"}, headers=firm)
    assert bad_type.status_code == 400 and any("min_trl" in f for f in _problem_fields(bad_type))
    budget = api.post("/demands", json={"title": "x", "budget_min": "500", "budget_max": "100"}, headers=firm)
    assert budget.status_code == 422 and _problem_fields(budget) == ["budget_min"]
    assert budget.json()["errors"][0]["reason"].startswith("预算下限 500 元高于预算上限 100 元")
    bounty = api.post("/demands", json={"title": "x", "bounty": "100"}, headers=firm)
    assert bounty.status_code == 422 and _problem_fields(bounty) == ["bounty"]
    unknown_field = api.post("/demands", json={"title": "x", "field": "alchemy"}, headers=firm)
    assert unknown_field.status_code == 422 and _problem_fields(unknown_field) == ["field"]
    assert unknown_field.json()["detail"] == "技术领域代码“alchemy”不存在，请从平台的技术领域中选择。"
    created = api.post("/demands", json={"title": "矿井运输机器人", "problem": "井下巷道自动运输，坡度大、空间窄", "field": "high_end_equipment",
                                         "budget_min": "100000", "budget_max": "300000", "deadline": "2099-01-01"},
                       headers=firm)
    assert created.status_code == 201, created.text
    d_id = created.json()["id"]
    # A PATCH is checked against the stored record: raising budget_min above the stored budget_max is a 422.
    assert _problem_fields(api.patch(f"/demands/{d_id}", json={"budget_min": "400000"}, headers=firm)) == ["budget_min"]
    assert api.post(f"/demands/{d_id}/solve", headers=firm).status_code == 409  # not published yet
    api.post(f"/demands/{d_id}/submit", headers=firm)
    assert api.post(f"/demands/{d_id}/approve", headers=admin).json()["status"] == "published"
    assert api.post(f"/demands/{d_id}/solve", headers=firm).json()["status"] == "solved"
    closed = api.patch(f"/demands/{d_id}", json={"title": "改"}, headers=firm)
    assert closed.status_code == 409 and closed.json()["detail"].startswith("这条技术需求的状态是“已解决”，不能再修改")
    assert api.get("/demands", params={"limit": 500}, headers=firm).status_code == 400
    assert api.get("/demands", params={"status": "lost"}, headers=firm).status_code == 400
    assert _problem_fields(api.get("/demands", params={"sort": "colour"}, headers=firm)) == ["sort"]
    missing = api.get("/demands/99999999", headers=firm)
    assert missing.status_code == 404 and missing.json()["detail"].startswith("找不到这条技术需求")


def test_each_role_rule_refuses_and_changes_nothing(api):
    office, other_office = api.users.headers("office", api.orgs.office), api.users.headers("office", api.orgs.other_office)
    firm, other_firm = api.users.headers("firm", api.orgs.firm), api.users.headers("firm", api.orgs.other_firm)
    analyst, broker = api.users.headers("analyst", api.orgs.platform), api.users.headers("broker", api.orgs.agency)
    mine = api.get("/achievements", params={"organisation_id": api.orgs.office, "status": "published"}, headers=office).json()["items"][0]
    their_demand = api.get("/demands", params={"organisation_id": api.orgs.firm, "status": "published"}, headers=firm).json()["items"][0]
    achievements, demands = _count(api, Achievement), _count(api, Demand)

    def refused(response, status=403):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        detail = response.json()["detail"]   # said to a person: in Chinese, without English words or ids
        assert re.search(r"[\u4e00-\u9fff]", detail) and not re.search(r"[a-z]{3,}|\d", detail), detail

    refused(api.patch(f"/achievements/{mine['id']}", json={"title": "改"}, headers=other_office))
    refused(api.post(f"/achievements/{mine['id']}/withdraw", headers=other_office))
    refused(api.patch(f"/achievements/{mine['id']}", json={"title": "改"}, headers=firm))
    refused(api.post(f"/demands/{their_demand['id']}/withdraw", headers=other_firm))
    refused(api.patch(f"/demands/{their_demand['id']}", json={"title": "改"}, headers=office))
    refused(api.post("/achievements", json={"title": "x"}, headers=firm))
    refused(api.post("/achievements", json={"title": "x"}, headers=analyst))
    refused(api.post("/achievements", json={"title": "x"}, headers=broker))
    refused(api.post("/achievements", json={"title": "x", "organisation_id": api.orgs.other_office}, headers=office))
    refused(api.post("/demands", json={"title": "x"}, headers=office))
    refused(api.post("/organisations", json={"name": "新机构", "kind": "agency"}, headers=office))
    refused(api.post("/achievements/import", content=b'{"title": "x"}\n', params={"format": "jsonl"}, headers=firm))
    draft = api.post("/achievements", json={"title": "草稿"}, headers=office).json()
    achievements += 1
    refused(api.post(f"/achievements/{draft['id']}/submit", headers=other_office), 404)  # a draft is private
    refused(api.post(f"/achievements/{draft['id']}/approve", headers=office))  # owners do not review
    assert api.get(f"/achievements/{mine['id']}", headers=office).json()["title"] == mine["title"]
    assert api.get(f"/demands/{their_demand['id']}", headers=firm).json()["title"] == their_demand["title"]
    assert api.get(f"/achievements/{draft['id']}", headers=office).json()["status"] == "draft"
    assert (_count(api, Achievement), _count(api, Demand)) == (achievements, demands)


def test_lists_filter_sort_page_and_search(api):
    firm, office = api.users.headers("firm", api.orgs.firm), api.users.headers("office", api.orgs.office)
    everything = api.get("/achievements", params={"limit": 1}, headers=firm).json()
    liaoning = api.get("/achievements", params={"region": "210000", "limit": 200}, headers=firm).json()
    assert 0 < liaoning["total"] < everything["total"] and all(i["region"].startswith("21") for i in liaoning["items"])
    dalian = api.get("/achievements", params={"region": "210200", "limit": 200}, headers=firm).json()
    assert dalian["total"] <= liaoning["total"] and all(i["region"].startswith("2102") for i in dalian["items"])
    trl = api.get("/achievements", params={"trl_min": 4, "trl_max": 5, "sort": "trl", "limit": 200}, headers=firm).json()
    values = [i["trl"] for i in trl["items"]]
    assert values == sorted(values) and set(values) <= {4, 5}
    assert api.get("/achievements", params={"trl_min": 6, "trl_max": 4}, headers=firm).status_code == 422
    by_price = [i["asking_price"] for i in api.get("/achievements", params={"sort": "-price", "limit": 50}, headers=firm).json()["items"]]
    numbers = [float(p) for p in by_price if p is not None]
    assert numbers == sorted(numbers, reverse=True)
    published = api.get("/achievements", params={"status": "published", "field": "new_energy", "limit": 7}, headers=firm).json()
    assert len(published["items"]) == 7 and all(i["status"] == "published" and i["field"] == "new_energy" for i in published["items"])
    page2 = api.get("/achievements", params={"status": "published", "field": "new_energy", "limit": 7, "offset": 7}, headers=firm).json()
    assert page2["total"] == published["total"] and not {i["id"] for i in page2["items"]} & {i["id"] for i in published["items"]}
    # Drafts and pending postings: their owner sees them, a firm does not.
    assert api.get("/achievements", params={"status": "pending_review"}, headers=firm).json()["total"] == 0
    own_pending = api.get("/achievements", params={"status": "pending_review", "organisation_id": api.orgs.office}, headers=office).json()
    assert all(i["organisation_id"] == api.orgs.office for i in own_pending["items"])
    word = published["items"][0]["title"][:4]
    found = api.get("/achievements", params={"q": word, "limit": 200}, headers=firm).json()["items"]
    assert found and all(word in i["title"] + i["summary"] + i["keywords"] for i in found)
    assert api.get("/demands", params={"sort": "-updated_at", "region": "21"}, headers=firm).status_code == 400


def test_import_is_all_or_nothing_with_lines_and_fields(api):
    admin, office = api.users.headers("admin", api.orgs.platform), api.users.headers("office", api.orgs.office)
    before = _count(api, Achievement)
    lines = [json.dumps({"title": "成果一", "field": "new_energy", "trl": 4}, ensure_ascii=False),
             json.dumps({"title": "成果二", "trl": 12}, ensure_ascii=False),
             json.dumps({"title": "成果三", "region": "999999"}, ensure_ascii=False)]
    rejected = api.post("/achievements/import", content="\n".join(lines).encode(), params={"format": "jsonl"}, headers=admin)
    assert rejected.status_code == 422, rejected.text
    errors = rejected.json()["errors"]
    assert [(e["field"], e["reason"].split("：")[0]) for e in errors] == [("trl", "第 2 行"), ("region", "第 3 行")]
    assert [e["reason"].split("：", 1)[1] for e in errors] == [
        "应为 1 到 9 之间的整数，现为 12",
        "地区代码“999999”不存在，请填写有效的 6 位行政区划代码（GB/T 2260），例如辽宁省 210000、大连市 210200"]
    assert rejected.json()["detail"].startswith("文件中有 2 处问题，没有导入任何数据")
    assert _count(api, Achievement) == before
    good = "\n".join([lines[0], json.dumps({"title": "成果二", "trl": 3, "status": "draft"}, ensure_ascii=False)])
    imported = api.post("/achievements/import", content=good.encode(), headers={**admin, "content-type": "application/x-ndjson"})
    assert imported.status_code == 201 and imported.json() == {"imported": 2, "published": 1}
    # An office imports its own postings, which go to review; a published row is refused.
    csv_body = "title,trl,status\n办公室成果,5,\n已发布成果,5,published\n".encode()
    refused = api.post("/achievements/import", content=csv_body, headers={**office, "content-type": "text/csv"})
    assert refused.status_code == 422 and [(e["field"], e["reason"]) for e in refused.json()["errors"]] == [
        ("status", "第 3 行：导入的信息要经审核才公开，状态不能是 published（已发布）；"
                   "请留空，或填 draft（草稿）或 pending_review（待审核）")]
    with api.users.engine.connect() as conn:
        elsewhere = conn.scalar(select(Organisation.external_id).where(Organisation.id == api.orgs.other_office))
    others = f"title,organisation,posted_on\n别家的成果,{elsewhere},2024-01-01\n".encode()
    refused = api.post("/achievements/import", content=others, headers={**office, "content-type": "text/csv"})
    assert [(e["field"], e["reason"].split("：")[0]) for e in refused.json()["errors"]] == [
        ("organisation", "第 2 行"), ("posted_on", "第 2 行")]
    assert f"只能导入本单位的信息，所属单位编号“{elsewhere}”不是本单位" in refused.json()["errors"][0]["reason"]
    assert "发布日期由平台在审核通过时填写" in refused.json()["errors"][1]["reason"]
    empty = api.post("/achievements/import", content="title,trl\n".encode(), headers={**office, "content-type": "text/csv"})
    assert empty.status_code == 422 and [(e["field"], e["reason"]) for e in empty.json()["errors"]] == [
        ("$", "整个文件：文件中没有任何数据行，请在表头下面每行填一条记录后再上传")]
    ok = api.post("/achievements/import", content="title,trl\n办公室成果,5\n".encode(), headers={**office, "content-type": "text/csv"})
    assert ok.status_code == 201 and ok.json()["published"] == 0
    mine = api.get("/achievements", params={"q": "办公室成果"}, headers=office).json()["items"]
    assert [(i["status"], i["organisation_id"]) for i in mine] == [("pending_review", api.orgs.office)]
    assert api.post("/achievements/import", content=b"x", headers=admin).status_code == 400  # format unknown
    assert _count(api, Achievement) == before + 3


def test_expiry_reference_data_and_organisations(api):
    office, admin, firm = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform), api.users.headers("firm", api.orgs.firm)
    # Nothing published is past its date once anything has been read.
    api.get("/achievements", params={"limit": 1}, headers=firm)
    today = dt.date.today()
    with api.users.factory() as session:
        overdue = session.scalar(select(func.count()).select_from(Achievement).where(
            Achievement.status == "published", Achievement.expires_on < today))
    assert overdue == 0
    record = api.get("/achievements", params={"organisation_id": api.orgs.office, "status": "published"}, headers=office).json()["items"][0]
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    patched = api.patch(f"/achievements/{record['id']}", json={"expires_on": yesterday, "posted_on": None}, headers=office)
    assert patched.status_code == 400  # posted_on follows review; it is not a field of an update
    # A closing date in the past is refused when set (issue 14); one that passes while published expires it.
    past = api.patch(f"/achievements/{record['id']}", json={"expires_on": yesterday}, headers=office)
    assert past.status_code == 422 and _problem_fields(past) == ["expires_on"]
    with api.users.factory() as session, session.begin():
        session.get(Achievement, record["id"]).expires_on = today - dt.timedelta(days=1)
    assert api.get(f"/achievements/{record['id']}", headers=firm).json()["status"] == "expired"
    draft = api.post("/achievements", json={"title": "将要过期的草稿", "summary": "一项成果的简介，足够提交审核。",
                                            "field": "new_materials", "expires_on": today.isoformat()}, headers=office).json()
    api.post(f"/achievements/{draft['id']}/submit", headers=office)
    with api.users.factory() as session, session.begin():   # it waited in the queue past its date
        session.get(Achievement, draft["id"]).expires_on = today - dt.timedelta(days=1)
    late = api.post(f"/achievements/{draft['id']}/approve", headers=admin)
    assert late.status_code == 422 and _problem_fields(late) == ["expires_on"]

    provinces = api.get("/regions", headers=firm).json()
    assert any(r["code"] == "210000" for r in provinces) and all(r["level"] == "province" for r in provinces)
    cities = api.get("/regions", params={"parent": "210000"}, headers=firm).json()
    assert any(r["code"] == "210200" for r in cities) and all(r["parent_code"] == "210000" for r in cities)
    assert any(f["code"] == "new_energy" for f in api.get("/fields", headers=firm).json())
    created = api.post("/organisations", json={"name": "大连技术转移中心", "kind": "agency", "region": "210200"}, headers=admin)
    assert created.status_code == 201
    assert api.get(f"/organisations/{created.json()['id']}", headers=firm).json()["name"] == "大连技术转移中心"
    firms = api.get("/organisations", params={"kind": "enterprise", "limit": 5}, headers=firm).json()
    assert firms["total"] == 300 and len(firms["items"]) == 5
    assert api.get("/organisations/999999", headers=firm).status_code == 404
    bad_region = api.post("/organisations", json={"name": "x", "kind": "agency", "region": "999999"}, headers=admin)
    assert bad_region.status_code == 422
