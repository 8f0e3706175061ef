"""Regressions for the attack round of issue #11, one test per finding fixed here (F1, uploads, …)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from matchmaker.models import Demand


def _count(api) -> int:
    with api.users.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Demand))


def test_f1_deeply_nested_json_is_a_cheap_400_and_without_a_token_a_401(api):
    firm = api.users.headers("firm", api.orgs.firm)
    deep = ("[" * 1100) + ("]" * 1100)
    before = _count(api)
    for path in ("/demands", "/pipelines"):
        anonymous = api.post(path, content=deep, headers={"content-type": "application/json"})
        assert anonymous.status_code == 401
        refused = api.post(path, content=deep, headers={**firm, "content-type": "application/json"})
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["field"] == "body" and "嵌套超过" in refused.json()["detail"]
    # brackets inside strings are text, not nesting
    fine = api.post("/demands", json={"title": "括号" + "[" * 200, "problem": "{" * 100}, headers=firm)
    assert fine.status_code == 201, fine.text
    assert _count(api) == before + 1


@pytest.mark.parametrize("body,reason", [
    ('{"title": "x"}'.encode("utf-16"), "UTF-16"),
    (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
    (b'{"title": "\\ud800abc"}', "代理项"),
    (b'{"title": "\\udc00"}', "代理项"),
])
def test_uploads_in_the_wrong_encoding_get_the_real_reason(api, body, reason):
    firm = api.users.headers("firm", api.orgs.firm)
    for path, params in (("/demands", {}), ("/demands/import", {"format": "jsonl"})):
        response = api.post(path, content=body, params=params, headers={**firm, "content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert reason in response.json()["detail"] or reason in json.dumps(response.json()["errors"])


def test_a_proper_surrogate_pair_is_text(api):
    firm = api.users.headers("firm", api.orgs.firm)
    response = api.post("/demands", content=b'{"title": "\\ud83d\\ude00 \\u6807\\u9898"}',
                        headers={**firm, "content-type": "application/json"})
    assert response.status_code == 201, response.text


def _startup_failure(app) -> str:
    """What the app said when it refused to start ("" if it started)."""
    from litestar.testing import TestClient

    from matchmaker.readiness import NotReady

    def messages(error: BaseException):
        if isinstance(error, NotReady):
            yield str(error)
        for inner in getattr(error, "exceptions", ()):
            yield from messages(inner)
        if error.__cause__ is not None:
            yield from messages(error.__cause__)

    try:
        with TestClient(app):
            return ""
    except BaseException as error:  # noqa: BLE001 - the lifespan wraps it in exception groups
        return " ".join(messages(error))


def test_f4_an_unmigrated_database_stops_the_server_with_what_to_do(tmp_path):
    from matchmaker.app import create_app
    from matchmaker.config import Settings

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert "matchmaker db upgrade" in _startup_failure(create_app(Settings(database_url=empty,
                                                                           index_dir=tmp_path / "index")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f4_an_unwritable_index_directory_stops_the_server(migrated_url, tmp_path):
    from matchmaker.app import create_app
    from matchmaker.config import Settings

    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    failure = _startup_failure(create_app(Settings(database_url=migrated_url, index_dir=blocked / "index")))
    assert "MATCHMAKER_INDEX_DIR" in failure


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f4_health_reports_readiness_truthfully(migrated_url, tmp_path):
    import time

    from litestar.testing import TestClient

    from matchmaker.app import create_app
    from matchmaker.config import Settings

    settings = Settings(database_url=migrated_url, index_dir=tmp_path / "index", warm_matcher=True)
    with TestClient(create_app(settings)) as client:
        for _ in range(100):
            answer = client.get("/health")
            if answer.status_code == 200:
                break
            assert answer.json()["status"] == "starting" and answer.json()["matcher"] == "loading"
            time.sleep(0.1)
        assert answer.json() == {**answer.json(), "status": "ok", "database": "ok", "index_dir": "ok",
                                 "matcher": "ready"}


# simulate stores its run in the platform database: it must say so before a minute of simulating, not after it
@pytest.mark.parametrize("command", [["analytics", "turnover"], ["simulate", "--scale", "demo", "--months", "1"]])
def test_f4_the_cli_on_an_unmigrated_database_says_what_to_do(tmp_path, command):
    import os
    import subprocess
    import sys

    env = {**os.environ, "MATCHMAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "MATCHMAKER_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run([sys.executable, "-m", "matchmaker.cli", *command], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "matchmaker db upgrade" in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f3_pages_carry_a_content_security_policy_and_refuse_framing(api):
    page = api.get("/web/login")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f3_secure_cookies_are_a_production_setting(migrated_url, tmp_path):
    from litestar.testing import TestClient

    from matchmaker.app import create_app
    from matchmaker.config import Settings

    settings = Settings(database_url=migrated_url, index_dir=tmp_path / "index", secure_cookies=True)
    with TestClient(create_app(settings), base_url="https://testserver.local") as client:
        page = client.get("/web/login")
        assert "secure" in page.headers["set-cookie"].lower()
    assert Settings.from_env({"MATCHMAKER_SECURE_COOKIES": "on", "MATCHMAKER_SECRET_KEY": "x"}).secure_cookies


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_405_says_which_methods_are_allowed(api):
    firm = api.users.headers("firm", api.orgs.firm)
    response = api.delete("/demands", headers=firm)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_f2_an_owners_change_to_a_published_posting_waits_for_review_while_the_approved_version_stays(api):
    from matchmaker.matching.service import matching_service

    office, admin = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform)
    firm = api.users.headers("firm", api.orgs.firm)
    mine = api.get("/achievements", params={"organisation_id": api.orgs.office, "status": "published"},
                   headers=office).json()["items"][0]
    changed = api.patch(f"/achievements/{mine['id']}", json={"title": "未经审核的新标题", "trl": 9}, headers=office)
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == mine["title"] and changed.json()["pending_changes"]["title"] == "未经审核的新标题"
    public = api.get(f"/achievements/{mine['id']}", headers=firm).json()
    assert public["title"] == mine["title"] and public["pending_changes"] is None   # others see the approved version
    service = matching_service(api.app.state)
    service.sync()
    assert service.matcher.achievements[mine["id"]].title == mine["title"]        # and so does the matcher
    queue = api.get("/achievements", params={"revision": "true"}, headers=admin).json()["items"]
    assert mine["id"] in {r["id"] for r in queue}
    renewed = api.patch(f"/achievements/{mine['id']}", json={"expires_on": "2099-01-01"}, headers=office)
    assert renewed.json()["expires_on"] == "2099-01-01"                             # a renewal needs no review
    approved = api.post(f"/achievements/{mine['id']}/approve", headers=admin)
    assert approved.status_code == 200 and approved.json()["title"] == "未经审核的新标题"
    assert approved.json()["trl"] == 9 and approved.json()["pending_changes"] is None
    service.sync()
    assert service.matcher.achievements[mine["id"]].title == "未经审核的新标题"
    again = api.patch(f"/achievements/{mine['id']}", json={"summary": "又改了"}, headers=office)
    assert again.json()["pending_changes"] == {"summary": "又改了"}
    refused = api.post(f"/achievements/{mine['id']}/reject", json={"note": "请补充数据来源"}, headers=admin)
    assert refused.status_code == 200 and refused.json()["status"] == "published"
    assert refused.json()["summary"] != "又改了" and refused.json()["pending_changes"] is None
    with api.users.engine.connect() as conn:
        from sqlalchemy import select

        from matchmaker.models import AuditEntry
        actions = list(conn.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"achievement:{mine['id']}")))
    assert actions.count("published_edit") == 3 and "revision_approved" in actions and "rejected" in actions


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f9_brokers_read_confidential_detail_only_for_their_deals_or_by_grant_and_every_read_is_logged(api):
    from sqlalchemy import select, update

    from matchmaker.models import Achievement, AuditEntry, Demand, Organisation

    with api.users.engine.connect() as conn:
        agencies = list(conn.scalars(select(Organisation.id).where(Organisation.kind == "agency")
                                     .order_by(Organisation.id).limit(2)))
        demand_id = conn.scalar(select(Demand.id).where(Demand.status == "published", Demand.deadline >= dt.date.today())
                                .order_by(Demand.id))
    broker, rival = api.users.headers("broker", agencies[0]), api.users.headers("broker", agencies[1])
    office = api.users.headers("office", api.orgs.office)
    mine = api.get("/achievements", params={"organisation_id": api.orgs.office, "status": "published"},
                   headers=office).json()["items"][0]
    with api.users.engine.begin() as conn:
        conn.execute(update(Achievement).values(confidential_detail="核心配方"))
    everything = api.get("/achievements", params={"limit": 200}, headers=broker).json()["items"]
    assert everything and all(item["confidential_detail"] is None for item in everything)
    assert api.post("/pipelines", json={"demand_id": demand_id, "achievement_id": mine["id"]},
                    headers=broker).status_code == 201
    assert api.get(f"/achievements/{mine['id']}", headers=broker).json()["confidential_detail"] == "核心配方"
    assert api.get(f"/achievements/{mine['id']}", headers=rival).json()["confidential_detail"] is None
    firm = api.users.headers("firm", api.orgs.firm)
    assert api.get(f"/achievements/{mine['id']}", headers=firm).json()["confidential_detail"] is None
    assert api.post(f"/achievements/{mine['id']}/grants", json={"organisation_id": api.orgs.firm},
                    headers=firm).status_code == 403
    assert api.post(f"/achievements/{mine['id']}/grants", json={"organisation_id": api.orgs.firm},
                    headers=office).status_code == 204
    assert api.get(f"/achievements/{mine['id']}", headers=firm).json()["confidential_detail"] == "核心配方"
    with api.users.engine.connect() as conn:
        reads = conn.execute(select(AuditEntry.action, AuditEntry.subject).where(
            AuditEntry.action.in_(["confidential_read", "confidential_granted"]))).all()
    assert reads.count(("confidential_read", f"achievement:{mine['id']}")) == 2   # the broker's and the firm's
    assert ("confidential_granted", f"achievement:{mine['id']}") in reads


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tokens_expire_rotate_and_the_last_admin_cannot_be_revoked(api):
    from sqlalchemy import select, update

    from matchmaker.models import AuditEntry, User

    firm = api.users.headers("firm", api.orgs.firm, name="换令牌的人")
    me = api.get("/users/me", headers=firm).json()
    assert me["token_expires_at"] is not None
    rotated = api.post(f"/users/{me['id']}/token", headers=firm)
    assert rotated.status_code == 200
    assert api.get("/users/me", headers=firm).status_code == 401                 # the old token stops at once
    fresh = {"Authorization": f"Bearer {rotated.json()['token']}"}
    assert api.get("/users/me", headers=fresh).status_code == 200
    with api.users.engine.begin() as conn:
        conn.execute(update(User).where(User.id == me["id"]).values(token_expires_at=dt.datetime(2020, 1, 1)))
    expired = api.get("/users/me", headers=fresh)
    assert expired.status_code == 401 and "已过期" in expired.json()["detail"]
    other = api.users.headers("firm", api.orgs.firm, name="别人")
    other_id = api.get("/users/me", headers=other).json()["id"]
    assert api.post(f"/users/{other_id}/token", headers=api.users.headers("firm", api.orgs.firm)).status_code == 403
    with api.users.engine.begin() as conn:   # leave exactly one active admin
        conn.execute(update(User).where(User.role == "admin").values(revoked_at=dt.datetime.now(dt.UTC)))
    admin = api.users.headers("admin", api.orgs.platform, name="最后的管理员")
    admin_id = api.get("/users/me", headers=admin).json()["id"]
    refused = api.post(f"/users/{admin_id}/revoke", headers=admin)
    assert refused.status_code == 409 and "最后一位在用的平台管理员" in refused.json()["detail"]
    with api.users.engine.connect() as conn:
        actions = list(conn.scalars(select(AuditEntry.action)))
    assert actions.count("token_rotated") == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_audit_log_is_read_by_admins_and_never_rewritten(api):
    import sqlalchemy

    admin = api.users.headers("admin", api.orgs.platform)
    firm = api.users.headers("firm", api.orgs.firm)
    api.post("/users", json={"role": "firm", "organisation_id": api.orgs.firm, "name": "新同事"}, headers=admin)
    log = api.get("/audit", headers=admin)
    assert log.status_code == 200 and log.json()["items"][0]["action"] == "user_created"
    assert api.get("/audit", params={"action": "user_created"}, headers=admin).json()["total"] == 1
    assert api.get("/audit", params={"action": "rewritten"}, headers=admin).status_code == 400
    assert api.get("/audit", headers=firm).status_code == 403
    with api.users.engine.begin() as conn:
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
            conn.execute(sqlalchemy.text("UPDATE audit_log SET action = 'nothing'"))
    with api.users.engine.begin() as conn:
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
            conn.execute(sqlalchemy.text("DELETE FROM audit_log"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f6_csv_exports_escape_formulas_and_import_them_back_unchanged(api, seeded_url, tmp_path):
    from sqlalchemy import update
    from typer.testing import CliRunner

    from matchmaker.cli import app
    from matchmaker.csv_safety import safe_cell
    from matchmaker.models import Achievement

    assert safe_cell('=HYPERLINK("http://x","点")').startswith("'=") and safe_cell("-5") == "-5"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("普通标题") == "普通标题"
    with api.users.engine.begin() as conn:
        conn.execute(update(Achievement).where(Achievement.id == 1).values(title='=HYPERLINK("http://x","点")'))
    out = tmp_path / "a.csv"
    env = {"MATCHMAKER_DATABASE_URL": seeded_url, "MATCHMAKER_INDEX_DIR": str(tmp_path / "index")}
    assert CliRunner().invoke(app, ["export", "achievements", "--format", "csv", "--out", str(out)], env=env).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ',=HYPERLINK' not in text and '\n=HYPERLINK' not in text
    analyst = api.users.headers("analyst", api.orgs.platform)
    funnel = api.get("/analytics/funnel", params={"format": "csv"}, headers=analyst)
    assert funnel.status_code == 200 and funnel.headers["content-type"].startswith("text/csv")
    assert not any(line.startswith(("=", "@")) for line in funnel.text.splitlines())
    from matchmaker.models import AuditEntry

    with api.users.engine.connect() as conn:   # both exports are in the audit log
        exports = conn.execute(select(AuditEntry.subject, AuditEntry.actor_user_id).where(
            AuditEntry.action == "exported")).all()
    assert {subject for subject, _ in exports} == {"export:achievements", "analytics:funnel"}
    assert dict(exports)["analytics:funnel"] is not None and dict(exports)["export:achievements"] is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f7_an_owners_import_cannot_set_server_owned_fields(api):
    firm = api.users.headers("firm", api.orgs.firm)
    before = _count(api)
    pinned = api.post("/demands/import", params={"format": "jsonl"},
                      content='{"title": "置顶的需求", "posted_on": "2099-12-31"}\n'.encode(), headers=firm)
    assert pinned.status_code == 422 and pinned.json()["errors"][0]["field"] == "posted_on"
    published = api.post("/demands/import", params={"format": "jsonl"},
                         content='{"title": "自己发布的需求", "status": "published"}\n'.encode(), headers=firm)
    assert published.status_code == 422 and published.json()["errors"][0]["field"] == "status"
    assert _count(api) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_f8_another_organisations_draft_is_answered_like_a_missing_one_and_a_verdict_counts_once(api):
    from matchmaker.models import Achievement, Feedback

    with api.users.engine.connect() as conn:
        draft = conn.scalar(select(Achievement.id).where(Achievement.status == "draft",
                                                         Achievement.organisation_id != api.orgs.firm))
        demand_id = conn.scalar(select(Demand.id).where(Demand.organisation_id == api.orgs.firm,
                                                        Demand.status == "published"))
        published = conn.scalar(select(Achievement.id).where(Achievement.status == "published"))
    assert draft and demand_id and published
    firm = api.users.headers("firm", api.orgs.firm)
    broker = api.users.headers("broker", api.orgs.agency)
    missing = 10**9 - 1
    answers = []
    for achievement_id in (draft, missing):
        feedback = api.post("/feedback", json={"demand_id": demand_id, "achievement_id": achievement_id,
                                               "relevant": True}, headers=firm)
        claim = api.post("/pipelines", json={"demand_id": demand_id, "achievement_id": achievement_id},
                         headers=broker)
        answers.append((feedback.status_code, claim.status_code, claim.json()["errors"]))
    assert answers[0][:2] == (404, 404)
    assert answers[0][2] == answers[1][2]   # the same words: nothing tells a draft from a record that is not there
    for _ in range(3):
        assert api.post("/feedback", json={"demand_id": demand_id, "achievement_id": published,
                                           "relevant": True}, headers=firm).status_code in (200, 201)
    with api.users.engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(Feedback).where(
            Feedback.demand_id == demand_id, Feedback.achievement_id == published))
    assert rows == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("change,field", [
    ({"title": "   "}, "title"),
    ({"title": "\u200b\u200b"}, "title"),
    ({"title": "\u3000\ufeff"}, "title"),
    ({"min_trl": "5"}, "min_trl"),
    ({"min_trl": 5.5}, "min_trl"),
    ({"min_trl": [5]}, "min_trl"),
    ({"is_challenge": "true"}, "is_challenge"),
])
def test_loose_values_are_refused_with_the_field_named(api, change, field):
    firm = api.users.headers("firm", api.orgs.firm)
    before = _count(api)
    body = {"title": "高效污水处理膜材料", "problem": "需要一种抗污染的膜材料", **change}
    answer = api.post("/demands", json=body, headers=firm)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert _count(api) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lone_surrogate_is_named_as_such(api):
    firm = api.users.headers("firm", api.orgs.firm)
    answer = api.post("/demands", content=b'{"title": "\\ud800abc"}',
                      headers={**firm, "content-type": "application/json"})
    assert answer.status_code == 400
    assert "surrogate" in answer.json()["detail"] or "代理" in answer.json()["detail"]
