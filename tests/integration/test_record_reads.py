"""A match request reads its posting outside a transaction (catalog.services.read_record); what that read must
still do: expire what lapsed and commit it with its change-log row, and hide what the caller may not see."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from matchmaker.models import Demand, IndexChange

TODAY = dt.date.today()


def _published_demand(api) -> dict:
    firm = api.users.headers("firm", api.orgs.firm)
    return api.get("/demands", params={"organisation_id": api.orgs.firm, "status": "published"},
                   headers=firm).json()["items"][0]


def test_a_match_request_on_a_lapsed_demand_expires_it_and_logs_the_change_together(api):
    firm = api.users.headers("firm", api.orgs.firm)
    demand = _published_demand(api)
    with api.users.engine.begin() as conn:
        conn.execute(update(Demand).where(Demand.id == demand["id"]).values(deadline=TODAY - dt.timedelta(days=1)))
        logged_before = conn.scalar(select(IndexChange.id).order_by(IndexChange.id.desc()).limit(1)) or 0
    answer = api.get(f"/demands/{demand['id']}/matches", headers=firm)
    assert answer.status_code == 200
    with api.users.engine.connect() as conn:   # what another process sees: committed
        assert conn.scalar(select(Demand.status).where(Demand.id == demand["id"])) == "expired"
        assert demand["id"] in set(conn.scalars(select(IndexChange.record_id).where(
            IndexChange.library == "demands", IndexChange.id > logged_before)))


def test_a_match_request_for_another_firms_draft_is_not_found_and_for_a_missing_one_too(api):
    firm = api.users.headers("firm", api.orgs.firm)
    other = api.users.headers("firm", api.orgs.other_firm)
    draft = api.post("/demands", json={"title": "尚未提交的需求", "problem": "一个草稿", "field": "new_materials"},
                     headers=firm).json()
    assert api.get(f"/demands/{draft['id']}/matches", headers=firm).status_code == 200
    hidden = api.get(f"/demands/{draft['id']}/matches", headers=other)
    assert hidden.status_code == 404 and "找不到" in hidden.text
    assert api.get("/demands/999999/matches", headers=firm).status_code == 404
