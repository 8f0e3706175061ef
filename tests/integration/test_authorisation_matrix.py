"""Every role against every write route of the API: who may, who may not, and that a refusal changes nothing.

The write routes are read from the application itself, so a new POST/PUT/PATCH/DELETE fails this test until it
is given a row in EXPECTED. Each route gets one request aimed at records of the caller's own organisation where
that is what makes the call legitimate (the office's achievement, the firm's demand, the broker's pipeline, ...).
Roles outside the allowed set must get 403 or 404 and leave every table exactly as it was (row counts and a digest
of the rows); allowed roles must get a 2xx or a non-authorisation 4xx (400, 409, 422).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from live_server import contract_terms, noticed
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.pool import StaticPool

from matchmaker import vocabulary as v
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import create_user
from matchmaker.models import (
    Achievement,
    Base,
    Broker,
    Demand,
    InboxEntry,
    Introduction,
    Notice,
    Organisation,
    Pipeline,
    Region,
    Subscription,
    SubscriptionNotice,
    TechnologyField,
)

# One database is enough for who-may-do-what (the rules live in Python, not SQL); the snapshots make it ~30 s a run.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ROLES = ("office", "firm", "broker", "analyst", "admin", "expert")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NOT_API = ("/web", "/schema")  # the pages (session login + CSRF, tested with the pages) and the spec's own routes
FORBIDDEN = {403, 404}
ALLOWED_NON_2XX = {400, 409, 422}


@dataclass
class World:
    """The actors' ids and headers, and helpers that make fresh records for one route's request."""

    engine: object
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, int]
    orgs: dict[str, int]
    broker_id: int
    region: str

    def achievement(self, status: str) -> int:
        return self._insert(Achievement, {"title": f"矩阵成果-{status}", "status": status, "trl": 5,
                                          "summary": "授权矩阵测试用的成果简介，内容足够提交审核。", "field_code": self.field,
                                          "organisation_id": self.orgs["office"], "region_code": self.region})

    def demand(self, status: str) -> int:
        return self._insert(Demand, {"title": f"矩阵需求-{status}", "status": status, "field_code": self.field,
                                     "problem": "授权矩阵测试用的技术难题描述，内容足够提交审核。",
                                     "organisation_id": self.orgs["firm"], "region_code": self.region})

    @property
    def field(self) -> str:
        with self.engine.connect() as conn:
            return conn.scalar(select(TechnologyField.code).order_by(TechnologyField.code))

    def pipeline(self, stage: str, version: int = 1) -> int:
        pipeline_id = self._insert(Pipeline, {"demand_id": self.demand("published"),
                                              "achievement_id": self.achievement("published"),
                                              "broker_id": self.broker_id, "stage": stage, "version": version})
        if stage == "negotiating":
            noticed(self.engine, pipeline_id)   # the price notice a university's negotiated deal needs to sign
        return pipeline_id

    def inbox_entry(self) -> int:
        return self._insert(InboxEntry, {"organisation_id": self.orgs["firm"], "demand_id": self.demand("published"),
                                         "achievement_id": self.achievement("published"), "score": 0.5,
                                         "reason": "matrix"})

    def subscription(self) -> int:  # the office user's own
        return self._insert(Subscription, {"user_id": self.user_ids["office"], "library": "achievements",
                                           "keywords": "矩阵"})

    def notice(self) -> int:  # the office user's own
        return self._insert(SubscriptionNotice, {"user_id": self.user_ids["office"], "library": "demands",
                                                 "record_id": self.demand("published")})

    def introduction(self, status: str) -> int:
        """The firm's interest in the office's achievement, pending or already accepted."""
        return self._insert(Introduction, {"demand_id": self.demand("published"),
                                           "achievement_id": self.achievement("published"), "from_side": "demands",
                                           "requested_by": self.user_ids["firm"], "status": status,
                                           "message": "", "answer_note": ""})

    def accepted_pair(self) -> str:
        with self.engine.connect() as conn:
            row = conn.execute(select(Introduction.demand_id, Introduction.achievement_id).where(
                Introduction.id == self.introduction("accepted"))).one()
        return f"/deals/{row[0]}/{row[1]}"

    def my_notice(self) -> int:  # the office user's own
        return self._insert(Notice, {"user_id": self.user_ids["office"], "kind": "deal_stage",
                                     "event": f"matrix:{next(REGISTRATIONS)}", "title": "矩阵提醒", "body": "",
                                     "link": "", "email_attempts": 0, "email_error": ""})

    def user(self) -> int:
        with transaction(make_session_factory(self.engine)) as session:
            user, _ = create_user(session, role="office", organisation_id=self.orgs["office"], name="矩阵-被撤销")
            return user.id

    def _insert(self, model, values: dict) -> int:
        with self.engine.begin() as conn:
            return conn.execute(insert(model).returning(model.id), [values]).scalar_one()


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str]
    request: Callable  # (world, api) -> (path, json body or None, extra kwargs)


def allow(*roles: str) -> frozenset[str]:
    return frozenset(roles)


def _contract(world: World, api) -> int:
    """A signed contract, through the API as the broker holding the pipeline."""
    pipeline_id = world.pipeline("negotiating", version=3)
    response = api.post(f"/pipelines/{pipeline_id}/contract", json=contract_terms(pipeline_id),
                        headers=world.headers["broker"])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _form(world: World, **overrides) -> dict:
    """A licence between the world's office (seller) and firm (buyer), as the registration form has it."""
    signed = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    return {"seller_id": world.orgs["office"], "buyer_id": world.orgs["firm"], "title": "矩阵许可合同",
            "contract_type": "licence", "sub_type": "patent", "amount": "100000.00", "payment_mode": "royalty",
            "signed_on": signed, "field_code": "clean_energy", **overrides}


