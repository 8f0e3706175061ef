"""Regressions for the attack round of issue #11, one test per finding fixed here (F1, uploads, …)."""

from __future__ import annotations

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
        assert refused.json()["errors"][0]["field"] == "body" and "nested" in refused.json()["detail"]
    # brackets inside strings are text, not nesting
    fine = api.post("/demands", json={"title": "括号" + "[" * 200, "problem": "{" * 100}, headers=firm)
    assert fine.status_code == 201, fine.text
    assert _count(api) == before + 1


@pytest.mark.parametrize("body,reason", [
    ('{"title": "x"}'.encode("utf-16"), "UTF-16"),
    (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
    (b'{"title": "\\ud800abc"}', "surrogate"),
    (b'{"title": "\\udc00"}', "surrogate"),
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
