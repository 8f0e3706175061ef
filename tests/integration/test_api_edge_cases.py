"""Regressions for what schemathesis (and a follow-up probe) found: each was a 500 or a response off the spec."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from matchmaker.models import Achievement, Organisation


def _headers(api, kind: str, role: str) -> dict[str, str]:
    with api.users.engine.connect() as conn:
        org = conn.scalar(select(Organisation.id).where(Organisation.kind == kind).order_by(Organisation.id))
    return api.users.headers(role, org)


@pytest.mark.parametrize("path", ["/users/100000000000000000000", "/demands/100000000000000000000/matches",
                                  "/achievements/2147483648", "/subscriptions/0",
                                  "/achievements?organisation_id=100000000000000000000",
                                  "/inbox?offset=100000000000000000000"])
def test_ids_beyond_32_bits_are_a_400_not_a_500(api, path):
    response = api.get(path, headers=_headers(api, "government", "admin"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_nul_character_is_the_same_clear_400_on_both_databases(api):
    """PostgreSQL cannot store NUL in text and SQLite can; the edge refuses it for both, and stores nothing."""
    office = _headers(api, "university", "office")
    def stored() -> int:
        with api.users.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Achievement))

    before = stored()
    for response in (
        api.get("/achievements", params={"q": "a\x00b"}, headers=office),
        api.post("/achievements", json={"title": "标题", "keywords": "a\x00b"}, headers=office),
        api.post("/achievements/import", content=b"title\n\xe6\xa0\x87\x00\n", params={"format": "csv"},
                 headers=office),
    ):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "空字符（U+0000）" in response.json()["detail"]
    assert stored() == before
    # An escaped backslash followed by "u0000" is ordinary text, not a NUL.
    literal = api.post("/achievements", json={"title": "标题", "keywords": "a\\u0000b"}, headers=office)
    assert literal.status_code == 201 and literal.json()["keywords"] == "a\\u0000b"


@pytest.mark.parametrize("period", ["0000", "9999", "9999-12"])
def test_contract_periods_outside_the_calendar_are_a_400(api, period):
    response = api.get("/contracts", params={"period": period}, headers=_headers(api, "government", "analyst"))
    assert response.status_code == 400, response.text


def test_timestamps_carry_an_offset(api):
    """RFC 3339 date-times, as the spec says: SQLite used to hand back naive datetimes, sent without an offset."""
    me = api.get("/users/me", headers=_headers(api, "government", "admin")).json()
    assert dt.datetime.fromisoformat(me["created_at"]).utcoffset() == dt.timedelta(0)


def test_analytics_csv_has_one_charset_and_is_documented(api):
    response = api.get("/analytics/funnel", params={"format": "csv"}, headers=_headers(api, "government", "analyst"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    spec = api.get("/schema/openapi.json").json()
    assert set(spec["paths"]["/analytics/funnel"]["get"]["responses"]["200"]["content"]) == {"application/json", "text/csv"}


def test_every_operation_documents_its_problem_responses(api):
    spec = api.get("/schema/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path == "/health":
                continue
            responses = operation["responses"]
            assert {"401", "403"} <= responses.keys(), (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)


def test_every_body_that_refuses_unknown_fields_says_so_in_the_spec(api):
    """A body struct with forbid_unknown_fields answers 400 to an extra field, so its schema must say
    `additionalProperties: false` — also when two structs share a name and Litestar prefixes their module
    (schemathesis's stateful phase found `POST /challenges/milestones/{id}/pay` taking extras for valid)."""
    spec = api.get("/schema/openapi.json").json()
    schemas = spec["components"]["schemas"]
    bodies = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in ref:
                bodies[f"{method.upper()} {path}"] = ref["$ref"].rsplit("/", 1)[-1]
    assert "POST /challenges/milestones/{milestone_id}/pay" in bodies
    open_bodies = {operation: name for operation, name in bodies.items()
                   if schemas[name].get("additionalProperties") is not False}
    assert not open_bodies, open_bodies


def _patterns(node, found: set) -> set:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                found.add(value)
            _patterns(value, found)
    elif isinstance(node, list):
        for value in node:
            _patterns(value, found)
    return found


def test_every_pattern_means_the_same_to_python_and_to_ecmascript(api):
    """Clients read the spec's patterns as ECMAScript, msgspec enforces them with Python's `re`: their `\\s`, `\\S`,
    `\\d`, `\\w` and `.` differ, so a pattern may only use them as matchmaker.api.patterns spells them out
    (schemathesis with other seeds found ids, e-mails and registration numbers with \\x1c-\\x1f the spec allowed and
    the API refused). And the server refuses what the spelled-out class excludes, as the spec says."""
    from matchmaker.api.patterns import END, SPACE

    spec = api.get("/schema/openapi.json").json()
    found = _patterns(spec, set())
    assert len(found) > 10
    for pattern in found:
        plain = pattern.replace(SPACE, "").replace(END, "")
        escapes = [e for e in ("\\s", "\\S", "\\d", "\\D", "\\w", "\\W", "\\b") if e in plain]
        outside_classes = re.sub(r"\[(\\.|[^\]])*\]", "", plain)
        bare_dots = re.findall(r"(?<!\\)\.", outside_classes)
        assert not escapes and not bare_dots and "$" not in plain, (pattern, escapes, bare_dots)
    headers = _headers(api, "enterprise", "firm")
    for email in ("a\x1d@b.cn", "a@b\x85.cn", "\ufeffa@b.cn"):
        assert api.patch("/me", json={"email": email}, headers=headers).status_code == 400, email
    assert api.patch("/me", json={"email": "张三@example.cn"}, headers=headers).status_code == 200
    # Python's `$` also matches before a final newline: a filter on "210000\n" found nothing instead of a 400.
    for query in ("/achievements?region=210000%0A", "/regions?level=city%0A", "/regions?parent=210000%0A"):
        assert api.get(query, headers=headers).status_code == 400, query
    assert api.patch("/me", json={"email": "a@b.cn\n"}, headers=headers).status_code == 400


def test_a_lists_items_carry_their_bounds_in_the_spec(api):
    """An expert's scores are integers 0–100 (msgspec refuses 101 with a 400); Litestar documented plain integers,
    so a client following the spec sent 93090797839 (schemathesis, seed 7)."""
    spec = api.get("/schema/openapi.json").json()
    score_in = next(s for name, s in spec["components"]["schemas"].items() if name.endswith("ScoreIn"))
    assert score_in["properties"]["scores"]["items"] == {"type": "integer", "minimum": 0, "maximum": 100}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_frameworks_own_refusals_reach_the_caller_in_chinese_with_the_field_kept(api):
    """msgspec's and Litestar's English ("Expected `int`, got `str`", "Method Not Allowed") in the pages' words;
    `type`, `status` and `errors[].field` stay what an integrator's code reads."""
    firm = _headers(api, "enterprise", "firm")
    query = api.get("/demands", params={"limit": "abc"}, headers=firm)
    body = query.json()
    assert query.status_code == 400 and body["type"] == "about:blank" and body["title"] == "请求有误"
    assert body["errors"] == [{"field": "limit", "reason": "请填写整数"}] and body["detail"] == "limit：请填写整数"
    missing = api.post("/demands", json={}, headers=firm).json()
    assert missing["errors"] == [{"field": "body", "reason": "缺少必填项 title，请补上后重新发送"}]
    loose = api.post("/demands", json={"title": "标题", "min_trl": 99}, headers=firm).json()
    assert loose["errors"] == [{"field": "min_trl", "reason": "不能大于 9"}]
    malformed = api.post("/demands", content=b'{"title": ', headers={**firm, "content-type": "application/json"})
    assert malformed.status_code == 400 and "不是有效的 JSON" in malformed.json()["detail"]
    wrong_method = api.delete("/demands", headers=firm)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"]
    assert wrong_method.json()["title"] == "不支持该操作" and "Allow" in wrong_method.json()["detail"]
    for answer in (query, malformed, wrong_method, api.get("/nowhere", headers=firm)):
        problem = answer.json()
        assert re.search(r"[\u4e00-\u9fff]", problem["title"]) and re.search(r"[\u4e00-\u9fff]", problem["detail"])