def _submitted(world: World, api, **overrides) -> int:
    response = api.post("/contracts", json=_form(world, **overrides), headers=world.headers["firm"])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _payment(world: World, api) -> str:
    contract_id = _submitted(world, api)
    response = api.post(f"/contracts/{contract_id}/payments", headers=world.headers["firm"],
                        json={"title": "矩阵付款", "due_on": TODAY, "amount": "1000.00"})
    assert response.status_code == 201, response.text
    return f"/contracts/{contract_id}/payments/{response.json()['id']}"


def _days(n: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=n)).isoformat()


def _unlisted(world: World) -> int:
    """A published achievement of the world's office with no open listing (a fresh one each call)."""
    return world.achievement("published")


def _listing(world: World, api, *, expired: bool = False) -> int:
    """An open listing of the office's achievement (or one that has just ended, for a relisting)."""
    from matchmaker.models import Listing

    now = dt.datetime.now(dt.UTC)
    ends = now - dt.timedelta(minutes=1) if expired else now + dt.timedelta(days=30)
    return world._insert(Listing, {"achievement_id": _unlisted(world), "seller_id": world.orgs["office"],
                                   "price": "100000.00", "starts_at": now - dt.timedelta(days=2), "ends_at": ends,
                                   "status": "open", "created_at": now})


def _open_auction(world: World, *, bidder: bool | None = None) -> int:
    """An open auction of the office's achievement; with `bidder`, the world's firm registered (deposit paid or not)."""
    from matchmaker.models import Auction, AuctionBidder

    now = dt.datetime.now(dt.UTC)
    auction_id = world._insert(Auction, {
        "achievement_id": _unlisted(world), "seller_id": world.orgs["office"], "starting_price": "100000.00",
        "increment": "1000.00", "starts_at": now - dt.timedelta(minutes=1), "ends_at": now + dt.timedelta(days=1),
        "scheduled_end": now + dt.timedelta(days=1), "extend_seconds": 300, "status": "open", "bids": 0,
        "created_at": now})
    if bidder is not None:
        with world.engine.begin() as conn:
            conn.execute(AuctionBidder.__table__.insert(), [{"auction_id": auction_id, "organisation_id": world.orgs["firm"],
                                                             "deposit_paid": bidder, "registered_at": now}])
    return auction_id


def _price_notice(world: World) -> int:
    from matchmaker.models import PriceNotice

    today = dt.date.today()
    return world._insert(PriceNotice, {"achievement_id": _unlisted(world), "seller_id": world.orgs["office"],
                                       "buyer_id": world.orgs["firm"], "price": "300000.00", "starts_on": today,
                                       "ends_on": today + dt.timedelta(days=15), "created_at": dt.datetime.now(dt.UTC)})


