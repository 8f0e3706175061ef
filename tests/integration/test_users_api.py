"""Users and tokens over HTTP: admins create and revoke, tokens authenticate, others are refused."""

from __future__ import annotations


def test_admin_creates_user_whose_token_works_until_revoked(api):
    admin = api.users.headers("admin", 1)
    created = api.post("/users", json={"role": "firm", "organisation_id": 2, "name": "王工"}, headers=admin)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    firm = {"Authorization": f"Bearer {token}"}
    assert api.get("/users/me", headers=firm).json()["role"] == "firm"
    revoked = api.post(f"/users/{created.json()['user']['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert api.get("/users/me", headers=firm).status_code == 401


def test_non_admin_cannot_create_users_and_nothing_is_written(api):
    firm = api.users.headers("firm", 2)
    before = api.get("/users/me", headers=firm).json()["id"]
    refused = api.post("/users", json={"role": "admin", "organisation_id": 2, "name": "x"}, headers=firm)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    admin = api.users.headers("admin", 1)
    assert api.get(f"/users/{before + 1}", headers=admin).json()["id"] == before + 1  # the admin itself, nobody else
    assert api.get(f"/users/{before + 2}", headers=admin).status_code == 404


def test_bad_input_gets_problem_details_naming_the_field(api):
    admin = api.users.headers("admin", 1)
    response = api.post("/users", json={"role": "wizard", "organisation_id": 1, "name": "x"}, headers=admin)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and any("role" in e["field"] for e in body["errors"])
    missing_org = api.post("/users", json={"role": "firm", "organisation_id": 999999, "name": "x"}, headers=admin)
    assert missing_org.status_code == 422 and missing_org.json()["errors"][0]["field"] == "organisation_id"
    assert api.get("/users/me", headers={"Authorization": "Bearer nope"}).status_code == 401
