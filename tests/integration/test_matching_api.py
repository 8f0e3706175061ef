"""Live matching over HTTP: explained matches, filters, updates without a refit, other workers, persistence."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from matchmaker.matching.service import MatchingService
from matchmaker.models import Demand



def _published_demand(api, headers) -> dict:
    return api.get("/demands", params={"status": "published", "sort": "posted_on", "limit": 1}, headers=headers).json()["items"][0]


def _publish_answer(api, demand: dict, title_suffix: str = "") -> int:
    """An office posts an achievement worded like the demand, and an admin publishes it."""
    office, admin = api.users.headers("office", api.orgs.office), api.users.headers("admin", api.orgs.platform)
    body = {"title": demand["title"] + title_suffix, "summary": demand["problem"] + demand["targets"],
            "field": demand["field"], "trl": 9, "region": demand["region"]}
    a_id = api.post("/achievements", json=body, headers=office).json()["id"]
    api.post(f"/achievements/{a_id}/submit", headers=office)
    assert api.post(f"/achievements/{a_id}/approve", headers=admin).status_code == 200
    return a_id


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


def test_matches_are_explained_filtered_and_checked(api):
    firm = api.users.headers("firm", api.orgs.firm)
    demand = _published_demand(api, firm)
    found = api.get(f"/demands/{demand['id']}/matches", params={"k": 5}, headers=firm)
    items = found.json()["items"]
    assert found.status_code == 200 and len(items) == 5
    assert [m["score"] for m in items] == sorted((m["score"] for m in items), reverse=True)
    assert found.json()["ranker"] in ("tfidf", "tfidf+semantic") and "匹配度" in found.json()["meaning"]
    for match in items:
        e = match["explanation"]
        assert e["shared_terms"] and all(t["weight"] > 0 and len(t["term"]) >= 2 for t in e["shared_terms"])
        rebuilt = e["relevance"]["value"]
        for f in e["factors"]:
            assert f["multiplier"] <= 1 and f["note"] and not any(c.isascii() and c.isalpha() for c in f["note"])
            assert (f["state"] in ("unknown", "met", "info")) == (f["multiplier"] == 1.0)
            rebuilt *= f["multiplier"]
        assert rebuilt == pytest.approx(match["score"], abs=1e-9) and 0 < match["score"] < 1
        assert match["summary"].startswith("匹配度") and match["tier"] in ("strong", "possible", "weak")
    in_field = api.get(f"/demands/{demand['id']}/matches", params={"field": "new_materials"}, headers=firm).json()["items"]
    assert in_field and all(m["field"] == "new_materials" for m in in_field)
    local = api.get(f"/demands/{demand['id']}/matches", params={"region": "210000", "trl_min": 5, "trl_max": 6}, headers=firm).json()["items"]
    assert local and all(m["region"].startswith("21") and 5 <= m["trl"] <= 6 for m in local)
    achievement_id = items[0]["id"]
    reverse = api.get(f"/achievements/{achievement_id}/matches", params={"k": 3}, headers=firm).json()
    assert reverse["source_id"] == achievement_id and len(reverse["items"]) == 3
    assert api.get(f"/demands/{demand['id']}/matches", params={"field": "alchemy"}, headers=firm).json()["errors"][0]["field"] == "field"
    assert api.get(f"/demands/{demand['id']}/matches", params={"k": 0}, headers=firm).status_code == 400
    assert api.get(f"/demands/{demand['id']}/matches", params={"trl_min": 7, "trl_max": 3}, headers=firm).status_code == 422
    assert api.get("/demands/99999999/matches", headers=firm).status_code == 404
    draft = api.post("/demands", json={"title": "草稿需求"}, headers=firm).json()["id"]
    assert api.get(f"/demands/{draft}/matches", headers=api.users.headers("firm", api.orgs.other_firm)).status_code == 404


def test_published_record_is_matched_without_refit_and_withdrawn_one_disappears(api):
    firm, office = api.users.headers("firm", api.orgs.firm), api.users.headers("office", api.orgs.office)
    demand = _published_demand(api, firm)
    api.get(f"/demands/{demand['id']}/matches", headers=firm)
    service = api.app.state.matching
    builds = service.builds
    a_id = _publish_answer(api, demand)
    assert a_id in _ids(api.get(f"/demands/{demand['id']}/matches", params={"k": 5}, headers=firm))
    api.post(f"/achievements/{a_id}/withdraw", headers=office)
    assert a_id not in _ids(api.get(f"/demands/{demand['id']}/matches", params={"k": 50}, headers=firm))
    assert service.builds == builds  # live updates, never a refit


def test_a_ranking_is_reused_until_a_change_reaches_the_index(api, monkeypatch):
    """The same question asked again is answered from the last ranking (no scoring), and every change to the index
    (a publication, a withdrawal) asks it anew: a kept ranking never hides a new answer."""
    firm, office = api.users.headers("firm", api.orgs.firm), api.users.headers("office", api.orgs.office)
    demand = _published_demand(api, firm)
    url = f"/demands/{demand['id']}/matches"
    first = _ids(api.get(url, headers=firm))
    service = api.app.state.matching
    ranked = []
    original = service.matcher.rank_achievements
    monkeypatch.setattr(service.matcher, "rank_achievements", lambda *a, **kw: ranked.append(1) or original(*a, **kw))
    assert _ids(api.get(url, headers=firm)) == first and ranked == []   # the kept ranking
    a_id = _publish_answer(api, demand, "（新）")
    assert a_id in _ids(api.get(url, headers=firm)) and len(ranked) == 1   # the publication cleared it
    assert a_id in _ids(api.get(url, headers=firm)) and len(ranked) == 1
    api.post(f"/achievements/{a_id}/withdraw", headers=office)
    assert _ids(api.get(url, headers=firm)) == first and len(ranked) == 2
    assert api.get(url, params={"k": 3}, headers=firm).status_code == 200 and len(ranked) == 3   # another question


def test_a_match_row_is_kept_with_its_ranking_and_read_again_when_the_record_s_change_reaches_the_index(api):
    """The rows a list shows (title, owner, explanation) are kept beside the ranking (matching/kept.py): a row
    changed without a change-log entry still shows as it was ranked, and the entry brings the new row. The owner
    is changed, a column the score does not see. (Re-reading the record moves its score in the 8th digit, so the
    kept row would be missed even if the service did not drop it; that drop is for the cases where it would not.)"""
    from sqlalchemy import update

    from matchmaker.catalog.expiry import log_index_change
    from matchmaker.catalog.specs import ACHIEVEMENTS
    from matchmaker.models import Achievement

    firm = api.users.headers("firm", api.orgs.firm)
    url = f"/demands/{_published_demand(api, firm)['id']}/matches"
    first = api.get(url, headers=firm).json()["items"][0]
    other = api.orgs.other_office
    assert first["organisation_id"] != other
    factory = api.app.state.session_factory
    with factory() as session, session.begin():   # written around the change log, as a script might
        session.execute(update(Achievement).where(Achievement.id == first["id"]).values(organisation_id=other))
    assert api.get(url, headers=firm).json()["items"][0] == first
    with factory() as session, session.begin():
        log_index_change(session, ACHIEVEMENTS, first["id"])
    again = api.get(url, headers=firm).json()["items"][0]
    assert again["id"] == first["id"] and again["organisation_id"] == other


def test_a_worker_applies_a_long_change_log_in_chunks(api, monkeypatch):
    """Changes are read back in chunks of records.CHUNK ids (a national sweep of expiries logged 253,000 at once,
    past SQLite's limit on bound parameters): with chunks of one, every change still lands."""
    import matchmaker.matching.records as records

    firm = api.users.headers("firm", api.orgs.firm)
    demand = _published_demand(api, firm)
    api.get(f"/demands/{demand['id']}/matches", headers=firm)   # the app's service builds and saves
    worker = MatchingService(api.app.state.settings, api.app.state.session_factory).start()
    monkeypatch.setattr(records, "CHUNK", 1)
    published = [_publish_answer(api, demand, suffix) for suffix in ("（甲）", "（乙）", "（丙）")]
    with api.app.state.session_factory() as session:
        row = session.scalar(select(Demand).where(Demand.id == demand["id"]))
        found = [m.id for m in worker.achievements_for(row, k=10)]
    assert set(published) <= set(found)


def test_a_change_committed_after_a_later_one_is_still_applied(api):
    """On PostgreSQL a transaction holding a lower change id can commit after one holding a higher id. A sync reads
    only ids above the last applied and the gaps below it, so the gap must be asked for again: here change n+2
    commits first, then n+1 (ids given explicitly, as SQLite cannot commit two writers out of order)."""
    import datetime as dt

    from sqlalchemy import update

    from matchmaker.models import Achievement, IndexChange

    firm = api.users.headers("firm", api.orgs.firm)
    api.get(f"/demands/{_published_demand(api, firm)['id']}/matches", headers=firm)   # builds and saves
    factory = api.app.state.session_factory
    worker = MatchingService(api.app.state.settings, factory).start()
    worker._window_until = dt.datetime.now(dt.UTC)   # past the start-up window, when only gaps are read again
    worker.sync()
    index, last = worker.matcher.achievement_index, worker.last_change_id
    with factory() as session:
        first, second = session.scalars(select(Achievement.id).where(Achievement.status == "published")
                                        .order_by(Achievement.id).limit(2)).all()

    def commit_change(change_id: int, record_id: int, title: str) -> None:
        with factory() as session, session.begin():
            session.execute(update(Achievement).where(Achievement.id == record_id).values(title=title))
            session.add(IndexChange(id=change_id, library="achievements", record_id=record_id))

    commit_change(last + 2, first, "先提交的改动")
    assert worker.sync() == 1 and index.text(first)[0] == "先提交的改动"
    assert index.text(second)[0] != "后提交的改动"
    commit_change(last + 1, second, "后提交的改动")   # the lower id commits late
    assert worker.sync() == 1 and index.text(second)[0] == "后提交的改动"
    assert worker.sync() == 0   # applied once


def test_a_change_this_process_commits_is_read_at_once_and_another_process_s_within_the_sync_interval(api,
                                                                                                     monkeypatch):
    """Requests read the change log only when this process committed a change since, or SYNC_AT_MOST_EVERY has
    passed (freshness.py). The interval is a minute here, then nothing, so the machine's speed does not matter."""
    from sqlalchemy import insert

    from matchmaker.matching import freshness
    from matchmaker.models import Achievement, IndexChange

    firm = api.users.headers("firm", api.orgs.firm)
    demand_id = _published_demand(api, firm)["id"]
    factory = api.app.state.session_factory
    worker = MatchingService(api.app.state.settings, factory).start()
    with factory() as session:
        demand = session.get(Demand, demand_id)
        achievement_id = session.scalar(select(Achievement.id).where(Achievement.status == "published"))
    monkeypatch.setattr(freshness, "SYNC_AT_MOST_EVERY", 60.0)
    worker.achievements_for(demand)
    applied = worker.last_change_id
    # Another process's commit (a plain connection: no session of this process knows of it).
    with factory.kw["bind"].begin() as connection:
        connection.execute(insert(IndexChange).values(library="achievements", record_id=achievement_id))
    worker.achievements_for(demand)
    assert worker.last_change_id == applied   # not asked again within the interval
    monkeypatch.setattr(freshness, "SYNC_AT_MOST_EVERY", 0.0)
    worker.achievements_for(demand)
    assert worker.last_change_id > applied
    applied = worker.last_change_id
    monkeypatch.setattr(freshness, "SYNC_AT_MOST_EVERY", 60.0)
    with factory() as session, session.begin():   # this process's own commit, as a request's
        session.add(IndexChange(library="achievements", record_id=achievement_id))
    worker.achievements_for(demand)
    assert worker.last_change_id > applied
    applied = worker.last_change_id
    with factory() as session, session.begin():   # and as the expiry check logs a day's lapsed records, in bulk
        session.execute(insert(IndexChange), [{"library": "achievements", "record_id": achievement_id}])
    worker.achievements_for(demand)
    assert worker.last_change_id > applied


def test_another_worker_follows_the_change_log_and_restarts_load_the_saved_index(api):
    firm, office = api.users.headers("firm", api.orgs.firm), api.users.headers("office", api.orgs.office)
    demand = _published_demand(api, firm)
    api.get(f"/demands/{demand['id']}/matches", headers=firm)  # the app's service builds and saves
    settings, factory = api.app.state.settings, api.app.state.session_factory
    worker = MatchingService(settings, factory).start()
    assert (worker.builds, worker.loads) == (0, 1)  # loaded from disk, no refit

    def worker_ids() -> list[int]:
        with factory() as session:
            row = session.scalar(select(Demand).where(Demand.id == demand["id"]))
        return [m.id for m in worker.achievements_for(row, k=5)]

    a_id = _publish_answer(api, demand, "（二）")  # published through the app's process
    assert a_id in worker_ids()
    api.post(f"/achievements/{a_id}/withdraw", headers=office)
    assert a_id not in worker_ids()
    assert worker.builds == 0

    state_file = settings.index_dir / "matcher" / "state.json"
    state = json.loads(state_file.read_text())
    # The saved matcher says what it was tuned on, and with which weights.
    assert state["provenance"]["learned_from_feedback"] is False and "ccf2019-dev" in state["provenance"]["text_params"]
    assert set(state["weights"]) == {"field", "trl", "price", "mode", "semantic"} and state["ranker"] in ("tfidf", "tfidf+semantic")
    state_file.write_text(json.dumps({**state, "version": 999}))
    tampered = MatchingService(settings, factory).start()
    assert (tampered.builds, tampered.loads) == (1, 0)
    manifest = settings.index_dir / "matcher" / "demands" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": -1}))
    assert MatchingService(settings, factory).start().builds == 1
    assert MatchingService(settings, factory).start().loads == 1  # the rebuild saved a good copy again


def test_a_restart_catches_up_with_writes_that_bypassed_the_change_log(api):
    # A restart maps the saved index and checks it against the open records' ids alone; a record published or
    # withdrawn behind the change log's back (a bulk import, a regenerated world) must still be caught, and a
    # record it reads back must carry every field the scoring uses.
    from matchmaker.matching.records import achievement_doc
    from matchmaker.models import Achievement

    firm = api.users.headers("firm", api.orgs.firm)
    api.get(f"/demands/{_published_demand(api, firm)['id']}/matches", headers=firm)   # builds and saves
    settings, factory = api.app.state.settings, api.app.state.session_factory
    with factory() as session, session.begin():
        draft = session.scalar(select(Achievement).where(Achievement.status == "draft").order_by(Achievement.id))
        gone = session.scalar(select(Achievement).where(Achievement.status == "published").order_by(Achievement.id))
        draft.status, gone.status = "published", "withdrawn"
        draft_id, gone_id = draft.id, gone.id
    restarted = MatchingService(settings, factory).start()
    assert (restarted.builds, restarted.loads) == (0, 1)
    assert gone_id not in restarted.matcher.achievements
    with factory() as session:
        assert restarted.matcher.achievements[draft_id] == achievement_doc(session.get(Achievement, draft_id))
        some = session.scalars(select(Achievement).where(Achievement.status == "published",
                                                         Achievement.id != draft_id).limit(50)).all()
        assert all(restarted.matcher.achievements[a.id] == achievement_doc(a) for a in some)