def _challenge(world: World, *, publisher: str = "firm", stage: str = "open") -> dict[str, int]:
    """A 揭榜挂帅 challenge of the world's firm (or the department, `publisher="analyst"`) at a stage: open;
    panel (the world's expert on the panel, the office's proposal in); declared (the expert declared no conflict,
    the call for proposals over); scored; awarded (a planned milestone); delivered (the milestone delivered)."""
    from matchmaker.models import Challenge, ConflictDeclaration, Milestone, PanelMember, Proposal, ProposalScore

    now, today = dt.datetime.now(dt.UTC), dt.date.today()
    over = stage not in ("open", "panel")
    ids = {"challenge": world._insert(Challenge, {
        "organisation_id": world.orgs[publisher], "title": "矩阵榜单", "requirements": "矩阵测试用的榜单需求，内容足够。",
        "bounty": "100000.00", "deadline": today + dt.timedelta(days=-1 if over else 10),
        "criteria": [{"name": "技术先进性", "weight": 100}], "status": "open", "created_at": now})}
    if stage == "open":
        return ids
    ids["proposal"] = world._insert(Proposal, {"challenge_id": ids["challenge"], "organisation_id": world.orgs["office"],
                                               "team": "矩阵团队", "summary": "矩阵测试用的方案摘要。", "created_at": now})
    with world.engine.begin() as conn:
        conn.execute(insert(PanelMember), [{"challenge_id": ids["challenge"], "user_id": world.user_ids["expert"],
                                            "added_at": now}])
        if stage != "panel":
            conn.execute(insert(ConflictDeclaration), [{"proposal_id": ids["proposal"], "user_id": world.user_ids["expert"],
                                                        "conflicted": False, "declared_at": now}])
        if stage in ("scored", "awarded", "delivered"):
            conn.execute(insert(ProposalScore), [{"proposal_id": ids["proposal"], "user_id": world.user_ids["expert"],
                                                  "scores": [80], "total": "80.00", "scored_at": now}])
        if stage in ("awarded", "delivered"):
            conn.execute(Challenge.__table__.update().where(Challenge.id == ids["challenge"])
                         .values(status="awarded", winner_id=ids["proposal"], awarded_at=now))
    if stage in ("awarded", "delivered"):
        ids["milestone"] = world._insert(Milestone, {
            "challenge_id": ids["challenge"], "seq": 1, "title": "矩阵里程碑", "due_on": today, "amount": "100000.00",
            "status": "planned" if stage == "awarded" else "delivered"})
    return ids


def _objection(world: World) -> int:
    from matchmaker.models import Objection

    return world._insert(Objection, {"notice_id": _price_notice(world), "user_id": world.user_ids["firm"],
                                     "reason": "矩阵异议：价格偏低", "created_at": dt.datetime.now(dt.UTC)})


def _registry_csv(world: World, api) -> bytes:
    """One contract between two parties of the registrar's market (the world's first city)."""
    header = "项目名称,合同类别,合同细类,签订日期,合同成交额（元）,支付方式,卖方名称,卖方类型,卖方所在地区代码,买方名称,买方类型,买方所在地区代码,技术领域"
    row = f"矩阵导入合同,技术服务,一般技术服务,{TODAY},5000,一次性支付,矩阵卖方,高等院校,{world.region},矩阵买方,民营企业,{world.region},洁净能源"
    return f"{header}\n{row}\n".encode()


def _achievement_body(world: World) -> dict:
    return {"title": "矩阵新成果", "trl": 5, "organisation_id": world.orgs["office"]}


def _demand_body(world: World) -> dict:
    return {"title": "矩阵新需求", "min_trl": 3, "organisation_id": world.orgs["firm"]}


JSONL = {"content": '{"title": "矩阵导入", "status": "draft"}\n'.encode(), "headers": {"content-type": "application/x-ndjson"}}
TODAY = dt.date.today().isoformat()
REGISTRATIONS = itertools.count(1)

