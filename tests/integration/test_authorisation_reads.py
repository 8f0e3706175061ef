"""Every role against every read route that can return another organisation's data (issue 11).

The test world's five callers (office, firm, broker, analyst, admin) belong to the first organisation of their
kind; the records read here belong to *other* organisations: a second office's draft and pending achievement, a
second firm's draft demand and inbox, another agency's pipeline and contract, another user's subscription,
notice and feedback. For each route the allowed roles must see the record (200, or the id in the list); every
other role must get 403/404, or a list without it. The GET routes are read from the application, so a new one
fails `test_every_read_route_is_classified` until it is given a row here or declared shared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from live_server import contract_terms, noticed
from sqlalchemy import insert, select
from test_authorisation_matrix import NOT_API, ROLES, World, _world

from matchmaker.db import make_session_factory, transaction
from matchmaker.identity.services import create_user
from matchmaker.models import (
    Achievement,
    Broker,
    ContractDocument,
    Demand,
    Feedback,
    InboxEntry,
    Organisation,
    Pipeline,
    Subscription,
    SubscriptionNotice,
    Introduction,
    Notice,
)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Routes whose data is shared by every signed-in user (reference data, the public directories, one's own
# account) or public: nothing in them belongs to another organisation alone.
SHARED = {"/", "/health", "/regions", "/fields", "/organisations", "/organisations/{organisation_id}", "/brokers",
          "/brokers/{broker_id}", "/users/me", "/me", "/me/notice-preferences",
          "/favicon.ico", "/robots.txt", "/sitemap.xml",   # these three: public, the storefront's
          "/inventor-shares",   # the caller's own office's inventors only (an office's totals; others get 403)
          "/listings", "/listings/{listing_id}",   # fixed-price listings are offers to every signed-in firm
          "/price-notices", "/price-notices/{notice_id}",   # 公示 is public by purpose: anyone may object
          "/auctions", "/auctions/{auction_id}",   # an open auction's board: bidders and watchers see the same
          "/challenges", "/challenges/{challenge_id}",   # 揭榜挂帅 lists are published to find teams
          "/challenges/experts"}   # the expert pool a challenger seats a panel from: names and organisations   # an open auction's board: bidders and watchers see the same
READERS = frozenset({"admin", "analyst"})
ADMIN = frozenset({"admin"})
NOBODY = frozenset()


@dataclass(frozen=True)
class Read:
    template: str
    path: str
    allowed: frozenset[str]
    listed: int | None = None      # for a list: the id that must be in it exactly for the allowed roles
    params: dict | None = None


def _other_world(world: World, api) -> dict[str, int]:
    """Records of second organisations, which none of the five callers belongs to."""
    engine = world.engine
    with engine.connect() as conn:
        second = {kind: conn.scalar(select(Organisation.id).where(Organisation.kind == kind)
                                    .order_by(Organisation.id).offset(1).limit(1))
                  for kind in ("university", "enterprise", "agency")}
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        office_user, _ = create_user(session, role="office", organisation_id=second["university"], name="他校用户")
        firm_user, _ = create_user(session, role="firm", organisation_id=second["enterprise"], name="他企用户")
        broker_user, broker_token = create_user(session, role="broker", organisation_id=second["agency"],
                                                name="他机构经纪人")
        ids = {"office_user": office_user.id, "firm_user": firm_user.id}
    with engine.begin() as conn:
        def add(model, **values) -> int:
            return conn.execute(insert(model).returning(model.id), [values]).scalar_one()

        place = {"region_code": world.region}
        ids["a_draft"] = add(Achievement, title="他校草稿成果", status="draft", organisation_id=second["university"],
                             **place)
        ids["a_pending"] = add(Achievement, title="他校待审成果", status="pending_review",
                               organisation_id=second["university"], **place)
        ids["a_published"] = add(Achievement, title="他校已发布成果", status="published",
                                 organisation_id=second["university"], confidential_detail="他校核心配方", **place)
        ids["d_draft"] = add(Demand, title="他企草稿需求", status="draft", organisation_id=second["enterprise"], **place)
        ids["d_pending"] = add(Demand, title="他企待审需求", status="pending_review",
                               organisation_id=second["enterprise"], **place)
        d_published = add(Demand, title="他企已发布需求", status="published", organisation_id=second["enterprise"],
                          **place)
        broker_id = conn.scalar(select(Broker.id).where(Broker.user_id == broker_user.id))
        ids["pipeline"] = add(Pipeline, demand_id=d_published, achievement_id=ids["a_published"],
                              broker_id=broker_id, stage="claimed", version=1)
        signing = add(Pipeline, demand_id=add(Demand, title="他企签约需求", status="published",
                                              organisation_id=second["enterprise"], **place),
                      achievement_id=add(Achievement, title="他校签约成果", status="published",
                                         organisation_id=second["university"], **place),
                      broker_id=broker_id, stage="negotiating", version=3)
        ids["inbox"] = add(InboxEntry, organisation_id=second["enterprise"], demand_id=d_published,
                           achievement_id=ids["a_published"], score=0.5, reason="他企的推送")
        ids["subscription"] = add(Subscription, user_id=office_user.id, library="demands", keywords="他校订阅")
        ids["notice"] = add(SubscriptionNotice, user_id=office_user.id, library="demands", record_id=d_published)
        ids["introduction"] = add(Introduction, demand_id=d_published, achievement_id=ids["a_published"],
                                  from_side="demands", requested_by=firm_user.id, status="accepted", message="",
                                  answer_note="")
        ids["deal"] = f"/deals/{d_published}/{ids['a_published']}"
        ids["my_notice"] = add(Notice, user_id=office_user.id, kind="deal_stage", event="others", title="他校提醒",
                               body="", link="", email_attempts=0, email_error="")
        ids["feedback"] = add(Feedback, demand_id=d_published, achievement_id=ids["a_published"],
                              user_id=firm_user.id, relevant=True)
        # a challenge of the second firm, awarded to the second university's proposal, with its PDF and a score
        from matchmaker.models import Challenge, Milestone, Proposal, ProposalAttachment, ProposalScore

        ids["challenge"] = add(Challenge, organisation_id=second["enterprise"], title="他企榜单", requirements="他企榜单需求",
                               bounty=100000, deadline=dt.date.today(), criteria=[{"name": "先进性", "weight": 100}],
                               status="open")
        ids["proposal"] = add(Proposal, challenge_id=ids["challenge"], organisation_id=second["university"],
                              team="他校团队", summary="他校方案")
        ids["attachment"] = add(ProposalAttachment, proposal_id=ids["proposal"], filename="他校方案.pdf",
                                sha256="0" * 64, size=9, content=b"%PDF-1.4\n")
        conn.execute(insert(ProposalScore), [{"proposal_id": ids["proposal"], "user_id": office_user.id,
                                              "scores": [90], "total": 90}])
        add(Milestone, challenge_id=ids["challenge"], seq=1, title="他校里程碑", due_on=dt.date.today(), amount=100000,
            status="planned")
    noticed(engine, signing)
    signed = api.post(f"/pipelines/{signing}/contract", json=contract_terms(signing),
                      headers={"Authorization": f"Bearer {broker_token}"})
    assert signed.status_code == 201, signed.text
    ids["contract"] = signed.json()["id"]
    with engine.begin() as conn:   # the other parties' signed text
        conn.execute(insert(ContractDocument), [{"contract_id": ids["contract"], "filename": "他校合同.pdf",
                                                 "sha256": "0" * 64, "size": 9, "content": b"%PDF-1.4\n"}])
    return ids


def _reads(ids: dict[str, int]) -> list[Read]:
    analytics = [Read(f"/analytics/{name}", f"/analytics/{name}", READERS)
                 for name in ("turnover", "local-conversion", "funnel", "brokers", "registry")]
    return [
        Read("/achievements/{achievement_id}", f"/achievements/{ids['a_draft']}", ADMIN),
        Read("/achievements/{achievement_id}", f"/achievements/{ids['a_pending']}", READERS),
        Read("/achievements/{achievement_id}/matches", f"/achievements/{ids['a_draft']}/matches", ADMIN),
        Read("/achievements", "/achievements", ADMIN, ids["a_draft"], {"status": "draft", "limit": 200}),
        Read("/achievements", "/achievements", READERS, ids["a_pending"], {"status": "pending_review", "limit": 200}),
        Read("/demands/{demand_id}", f"/demands/{ids['d_draft']}", ADMIN),
        Read("/demands/{demand_id}", f"/demands/{ids['d_pending']}", READERS),
        Read("/demands/{demand_id}/matches", f"/demands/{ids['d_draft']}/matches", ADMIN),
        Read("/demands", "/demands", ADMIN, ids["d_draft"], {"status": "draft", "limit": 200}),
        Read("/demands", "/demands", READERS, ids["d_pending"], {"status": "pending_review", "limit": 200}),
        Read("/pipelines/{pipeline_id}", f"/pipelines/{ids['pipeline']}", READERS),
        Read("/pipelines", "/pipelines", READERS, ids["pipeline"], {"limit": 200}),
        Read("/contracts/{contract_id}", f"/contracts/{ids['contract']}", READERS),
        Read("/contracts", "/contracts", READERS, ids["contract"], {"limit": 200}),
        Read("/contracts/{contract_id}/document", f"/contracts/{ids['contract']}/document", READERS),
        Read("/contracts/{contract_id}/after-signing", f"/contracts/{ids['contract']}/after-signing", READERS),
        Read("/contracts/export", "/contracts/export", READERS),
        Read("/feedback", "/feedback", READERS, ids["feedback"], {"limit": 200}),
        Read("/inbox", "/inbox", NOBODY, ids["inbox"], {"limit": 200}),
        Read("/subscriptions/{subscription_id}", f"/subscriptions/{ids['subscription']}", NOBODY),
        Read("/subscriptions", "/subscriptions", NOBODY, ids["subscription"]),
        Read("/notices", "/notices", NOBODY, ids["notice"], {"limit": 200}),
        Read("/users/{user_id}", f"/users/{ids['office_user']}", ADMIN),
        Read("/introductions/{introduction_id}", f"/introductions/{ids['introduction']}", ADMIN),
        Read("/introductions", "/introductions", NOBODY, ids["introduction"], {"limit": 200}),
        Read("/deals/{demand_id}/{achievement_id}", str(ids["deal"]), ADMIN),
        Read("/me/notices", "/me/notices", NOBODY, ids["my_notice"], {"limit": 200}),
        Read("/audit", "/audit", ADMIN),
        Read("/achievements/{achievement_id}/evaluations", f"/achievements/{ids['a_draft']}/evaluations", ADMIN),
        Read("/challenges/{challenge_id}/proposals", f"/challenges/{ids['challenge']}/proposals", ADMIN,
             ids["proposal"]),
        Read("/challenges/attachments/{attachment_id}", f"/challenges/attachments/{ids['attachment']}", ADMIN),
        Read("/challenges/{challenge_id}/scores", f"/challenges/{ids['challenge']}/scores", ADMIN),
        Read("/challenges/{challenge_id}/panel", f"/challenges/{ids['challenge']}/panel", ADMIN),
        Read("/challenges/{challenge_id}/milestones", f"/challenges/{ids['challenge']}/milestones", ADMIN),
        *analytics,
    ]


def _items(body) -> list[dict]:
    return body["items"] if isinstance(body, dict) else body


def test_every_read_route_is_classified(api):
    from litestar.routes import HTTPRoute

    routes = {route.path_format for route in api.app.routes
              if isinstance(route, HTTPRoute) and "GET" in route.methods and not route.path_format.startswith(NOT_API)}
    covered = {read.template for read in _reads(dict.fromkeys(
        ("a_draft", "a_pending", "d_draft", "d_pending", "pipeline", "contract", "feedback", "inbox",
         "subscription", "notice", "office_user", "introduction", "deal", "my_notice", "challenge", "proposal",
         "attachment"), 1))}
    assert routes - covered - SHARED == set(), "GET routes with no read expectation; add them to _reads or SHARED"
    assert (covered | SHARED) - routes == set(), "expectations for routes the app no longer has"


def test_reads_of_another_organisations_data(api, seeded_url):
    world = _world(seeded_url)
    problems = []
    try:
        ids = _other_world(world, api)
        for read in _reads(ids):
            for role in ROLES:
                response = api.get(read.path, params=read.params or {}, headers=world.headers[role])
                allowed = role in read.allowed
                label = f"{role:8} GET {read.path} {read.params or ''} -> {response.status_code}"
                if read.listed is None:
                    if allowed != (response.status_code == 200) or (not allowed and response.status_code not in (403, 404)):
                        problems.append(f"{label}: {'allowed' if allowed else 'refused'} expected")
                    continue
                if response.status_code in (403, 404) and not allowed:
                    continue
                if response.status_code != 200:
                    problems.append(f"{label}: expected 200")
                    continue
                present = read.listed in {item["id"] for item in _items(response.json())}
                if present != allowed:
                    problems.append(f"{label}: id {read.listed} {'missing' if allowed else 'listed'}")
        # confidential detail of another organisation's published achievement: admins only (grants in F9's test)
        for role in ROLES:
            detail = api.get(f"/achievements/{ids['a_published']}", headers=world.headers[role]).json()
            if (detail["confidential_detail"] is not None) != (role == "admin"):
                problems.append(f"{role:8} confidential_detail of another office: {detail['confidential_detail']!r}")
    finally:
        world.engine.dispose()
    assert not problems, "\n".join(problems)
