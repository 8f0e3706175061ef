"""A list's total is counted part by part (catalog.access.visible_parts, so an index serves each part); it must
equal the count of every row the caller may see, for every kind of caller, filtered or not."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.catalog import services as catalog
from matchmaker.catalog.access import visible_condition
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS
from matchmaker.db import make_engine
from matchmaker.identity.services import Actor
from matchmaker.models import Achievement, Organisation


@pytest.mark.parametrize("spec", [ACHIEVEMENTS, DEMANDS], ids=["achievements", "demands"])
def test_part_by_part_totals_equal_a_plain_count(seeded_url, spec):
    engine = make_engine(seeded_url)
    with Session(engine) as session:
        office = session.scalar(select(Achievement.organisation_id).where(Achievement.status == "draft").limit(1))
        firm = session.scalar(select(Organisation.id).where(Organisation.kind == "enterprise").limit(1))
        government = session.scalar(select(Organisation.id).where(Organisation.kind == "government").limit(1))
        # A pending record of the analysts' own organisation: both "own unpublished" and "pending in the market"
        # describe it, so the parts must not count it twice.
        mine = session.scalar(select(spec.model).where(spec.model.status == "published").limit(1))
        mine.status, mine.organisation_id, mine.region_code = "pending_review", government, "210200"
        session.flush()
        actors = [Actor(1, v.Role.OFFICE, office), Actor(2, v.Role.FIRM, firm), Actor(3, v.Role.BROKER, firm),
                  Actor(4, v.Role.ANALYST, government), Actor(5, v.Role.ANALYST, government, None, "210200"),
                  Actor(6, v.Role.ADMIN, government)]
        for actor in actors:
            for query in (catalog.ListQuery(limit=1), catalog.ListQuery(limit=1, trl_min=5),
                          catalog.ListQuery(limit=1, region="210000")):
                _, total = catalog.list_records(session, actor=actor, spec=spec, query=query)
                plain = catalog.apply_filters(select(func.count()).select_from(spec.model), spec, query)
                visible = visible_condition(actor, spec.model)
                expected = session.scalar(plain if visible is None else plain.where(visible))
                assert total == expected, (actor.role, query)
                assert expected > 1   # the part-by-part count is taken only past the first page
    engine.dispose()


def test_a_total_past_the_cap_says_more_than_it_on_the_api_and_the_pages(api, pages, monkeypatch):
    # The library lists count up to db.COUNT_CAP and then say "more than": patched down to 5 here, so the demo
    # world's published achievements are past it. One constant, read where the count is taken and where it is shown.
    from page_client import log_in

    from matchmaker import db

    monkeypatch.setattr(db, "COUNT_CAP", 5)
    log_in(pages, "demo_firm")
    firm = api.users.headers("firm", api.orgs.firm)
    capped = api.get("/achievements", params={"limit": 2}, headers=firm).json()
    assert (capped["total"], capped["total_exact"], len(capped["items"])) == (5, False, 2)
    assert "超过 5 条" in api.get("/web/market/achievements").text
    assert "超过 5 条" in pages.get("/web/search", params={"library": "achievements"}).text
    assert "科技成果（5+ 项）" in api.get(f"/web/market/organisations/{api.orgs.office}").text
    monkeypatch.setattr(db, "COUNT_CAP", 10**6)
    exact = api.get("/achievements", params={"limit": 2}, headers=firm).json()
    assert exact["total_exact"] is True and exact["total"] > 5