# (method, path template) -> who may, and the request. Owner roles act on their own organisation's records.
EXPECTED: dict[tuple[str, str], Case] = {
    ("POST", "/users"): Case(allow("admin"), lambda w, api: (
        "/users", {"role": "office", "organisation_id": w.orgs["office"], "name": "矩阵新用户"}, {})),
    ("POST", "/users/{user_id}/revoke"): Case(allow("admin"), lambda w, api: (f"/users/{w.user()}/revoke", None, {})),
    # another user's token: admins only (everyone may rotate their own, tested in test_attack_round)
    ("POST", "/users/{user_id}/token"): Case(allow("admin"), lambda w, api: (f"/users/{w.user()}/token", None, {})),
    ("POST", "/achievements/{achievement_id}/grants"): Case(allow("office", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('published')}/grants", {"organisation_id": w.orgs["firm"]}, {})),
    ("POST", "/organisations"): Case(allow("admin"), lambda w, api: (
        "/organisations", {"name": "矩阵新机构", "kind": "enterprise"}, {})),
    # achievements: the office's own; admins act on anyone's; analysts review
    ("POST", "/achievements"): Case(allow("office", "admin"), lambda w, api: ("/achievements", _achievement_body(w), {})),
    ("PATCH", "/achievements/{achievement_id}"): Case(allow("office", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('draft')}", {"title": "矩阵改名"}, {})),
    ("POST", "/achievements/{achievement_id}/submit"): Case(allow("office", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('draft')}/submit", None, {})),
    ("POST", "/achievements/{achievement_id}/approve"): Case(allow("analyst", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('pending_review')}/approve", None, {})),
    ("POST", "/achievements/{achievement_id}/reject"): Case(allow("analyst", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('pending_review')}/reject", {"note": "请补充知识产权信息"}, {})),
    ("POST", "/achievements/{achievement_id}/withdraw"): Case(allow("office", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('published')}/withdraw", None, {})),
    ("POST", "/achievements/{achievement_id}/transfer"): Case(allow("office", "admin"), lambda w, api: (
        f"/achievements/{w.achievement('published')}/transfer", None, {})),
    ("POST", "/achievements/import"): Case(allow("office", "admin"), lambda w, api: ("/achievements/import", None, JSONL)),
    # demands: the firm's own
    ("POST", "/demands"): Case(allow("firm", "admin"), lambda w, api: ("/demands", _demand_body(w), {})),
    ("PATCH", "/demands/{demand_id}"): Case(allow("firm", "admin"), lambda w, api: (
        f"/demands/{w.demand('draft')}", {"title": "矩阵改名"}, {})),
    ("POST", "/demands/{demand_id}/submit"): Case(allow("firm", "admin"), lambda w, api: (
        f"/demands/{w.demand('draft')}/submit", None, {})),
    ("POST", "/demands/{demand_id}/approve"): Case(allow("analyst", "admin"), lambda w, api: (
        f"/demands/{w.demand('pending_review')}/approve", None, {})),
    ("POST", "/demands/{demand_id}/reject"): Case(allow("analyst", "admin"), lambda w, api: (
        f"/demands/{w.demand('pending_review')}/reject", {"note": "请写明预算"}, {})),
    ("POST", "/demands/{demand_id}/withdraw"): Case(allow("firm", "admin"), lambda w, api: (
        f"/demands/{w.demand('published')}/withdraw", None, {})),
    ("POST", "/demands/{demand_id}/solve"): Case(allow("firm", "admin"), lambda w, api: (
        f"/demands/{w.demand('published')}/solve", None, {})),
    ("POST", "/demands/import"): Case(allow("firm", "admin"), lambda w, api: ("/demands/import", None, JSONL)),
    # push: an inbox entry of the firm's organisation; the office user's own subscription; anyone may subscribe
    ("POST", "/inbox/{entry_id}/dismiss"): Case(allow("firm"), lambda w, api: (
        f"/inbox/{w.inbox_entry()}/dismiss", None, {})),
    ("POST", "/subscriptions"): Case(allow(*ROLES), lambda w, api: (
        "/subscriptions", {"library": "demands", "keywords": "氢能"}, {})),
    ("PATCH", "/subscriptions/{subscription_id}"): Case(allow("office"), lambda w, api: (
        f"/subscriptions/{w.subscription()}", {"keywords": "储能"}, {})),
    ("DELETE", "/subscriptions/{subscription_id}"): Case(allow("office"), lambda w, api: (
        f"/subscriptions/{w.subscription()}", None, {})),
    ("POST", "/notices/{notice_id}/dismiss"): Case(allow("office"), lambda w, api: (
        f"/notices/{w.notice()}/dismiss", None, {})),
    # brokerage: only brokers claim; the holding broker moves and signs; admins register
    ("POST", "/pipelines"): Case(allow("broker"), lambda w, api: (
        "/pipelines", {"demand_id": w.demand("published"), "achievement_id": w.achievement("published")}, {})),
    ("POST", "/pipelines/{pipeline_id}/moves"): Case(allow("broker"), lambda w, api: (
        f"/pipelines/{w.pipeline('claimed')}/moves", {"to_stage": "contacted"}, {})),
    ("POST", "/pipelines/{pipeline_id}/contract"): Case(allow("broker"), lambda w, api: (
        (lambda p: (f"/pipelines/{p}/contract", contract_terms(p), {}))(w.pipeline("negotiating", version=3)))),
    ("POST", "/contracts/{contract_id}/register"): Case(allow("admin", "analyst"), lambda w, api: (
        f"/contracts/{_contract(w, api)}/register", None, {})),
    ("POST", "/contracts/{contract_id}/return"): Case(allow("admin", "analyst"), lambda w, api: (
        f"/contracts/{_contract(w, api)}/return", {"reason": "矩阵退回"}, {})),
    ("PATCH", "/contracts/{contract_id}/registration"): Case(allow("admin"), lambda w, api: (
        f"/contracts/{_contract(w, api)}/registration",
        {"registration_number": f"矩阵登记-{next(REGISTRATIONS)}", "registered_on": TODAY}, {})),
    # the registry: the parties submit, correct and attach; registrars import; after signing, the parties record
    # milestones and receipts and the trial's outcome, the buyer its royalties, the seller its inventors' shares
    ("POST", "/contracts"): Case(allow("office", "firm"), lambda w, api: ("/contracts", _form(w), {})),
    ("PUT", "/contracts/{contract_id}"): Case(allow("office", "firm"), lambda w, api: (
        f"/contracts/{_submitted(w, api)}", {k: v for k, v in _form(w).items() if not k.endswith("_id")}, {})),
    ("PUT", "/contracts/{contract_id}/document"): Case(allow("office", "firm"), lambda w, api: (
        f"/contracts/{_submitted(w, api)}/document", None,
        {"content": b"%PDF-1.4\n%%EOF\n", "headers": {"content-type": "application/pdf"}})),
    ("POST", "/contracts/import"): Case(allow("analyst", "admin"), lambda w, api: (
        "/contracts/import", None, {"content": _registry_csv(w, api), "headers": {"content-type": "text/csv"}})),
    ("POST", "/contracts/{contract_id}/payments"): Case(allow("office", "firm"), lambda w, api: (
        f"/contracts/{_submitted(w, api)}/payments", {"title": "首付款", "due_on": TODAY, "amount": "1000.00"}, {})),
    ("POST", "/contracts/{contract_id}/payments/{payment_id}/receipt"): Case(allow("office", "firm"), lambda w, api: (
        f"{_payment(w, api)}/receipt", {"received_on": TODAY, "received_amount": "1000.00"}, {})),
    ("POST", "/contracts/{contract_id}/trial-outcome"): Case(allow("office", "firm"), lambda w, api: (
        f"/contracts/{_submitted(w, api, payment_mode='use_first_pay_later', trial_ends_on=TODAY)}/trial-outcome",
        {"outcome": "converted", "on": TODAY}, {})),
    ("POST", "/contracts/{contract_id}/royalty-reports"): Case(allow("firm"), lambda w, api: (
        f"/contracts/{_submitted(w, api)}/royalty-reports",
        {"period": TODAY[:4], "sales_amount": "100.00", "royalty_amount": "5.00"}, {})),
    ("POST", "/contracts/{contract_id}/shares"): Case(allow("office"), lambda w, api: (
        f"/contracts/{_submitted(w, api)}/shares", {"person": "矩阵完成人", "percent": "10", "basis": "reward"}, {})),
    # trading: the achievement's office lists and relists; a reviewed firm accepts
    ("POST", "/listings"): Case(allow("office"), lambda w, api: (
        "/listings", {"achievement_id": _unlisted(w), "price": "100000.00", "ends_at": _days(30)}, {})),
    ("POST", "/listings/{listing_id}/accept"): Case(allow("firm"), lambda w, api: (
        f"/listings/{_listing(w, api)}/accept", None, {})),
    ("POST", "/listings/{listing_id}/relist"): Case(allow("office"), lambda w, api: (
        f"/listings/{_listing(w, api, expired=True)}/relist", {"price": "90000.00", "ends_at": _days(30)}, {})),
    # auctions: the achievement's office opens and confirms deposits (admins too); a reviewed firm registers and,
    # with its deposit confirmed, bids
    ("POST", "/auctions"): Case(allow("office"), lambda w, api: ("/auctions", {
        "achievement_id": _unlisted(w), "starting_price": "100000.00", "increment": "1000.00",
        "starts_at": _days(0), "ends_at": _days(7)}, {})),
    ("POST", "/auctions/{auction_id}/bidders"): Case(allow("firm"), lambda w, api: (
        f"/auctions/{_open_auction(w)}/bidders", None, {})),
    ("POST", "/auctions/{auction_id}/bidders/{organisation_id}/deposit"): Case(allow("office", "admin"), lambda w, api: (
        f"/auctions/{_open_auction(w, bidder=False)}/bidders/{w.orgs['firm']}/deposit", None, {})),
    ("POST", "/auctions/{auction_id}/bids"): Case(allow("firm"), lambda w, api: (
        f"/auctions/{_open_auction(w, bidder=True)}/bids", {"amount": "100000.00"}, {})),
    # 协议定价公示: the achievement's office publishes (a university's) and answers; anyone signed in objects
    ("POST", "/price-notices"): Case(allow("office"), lambda w, api: (
        "/price-notices", {"achievement_id": _unlisted(w), "buyer_id": w.orgs["firm"], "price": "300000.00"}, {})),
    ("POST", "/price-notices/{notice_id}/objections"): Case(allow(*ROLES), lambda w, api: (
        f"/price-notices/{_price_notice(w)}/objections", {"reason": "矩阵异议：价格偏低"}, {})),
    ("POST", "/price-notices/objections/{objection_id}/resolve"): Case(allow("office"), lambda w, api: (
        f"/price-notices/objections/{_objection(w)}/resolve", {"resolution": "矩阵答复：定价有评估依据"}, {})),
    # 揭榜挂帅: a firm (or a department) publishes; teams propose and attach; the challenger (or an admin) seats
    # experts; an expert on the panel declares and scores; the challenger awards and pays; the winner delivers
    ("POST", "/challenges"): Case(allow("firm", "analyst", "admin"), lambda w, api: ("/challenges", {
        "title": "矩阵榜单", "requirements": "矩阵测试用的榜单需求，写清问题、指标和交付要求。", "bounty": "100000.00",
        "deadline": (dt.date.today() + dt.timedelta(days=30)).isoformat()}, {})),
    ("POST", "/challenges/{challenge_id}/close"): Case(allow("firm"), lambda w, api: (
        f"/challenges/{_challenge(w)['challenge']}/close", None, {})),
    ("POST", "/challenges/{challenge_id}/proposals"): Case(allow("office", "firm"), lambda w, api: (
        f"/challenges/{_challenge(w, publisher='analyst')['challenge']}/proposals",
        {"team": "矩阵团队", "summary": "矩阵测试用的方案摘要：技术路线、指标、进度和经费。"}, {})),
    ("POST", "/challenges/proposals/{proposal_id}/attachments"): Case(allow("office"), lambda w, api: (
        f"/challenges/proposals/{_challenge(w, stage='panel')['proposal']}/attachments", None,
        {"content": b"%PDF-1.4\n%%EOF\n", "headers": {"content-type": "application/pdf"}})),
    ("POST", "/challenges/{challenge_id}/panel"): Case(allow("firm", "admin"), lambda w, api: (
        f"/challenges/{_challenge(w)['challenge']}/panel", {"user_id": w.user_ids["expert"]}, {})),
    ("POST", "/challenges/proposals/{proposal_id}/declaration"): Case(allow("expert"), lambda w, api: (
        f"/challenges/proposals/{_challenge(w, stage='panel')['proposal']}/declaration", {"conflicted": False}, {})),
    ("PUT", "/challenges/proposals/{proposal_id}/score"): Case(allow("expert"), lambda w, api: (
        f"/challenges/proposals/{_challenge(w, stage='declared')['proposal']}/score", {"scores": [88]}, {})),
    ("POST", "/challenges/{challenge_id}/award"): Case(allow("firm"), lambda w, api: (
        lambda ids: (f"/challenges/{ids['challenge']}/award", {"proposal_id": ids["proposal"], "milestones": [
            {"title": "交付", "due_on": dt.date.today().isoformat(), "amount": "100000.00"}]}, {}))(
        _challenge(w, stage="scored"))),
    ("POST", "/challenges/milestones/{milestone_id}/deliver"): Case(allow("office"), lambda w, api: (
        f"/challenges/milestones/{_challenge(w, stage='awarded')['milestone']}/deliver", {"note": "矩阵交付说明"}, {})),
    ("POST", "/challenges/milestones/{milestone_id}/pay"): Case(allow("firm"), lambda w, api: (
        f"/challenges/milestones/{_challenge(w, stage='delivered')['milestone']}/pay", {"reference": "矩阵凭证"}, {})),
    # 科技成果评价: an evaluation centre's expert files a report on a published achievement
    ("POST", "/achievements/{achievement_id}/evaluations"): Case(allow("expert"), lambda w, api: (
        f"/achievements/{w.achievement('published')}/evaluations", {
            "trl_assessed": 6, "value_low": "800000.00", "value_high": "1200000.00", "method": "income",
            "evaluated_on": dt.date.today().isoformat(), "signatory": "矩阵评价人", "conclusion": "矩阵测试用的评价结论，内容足够。"},
        {})),
    # deals: the two owners express interest and give undertakings; the other side answers; the parties write
    ("POST", "/introductions"): Case(allow("office", "firm"), lambda w, api: (
        "/introductions", {"demand_id": w.demand("published"), "achievement_id": w.achievement("published")}, {})),
    ("POST", "/introductions/{introduction_id}/answer"): Case(allow("office"), lambda w, api: (
        f"/introductions/{w.introduction('pending')}/answer", {"accept": True}, {})),
    ("POST", "/introductions/{introduction_id}/undertaking"): Case(allow("office", "firm"), lambda w, api: (
        f"/introductions/{w.introduction('accepted')}/undertaking", None, {})),
    ("POST", "/deals/{demand_id}/{achievement_id}/messages"): Case(allow("office", "firm", "admin"), lambda w, api: (
        f"{w.accepted_pair()}/messages", {"body": "矩阵留言"}, {})),
    # one's own account: everyone sets their own address and preferences, and reads their own notices
    ("PATCH", "/me"): Case(allow(*ROLES), lambda w, api: ("/me", {"email": "matrix@example.test"}, {})),
    ("PUT", "/me/notice-preferences"): Case(allow(*ROLES), lambda w, api: (
        "/me/notice-preferences", {"deal_message": "daily"}, {})),
    ("POST", "/me/notices/{notice_id}/read"): Case(allow("office"), lambda w, api: (
        f"/me/notices/{w.my_notice()}/read", None, {})),
    # feedback on a match of the firm's demand and the office's achievement; brokers judge any match
    ("POST", "/feedback"): Case(allow("office", "firm", "broker"), lambda w, api: (
        "/feedback", {"demand_id": w.demand("published"), "achievement_id": w.achievement("published"),
                      "relevant": True}, {})),
}


def write_routes(app) -> set[tuple[str, str]]:
    from litestar.routes import HTTPRoute

    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format.startswith(NOT_API):
            continue
        for method in route.methods & WRITE_METHODS:
            found.add((method, route.path_format))
    return found


# Reference data and the generator's latent truth have no write route at all; leaving them out of the digest
# halves each snapshot (they hold more than half the world's rows).
STATIC_TABLES = {"regions", "technology_fields", "latent_fits", "worlds"}


def snapshot(engine) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per table that any route could write."""
    state = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in STATIC_TABLES or not conn.dialect.has_table(conn, table.name):
                continue
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            state[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


class Snapshots:
    """The database before and after each refused call, digested only when the call may have changed it.

    SQLite's `PRAGMA data_version` (read on a connection of its own) changes exactly when another connection
    commits: an unchanged version means an unchanged database. So before a refused call the database is only
    copied, page by page (the backup API: 20 ms for the demo world, where digesting every row takes 150 ms), and
    only if something committed since the last copy; both sides are digested only when the version moved during
    the call. PostgreSQL has no such counter, so there every refused call is digested before and after."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.watch = engine.connect() if engine.dialect.name == "sqlite" else None
        self.version: int | None = None
        self.copy: Engine | None = None

    def _version(self) -> int | None:
        return self.watch.exec_driver_sql("PRAGMA data_version").scalar() if self.watch is not None else None

    def before(self) -> tuple[object, int | None]:
        if self.watch is None:
            return snapshot(self.engine), None
        version = self._version()
        if self.copy is None or version != self.version:
            if self.copy is not None:
                self.copy.dispose()
            self.copy, self.version = _copy_of(self.engine), version
        return self.copy, version

    def changed(self, before: tuple[object, int | None]) -> list[str]:
        earlier, version = before
        if version is not None and self._version() == version:
            return []
        state = snapshot(earlier) if isinstance(earlier, Engine) else earlier
        after = snapshot(self.engine)
        return sorted(name for name in after if after[name] != state.get(name))

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        if self.copy is not None:
            self.copy.dispose()


def _copy_of(engine) -> Engine:
    """An in-memory copy of a SQLite database, taken with SQLite's online backup (a consistent snapshot)."""
    target = sqlite3.connect(":memory:", check_same_thread=False)
    source = sqlite3.connect(engine.url.database)
    try:
        source.backup(target)
    finally:
        source.close()
    return create_engine("sqlite://", creator=lambda: target, poolclass=StaticPool)


def _world(url: str) -> World:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with engine.connect() as conn:
        first = {kind: conn.scalar(select(Organisation.id).where(Organisation.kind == kind).order_by(Organisation.id))
                 for kind in ("university", "enterprise", "agency", "government", "evaluator")}
        region = conn.scalar(select(Region.code).where(Region.level == "city").order_by(Region.code))
    orgs = {"office": first["university"], "firm": first["enterprise"], "broker": first["agency"],
            "analyst": first["government"], "admin": first["government"], "expert": first["evaluator"]}
    headers, user_ids = {}, {}
    for role in ROLES:
        with transaction(factory) as session:
            user, token = create_user(session, role=role, organisation_id=orgs[role], name=f"矩阵-{role}")
            user_ids[role] = user.id
        headers[role] = {"Authorization": f"Bearer {token}"}
    with engine.connect() as conn:
        broker_id = conn.scalar(select(Broker.id).where(Broker.user_id == user_ids["broker"]))
    return World(engine, headers, user_ids, orgs, broker_id, region)


def test_every_write_route_has_an_expectation(api):
    routes = write_routes(api.app)
    assert routes, "no write routes found: did the route enumeration break?"
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, f"write routes without an authorisation expectation in EXPECTED: {missing}"
    assert not stale, f"EXPECTED names routes the app no longer has: {stale}"


def test_authorisation_matrix(api, seeded_url):
    world = _world(seeded_url)
    snapshots = Snapshots(world.engine)
    outcomes: list[tuple[str, str, int, bool]] = []
    problems: list[str] = []
    try:
        for (method, template), case in sorted(EXPECTED.items()):
            # Refused roles first, on fresh records, so the answer cannot depend on what an allowed call changed.
            ordered = [r for r in ROLES if r not in case.allowed] + [r for r in ROLES if r in case.allowed]
            for role in ordered:
                path, body, extra = case.request(world, api)
                headers = {**world.headers[role], **extra.get("headers", {})}
                kwargs = {"json": body} if body is not None else {}
                if "content" in extra:
                    kwargs["content"] = extra["content"]
                allowed = role in case.allowed
                before = None if allowed else snapshots.before()
                response = api.request(method, path, headers=headers, **kwargs)
                status = response.status_code
                outcomes.append((f"{method} {template}", role, status, allowed))
                label = f"{role:8} {method} {template} -> {status}"
                if allowed:
                    if not (200 <= status < 300 or status in ALLOWED_NON_2XX):
                        problems.append(f"{label}: allowed, expected 2xx or {sorted(ALLOWED_NON_2XX)}: {response.text[:200]}")
                    continue
                if status not in FORBIDDEN:
                    problems.append(f"{label}: forbidden, expected 403/404: {response.text[:200]}")
                changed = snapshots.changed(before)
                if changed:
                    problems.append(f"{label}: forbidden call changed tables {changed}")
    finally:
        snapshots.close()
        world.engine.dispose()
    allowed_ok = sum(1 for _, _, status, allowed in outcomes if allowed and 200 <= status < 300)
    print(f"\nauthorisation matrix: {len(EXPECTED)} write routes x {len(ROLES)} roles = {len(outcomes)} calls; "
          f"{sum(1 for o in outcomes if not o[3])} refused, {sum(1 for o in outcomes if o[3])} allowed "
          f"({allowed_ok} of them 2xx)")
    assert not problems, "\n".join(problems)
    # The allowed requests are built to succeed; a non-2xx there means the request, not the rule, went wrong.
    not_2xx = [o for o in outcomes if o[3] and not 200 <= o[2] < 300]
    assert not not_2xx, f"allowed calls that did not succeed: {not_2xx}"


def test_only_the_holder_or_an_admin_lapses_a_pipeline(api, seeded_url):
    """The one rule that depends on the body: an admin may lapse a pipeline it does not hold (and only lapse it)."""
    world = _world(seeded_url)
    try:
        pipeline_id = world.pipeline("contacted", version=2)
        for role in ("office", "firm", "analyst"):
            refused = api.post(f"/pipelines/{pipeline_id}/moves", json={"to_stage": "lapsed"}, headers=world.headers[role])
            assert refused.status_code in FORBIDDEN, (role, refused.text)
        pushed = api.post(f"/pipelines/{pipeline_id}/moves", json={"to_stage": "negotiating"}, headers=world.headers["admin"])
        assert pushed.status_code in FORBIDDEN, pushed.text
        lapsed = api.post(f"/pipelines/{pipeline_id}/moves", json={"to_stage": "lapsed"}, headers=world.headers["admin"])
        assert lapsed.status_code == 201, lapsed.text
        with world.engine.connect() as conn:
            stage = conn.scalar(text("SELECT stage FROM pipelines WHERE id = :id"), {"id": pipeline_id})
        assert stage == v.PipelineStage.LAPSED.value
    finally:
        world.engine.dispose()


def test_the_snapshots_see_a_commit_made_between_before_and_after(migrated_url):
    """The matrix digests rows only when SQLite says something committed: a commit must still be caught."""
    engine = make_engine(migrated_url)
    snapshots = Snapshots(engine)
    try:
        quiet = snapshots.before()
        assert snapshots.changed(quiet) == []
        before = snapshots.before()
        region = snapshots.watch.scalar(select(Region.code).order_by(Region.code).limit(1))
        with engine.begin() as conn:
            conn.execute(insert(Organisation).values(name="快照测试企业", kind="enterprise", region_code=region))
        assert snapshots.changed(before) == ["organisations"]
    finally:
        snapshots.close()
        engine.dispose()
