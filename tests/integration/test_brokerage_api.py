"""Brokerage over HTTP: claim → contacted → negotiating → contract, its rules, feedback and idempotent retries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from live_server import noticed

from matchmaker.db import transaction
from matchmaker.models import Achievement, Contract, Demand, Feedback, IndexChange, Organisation, Pipeline, PriceNotice

TODAY = dt.date.today()


@dataclass
class Pair:
    demand_id: int
    firm_id: int
    achievement_id: int
    office_id: int


@dataclass
class World:
    pairs: list[Pair]
    agency_ids: list[int]


@pytest.fixture
def world(api) -> World:
    """Published, unexpired demands and achievements from the demo world, each used by one pair only."""
    with api.users.engine.connect() as conn:
        demands = conn.execute(
            select(Demand.id, Demand.organisation_id).where(
                Demand.status == "published", (Demand.deadline.is_(None)) | (Demand.deadline >= TODAY))
            .order_by(Demand.id).limit(12)).all()
        achievements = conn.execute(
            select(Achievement.id, Achievement.organisation_id).where(
                Achievement.status == "published",
                (Achievement.expires_on.is_(None)) | (Achievement.expires_on >= TODAY))
            .order_by(Achievement.id).limit(12)).all()
        agencies = conn.scalars(select(Organisation.id).where(Organisation.kind == "agency").order_by(Organisation.id))
        agency_ids = list(agencies)
    pairs = [Pair(d.id, d.organisation_id, a.id, a.organisation_id) for d, a in zip(demands, achievements)]
    return World(pairs, agency_ids)


def count(api, model, *where) -> int:
    with api.users.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where))


def claim(api, headers, pair: Pair, **extra):
    body = {"demand_id": pair.demand_id, "achievement_id": pair.achievement_id, "note": "见过双方"}
    return api.post("/pipelines", json=body, headers={**headers, **extra})


def move(api, headers, pipeline_id: int, to_stage: str, **body):
    moved = api.post(f"/pipelines/{pipeline_id}/moves", json={"to_stage": to_stage, **body}, headers=headers)
    if to_stage == "negotiating" and moved.status_code == 201:
        noticed(api.users.engine, pipeline_id)   # the office publishes the negotiated price, as it must
    return moved


def contract_terms(**overrides) -> dict:
    terms = {"contract_type": "transfer", "amount": "1234567.89", "certified_amount": "1000000.10",
             "payment_mode": "lump_sum", "signed_on": TODAY.isoformat()}
    return {**terms, **overrides}


def negotiating(api, broker, pair: Pair) -> dict:
    pipeline = claim(api, broker, pair).json()
    move(api, broker, pipeline["id"], "contacted")
    return move(api, broker, pipeline["id"], "negotiating").json()


def test_claim_to_signed_contract_with_parties_from_the_records(api, world):
    broker = api.users.headers("broker", world.agency_ids[0], name="李经纪")
    pair = world.pairs[0]
    claimed = claim(api, broker, pair)
    assert claimed.status_code == 201, claimed.text
    pipeline = claimed.json()
    assert (pipeline["stage"], pipeline["version"], len(pipeline["events"])) == ("claimed", 1, 1)
    assert move(api, broker, pipeline["id"], "contacted", note="电话联系").status_code == 201
    negotiated = move(api, broker, pipeline["id"], "negotiating", expected_version=2)
    assert negotiated.status_code == 201 and negotiated.json()["version"] == 3

    # A rival deal on the same achievement, still negotiating when the exclusive transfer lands.
    rival_pair = Pair(world.pairs[1].demand_id, world.pairs[1].firm_id, pair.achievement_id, pair.office_id)
    rival_deal = negotiating(api, broker, rival_pair)

    terms = contract_terms(payment_mode="use_first_pay_later", exclusive=True, close_demand=True,
                           trial_ends_on=(TODAY + dt.timedelta(days=180)).isoformat())
    signed = api.post(f"/pipelines/{pipeline['id']}/contract", json=terms, headers=broker)
    assert signed.status_code == 201, signed.text
    contract = signed.json()
    assert contract["amount"] == "1234567.89" and contract["certified_amount"] == "1000000.10"
    with api.users.engine.connect() as conn:
        buyer_region = conn.scalar(select(Organisation.region_code).where(Organisation.id == pair.firm_id))
        seller_region = conn.scalar(select(Organisation.region_code).where(Organisation.id == pair.office_id))
        stored = conn.execute(select(Contract.amount, Contract.certified_amount)).one()
        statuses = (conn.scalar(select(Achievement.status).where(Achievement.id == pair.achievement_id)),
                    conn.scalar(select(Demand.status).where(Demand.id == pair.demand_id)))
    assert (contract["buyer_id"], contract["buyer_region_code"]) == (pair.firm_id, buyer_region)
    assert (contract["seller_id"], contract["seller_region_code"]) == (pair.office_id, seller_region)
    assert (contract["demand_id"], contract["achievement_id"]) == (pair.demand_id, pair.achievement_id)
    assert str(stored.amount) == "1234567.89" and str(stored.certified_amount) == "1000000.10"
    assert tuple(statuses) == ("transferred", "solved")
    assert count(api, IndexChange, IndexChange.library == "achievements", IndexChange.record_id == pair.achievement_id) == 1
    assert count(api, IndexChange, IndexChange.library == "demands", IndexChange.record_id == pair.demand_id) == 1
    too_late = api.post(f"/pipelines/{rival_deal['id']}/contract", json=contract_terms(), headers=broker)
    assert too_late.status_code == 409 and "该成果已转让" in too_late.json()["detail"]
    assert api.get(f"/pipelines/{rival_deal['id']}", headers=broker).json()["stage"] == "negotiating"
    assert claim(api, broker, Pair(world.pairs[2].demand_id, 0, pair.achievement_id, 0)).status_code == 409

    detail = api.get(f"/pipelines/{pipeline['id']}", headers=broker).json()
    assert detail["stage"] == "signed" and detail["contract_id"] == contract["id"]
    assert [(e["from_stage"], e["to_stage"]) for e in detail["events"]] == [
        (None, "claimed"), ("claimed", "contacted"), ("contacted", "negotiating"), ("negotiating", "signed")]
    assert detail["events"][1]["note"] == "电话联系" and detail["events"][1]["actor_user_id"] is not None

    # Who sees the contract: the broker, both parties, analysts; not an unrelated firm.
    firm = api.users.headers("firm", pair.firm_id)
    other_firm = api.users.headers("firm", world.pairs[1].firm_id if world.pairs[1].firm_id != pair.firm_id else 31)
    analyst = api.users.headers("analyst", 1)
    assert api.get(f"/contracts/{contract['id']}", headers=firm).status_code == 200
    assert api.get("/pipelines", headers=firm).json()["total"] == 1  # parties see the deals on their records
    assert api.get(f"/contracts/{contract['id']}", headers=other_firm).status_code == 403
    assert api.get("/contracts", headers=other_firm).json()["total"] == 0
    period, region = TODAY.strftime("%Y-%m"), buyer_region[:2] + "0000"
    listed = api.get("/contracts", params={"period": period, "region": region, "type": "transfer"}, headers=analyst)
    assert [c["id"] for c in listed.json()["items"]] == [contract["id"]]
    assert api.get("/contracts", params={"period": "1999"}, headers=analyst).json()["total"] == 0
    assert api.get("/pipelines", params={"stage": "signed"}, headers=broker).json()["total"] == 1
    assert api.get("/pipelines", headers=broker).json()["total"] == 2


def test_illegal_moves_are_409_and_other_brokers_403_changing_nothing(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    rival = api.users.headers("broker", world.agency_ids[1])
    admin = api.users.headers("admin", 1)
    pair = world.pairs[0]
    pipeline = claim(api, broker, pair).json()
    pid = pipeline["id"]

    assert claim(api, rival, pair).status_code == 409  # one pipeline per pair
    assert move(api, broker, pid, "negotiating").status_code == 409  # skipping contacted
    assert move(api, broker, pid, "signed").status_code == 409  # signing needs the contract
    early = api.post(f"/pipelines/{pid}/contract", json=contract_terms(), headers=broker)
    assert early.status_code == 409  # not negotiating yet
    assert move(api, rival, pid, "contacted").status_code == 403
    assert move(api, admin, pid, "contacted").status_code == 403  # admins may only lapse
    assert api.get(f"/pipelines/{pid}", headers=rival).status_code == 403
    unchanged = api.get(f"/pipelines/{pid}", headers=broker).json()
    assert (unchanged["stage"], unchanged["version"], len(unchanged["events"])) == ("claimed", 1, 1)
    assert count(api, Contract) == 0

    assert move(api, broker, pid, "contacted", expected_version=1).status_code == 201
    stale = move(api, broker, pid, "negotiating", expected_version=1)
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "expected_version"
    assert move(api, admin, pid, "lapsed", note="两月无进展").status_code == 201
    assert move(api, broker, pid, "negotiating").status_code == 409  # closed
    assert api.get(f"/pipelines/{pid}", headers=admin).json()["events"][-1]["to_stage"] == "lapsed"

    assert move(api, broker, 999999, "contacted").status_code == 404
    bad_stage = move(api, broker, pid, "won")
    assert bad_stage.status_code == 400 and "to_stage" in bad_stage.json()["errors"][0]["field"]
    firm = api.users.headers("firm", pair.firm_id)
    assert claim(api, firm, world.pairs[1]).status_code == 403
    missing = api.post("/pipelines", json={"demand_id": 999999, "achievement_id": pair.achievement_id}, headers=broker)
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "demand_id"
    with api.users.engine.connect() as conn:
        draft = conn.scalar(select(Demand.id).where(Demand.status == "withdrawn").limit(1))
    withdrawn = api.post("/pipelines", json={"demand_id": draft, "achievement_id": pair.achievement_id}, headers=broker)
    assert withdrawn.status_code == 409


def test_a_lapsed_pair_may_be_claimed_again_but_never_twice_at_once(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    rival = api.users.headers("broker", world.agency_ids[1])
    pair = world.pairs[3]
    first = claim(api, broker, pair).json()["id"]
    assert move(api, broker, first, "declined", note="价格谈不拢").status_code == 201
    second = claim(api, rival, pair)
    assert second.status_code == 201 and second.json()["id"] != first
    assert claim(api, broker, pair).status_code == 409  # the rival's pipeline is live
    assert count(api, Pipeline, Pipeline.demand_id == pair.demand_id,
                 Pipeline.achievement_id == pair.achievement_id) == 2
    # The first pipeline's history stays as it was.
    assert api.get(f"/pipelines/{first}", headers=broker).json()["stage"] == "declined"


def test_contract_terms_are_checked_before_anything_is_written(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    pid = negotiating(api, broker, world.pairs[0])["id"]
    changes = count(api, IndexChange)   # the world's own (its expiries)
    url = f"/pipelines/{pid}/contract"
    as_float = api.post(url, json=contract_terms(amount=1234567.89), headers=broker)
    assert as_float.status_code == 400 and as_float.json()["errors"][0]["field"].endswith("amount")
    cases = {
        "certified_amount": contract_terms(certified_amount="2000000.00"),
        "trial_ends_on": contract_terms(payment_mode="use_first_pay_later"),
        "exclusive": contract_terms(contract_type="licence", exclusive=True),
    }
    for field, terms in cases.items():
        refused = api.post(url, json=terms, headers=broker)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.json()["errors"][0]["field"] == field
    assert api.post(url, json=contract_terms(payment_mode="barter"), headers=broker).status_code == 400
    assert api.post("/pipelines/999999/contract", json=contract_terms(), headers=broker).status_code == 404
    assert count(api, Contract) == 0
    assert api.get(f"/pipelines/{pid}", headers=broker).json()["stage"] == "negotiating"

    signed = api.post(url, json=contract_terms(contract_type="licence", certified_amount=None), headers=broker)
    assert signed.status_code == 201 and signed.json()["certified_amount"] is None
    assert api.post(url, json=contract_terms(), headers=broker).status_code == 409  # already signed
    assert count(api, IndexChange) == changes  # a non-exclusive deal leaves both records in the libraries


def test_registration_numbers_are_unique(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    admin = api.users.headers("admin", 1)
    contracts = []
    for pair in world.pairs[:2]:
        pid = negotiating(api, broker, pair)["id"]
        contracts.append(api.post(f"/pipelines/{pid}/contract", json=contract_terms(), headers=broker).json()["id"])
    registration = {"registration_number": "2026420101000123", "registered_on": TODAY.isoformat()}
    first = api.patch(f"/contracts/{contracts[0]}/registration", json=registration, headers=admin)
    assert first.status_code == 200 and first.json()["registration_number"] == registration["registration_number"]
    duplicate = api.patch(f"/contracts/{contracts[1]}/registration", json=registration, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "registration_number"
    assert api.patch(f"/contracts/{contracts[1]}/registration", json=registration, headers=broker).status_code == 403
    assert api.patch("/contracts/999999/registration", json=registration, headers=admin).status_code == 404
    early = {"registration_number": "X-1", "registered_on": (TODAY - dt.timedelta(days=1)).isoformat()}
    assert api.patch(f"/contracts/{contracts[1]}/registration", json=early, headers=admin).status_code == 422
    assert api.get(f"/contracts/{contracts[1]}", headers=admin).json()["registration_number"] is None


def test_feedback_rules(api, world):
    pair, other = world.pairs[0], world.pairs[1]
    firm = api.users.headers("firm", pair.firm_id)
    office = api.users.headers("office", pair.office_id)
    broker = api.users.headers("broker", world.agency_ids[0])
    analyst = api.users.headers("analyst", 1)
    verdict = {"demand_id": pair.demand_id, "achievement_id": pair.achievement_id, "relevant": False,
               "reason": "too_early_stage", "note": "还在实验室阶段"}
    for headers in (firm, office, broker):
        assert api.post("/feedback", json=verdict, headers=headers).status_code == 201
    if other.firm_id != pair.firm_id:
        not_theirs = {**verdict, "demand_id": other.demand_id}
        assert api.post("/feedback", json=not_theirs, headers=firm).status_code == 403
    if other.office_id != pair.office_id:
        not_theirs = {**verdict, "achievement_id": other.achievement_id}
        assert api.post("/feedback", json=not_theirs, headers=office).status_code == 403
    assert api.post("/feedback", json=verdict, headers=analyst).status_code == 403
    no_reason = api.post("/feedback", json={**verdict, "reason": None}, headers=broker)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert api.post("/feedback", json={**verdict, "relevant": True}, headers=broker).status_code == 422
    bad_reason = api.post("/feedback", json={**verdict, "reason": "boring"}, headers=broker)
    assert bad_reason.status_code == 400 and "reason" in bad_reason.json()["errors"][0]["field"]
    assert api.post("/feedback", json={**verdict, "demand_id": 999999}, headers=broker).status_code == 404
    listed = api.get("/feedback", params={"demand_id": pair.demand_id}, headers=analyst).json()
    assert listed["total"] == 3 and {f["reason"] for f in listed["items"]} == {"too_early_stage"}
    assert api.get("/feedback", headers=broker).status_code == 403


def test_idempotent_retries_replay_the_first_response_and_write_once(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    pair = world.pairs[0]
    first = claim(api, broker, pair, **{"Idempotency-Key": "claim-1"})
    again = claim(api, broker, pair, **{"Idempotency-Key": "claim-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert count(api, Pipeline) == 1
    reused = claim(api, broker, world.pairs[1], **{"Idempotency-Key": "claim-1"})
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(api, Pipeline) == 1

    pid = first.json()["id"]
    keyed = {**broker, "Idempotency-Key": "move-1"}
    moved = [move(api, keyed, pid, "contacted") for _ in range(2)]
    assert [m.status_code for m in moved] == [201, 201] and moved[0].json() == moved[1].json()
    move(api, broker, pid, "negotiating")
    keyed = {**broker, "Idempotency-Key": "sign-1"}
    signed = [api.post(f"/pipelines/{pid}/contract", json=contract_terms(), headers=keyed) for _ in range(3)]
    assert {s.status_code for s in signed} == {201} and signed[0].json() == signed[2].json()
    assert count(api, Contract) == 1

    # Keys are per user: another broker's identical key is its own request (and here a 403).
    rival = {**api.users.headers("broker", world.agency_ids[1]), "Idempotency-Key": "sign-1"}
    assert api.post(f"/pipelines/{pid}/contract", json=contract_terms(), headers=rival).status_code == 403
    firm = {**api.users.headers("firm", pair.firm_id), "Idempotency-Key": "fb-1"}
    verdict = {"demand_id": pair.demand_id, "achievement_id": pair.achievement_id, "relevant": True}
    feedback = [api.post("/feedback", json=verdict, headers=firm) for _ in range(2)]
    assert feedback[0].json() == feedback[1].json() and count(api, Feedback) == 1


def test_nothing_a_client_sends_is_a_500(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    admin = api.users.headers("admin", 1)
    pid = negotiating(api, broker, world.pairs[0])["id"]
    huge = 10**20
    sent = [
        api.get(f"/pipelines/{huge}", headers=broker),
        api.get(f"/contracts/{huge}", headers=admin),
        api.get(f"/brokers/{huge}", headers=admin),
        api.get("/pipelines", params={"broker_id": huge, "offset": huge}, headers=admin),
        api.get("/contracts", params={"broker_id": huge, "period": "2026-13", "region": "12"}, headers=admin),
        api.get("/feedback", params={"demand_id": huge, "relevant": "maybe"}, headers=admin),
        api.post("/pipelines", json={"demand_id": huge, "achievement_id": huge}, headers=broker),
        api.post("/pipelines", content=b"{not json", headers=broker),
        api.post("/pipelines", json=[1, 2], headers=broker),
        move(api, broker, pid, "contacted", expected_version=huge),
        move(api, broker, huge, "lapsed"),
        api.post(f"/pipelines/{pid}/contract", json=contract_terms(signed_on="2026-02-30"), headers=broker),
        api.post(f"/pipelines/{pid}/contract", json=contract_terms(amount="1e5"), headers=broker),
        api.post(f"/pipelines/{pid}/contract", json=contract_terms(amount="999999999999999.99"), headers=broker),
        api.post(f"/pipelines/{pid}/contract", json=contract_terms(unknown=1), headers=broker),
        api.patch(f"/contracts/{huge}/registration", json={"registration_number": " ", "registered_on": "2026-01-01"},
                  headers=admin),
        api.post("/feedback", json={"demand_id": 1, "achievement_id": 1, "relevant": "yes"}, headers=broker),
        api.post("/pipelines", json={"demand_id": 1, "achievement_id": 1}, headers={**broker, "Idempotency-Key": "k" * 101}),
    ]
    assert [(r.request.method, str(r.request.url), r.status_code) for r in sent if r.status_code >= 500] == []
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in sent)
    assert api.get(f"/pipelines/{pid}", headers=broker).json()["version"] == 3


def test_licence_scope_is_recorded_and_only_an_exclusive_licence_takes_the_achievement_off_the_market(api, world):
    broker = api.users.headers("broker", world.agency_ids[0])
    wrong_type = negotiating(api, broker, world.pairs[4])
    url = f"/pipelines/{wrong_type['id']}/contract"
    on_transfer = api.post(url, json=contract_terms(licence_scope="sole"), headers=broker)
    assert on_transfer.status_code == 422 and on_transfer.json()["errors"][0]["field"] == "licence_scope"
    sole_but_exclusive = api.post(url, json=contract_terms(contract_type="licence", licence_scope="sole",
                                                           exclusive=True), headers=broker)
    assert sole_but_exclusive.status_code == 422 and sole_but_exclusive.json()["errors"][0]["field"] == "exclusive"
    unknown = api.post(url, json=contract_terms(contract_type="licence", licence_scope="global"), headers=broker)
    assert unknown.status_code == 400
    assert count(api, Contract) == 0  # nothing half-written by the refusals

    signed = api.post(url, json=contract_terms(contract_type="licence", licence_scope="exclusive", exclusive=True),
                      headers=broker)
    assert signed.status_code == 201 and signed.json()["licence_scope"] == "exclusive"
    with api.users.engine.connect() as conn:
        status = conn.scalar(select(Achievement.status).where(Achievement.id == world.pairs[4].achievement_id))
    assert status == "transferred"
    ordinary = negotiating(api, broker, world.pairs[5])
    kept = api.post(f"/pipelines/{ordinary['id']}/contract",
                    json=contract_terms(contract_type="licence", licence_scope="ordinary"), headers=broker)
    assert kept.status_code == 201 and kept.json()["licence_scope"] == "ordinary"
    with api.users.engine.connect() as conn:
        status = conn.scalar(select(Achievement.status).where(Achievement.id == world.pairs[5].achievement_id))
    assert status == "published"  # an ordinary licence leaves it on offer to others


def test_signing_after_the_posting_closed_is_refused_until_it_is_renewed(api, world):
    """Issue 15's audit: contracts were signed after the achievement's expiry or the demand's deadline."""
    from sqlalchemy import update

    broker = api.users.headers("broker", world.agency_ids[0], name="周经纪")
    pair = world.pairs[2]
    deal = negotiating(api, broker, pair)
    closed_on = TODAY - dt.timedelta(days=1)
    with api.users.engine.begin() as conn:
        conn.execute(update(Achievement).where(Achievement.id == pair.achievement_id).values(expires_on=closed_on))
    late = api.post(f"/pipelines/{deal['id']}/contract", json=contract_terms(), headers=broker)
    assert late.status_code == 409 and "到期" in late.text and "续期" in late.text
    on_the_day = api.post(f"/pipelines/{deal['id']}/contract", headers=broker,
                          json=contract_terms(signed_on=closed_on.isoformat()))
    assert on_the_day.status_code == 201, on_the_day.text   # signed while it was still on offer
    body = on_the_day.json()
    assert body["title"] and body["seller_party_type"] and body["buyer_party_type"]   # the form's fields prefilled


@pytest.mark.trading
def test_signing_waits_for_the_price_notice_and_its_objections(api, world):
    """Issue 16: a negotiated price of a university's or institute's achievement is published for a notice period;
    signing during it, or while an objection is unanswered, is refused."""
    from matchmaker.identity.services import actor_of
    from matchmaker.models import User
    from matchmaker.trading import price_notices

    broker = api.users.headers("broker", world.agency_ids[0], name="吴经纪")
    pair = next(p for p in world.pairs[3:] if _kind(api, p.office_id) in ("university", "institute"))
    deal = negotiating(api, broker, pair)
    office = api.users.headers("office", pair.office_id, name="公示人")
    published = api.post("/price-notices", headers=office, json={
        "achievement_id": pair.achievement_id, "buyer_id": pair.firm_id, "price": "600000.00"})
    assert published.status_code == 201, published.text
    notice = published.json()
    assert notice["ends_on"] == (TODAY + dt.timedelta(days=15)).isoformat()
    during = api.post(f"/pipelines/{deal['id']}/contract", json=contract_terms(), headers=broker)
    assert during.status_code == 409 and "正在公示" in during.text

    # The same notice, as if published three weeks ago: the period is over, but an objection was lodged in it.
    with transaction(api.users.factory) as session:
        stored = session.get(PriceNotice, notice["id"])
        stored.starts_on, stored.ends_on = TODAY - dt.timedelta(days=21), TODAY - dt.timedelta(days=6)
        someone = session.scalar(select(User.id).order_by(User.id))
        price_notices.lodge_objection(session, actor=actor_of(session, someone), notice_id=notice["id"],
                                      reason="价格明显低于评估值，请说明定价依据", today=TODAY - dt.timedelta(days=10))
    objected = api.post(f"/pipelines/{deal['id']}/contract", json=contract_terms(), headers=broker)
    assert objected.status_code == 409 and "异议" in objected.text
    objection_id = api.get(f"/price-notices/{notice['id']}", headers=office).json()["objections"][0]["id"]
    firm = api.users.headers("firm", pair.firm_id)
    assert api.post(f"/price-notices/objections/{objection_id}/resolve", headers=firm,
                    json={"resolution": "不是本单位的公示"}).status_code == 403
    answered = api.post(f"/price-notices/objections/{objection_id}/resolve", headers=office,
                        json={"resolution": "定价依据第三方评估报告，已在公示附件中说明"})
    assert answered.status_code == 200
    signed = api.post(f"/pipelines/{deal['id']}/contract", json=contract_terms(), headers=broker)
    assert signed.status_code == 201, signed.text
    late = api.post(f"/price-notices/{notice['id']}/objections", headers=firm, json={"reason": "公示结束后才看到"})
    assert late.status_code == 409


def _kind(api, organisation_id: int) -> str:
    with api.users.engine.connect() as conn:
        return conn.scalar(select(Organisation.kind).where(Organisation.id == organisation_id))


@pytest.mark.trading
def test_a_negotiated_transfer_of_a_universitys_achievement_needs_a_notice_first(api, world):
    """Issue 16: no notice at all, no signing of a transfer or licence; a development contract needs none."""
    broker = api.users.headers("broker", world.agency_ids[0], name="郑经纪")
    pairs = [p for p in world.pairs[5:] if _kind(api, p.office_id) in ("university", "institute")]
    with api.users.engine.begin() as conn:   # negotiated, as most generated achievements are
        conn.execute(Achievement.__table__.update().where(Achievement.id.in_([p.achievement_id for p in pairs[:2]]))
                     .values(pricing_mode="negotiated"))
    deals = []
    for pair in pairs[:2]:
        pipeline = claim(api, broker, pair).json()
        for stage in ("contacted", "negotiating"):   # straight through the API: nobody publishes a notice
            assert api.post(f"/pipelines/{pipeline['id']}/moves", json={"to_stage": stage},
                            headers=broker).status_code == 201
        deals.append(pipeline["id"])
    refused = api.post(f"/pipelines/{deals[0]}/contract", json=contract_terms(contract_type="transfer"), headers=broker)
    assert refused.status_code == 409 and "签约前须公示" in refused.text
    developed = api.post(f"/pipelines/{deals[1]}/contract", headers=broker,
                         json=contract_terms(contract_type="development"))
    assert developed.status_code == 201, developed.text
    noticed(api.users.engine, deals[0])
    assert api.post(f"/pipelines/{deals[0]}/contract", json=contract_terms(contract_type="transfer"),
                    headers=broker).status_code == 201


def test_a_refused_claim_writes_nothing_so_the_transaction_goes_on(api, world):
    """The simulator claims without a savepoint, relying on claim_pipeline refusing before its first write."""
    from matchmaker.brokerage.pipelines import claim_pipeline
    from matchmaker.db import make_session_factory
    from matchmaker.errors import DomainError
    from matchmaker.identity.services import actor_for
    from matchmaker.models import PipelineEvent, User

    holder = api.users.headers("broker", world.agency_ids[0])
    api.users.headers("broker", world.agency_ids[1])
    api.users.headers("firm", world.pairs[1].firm_id)
    live = world.pairs[0]
    assert claim(api, holder, live).status_code == 201
    with api.users.engine.connect() as conn:
        withdrawn = conn.scalar(select(Demand.id).where(Demand.status == "withdrawn").limit(1))
    with make_session_factory(api.users.engine)() as session, session.begin():
        broker = actor_for(session, session.scalars(select(User).where(User.role == "broker")
                                                     .order_by(User.id.desc())).first())
        firm = actor_for(session, session.scalars(select(User).where(User.role == "firm")).first())

        def written() -> tuple[int, int]:
            return (session.scalar(select(func.count()).select_from(Pipeline)),
                    session.scalar(select(func.count()).select_from(PipelineEvent)))

        before = written()
        refusals = [(broker, live.demand_id, live.achievement_id),        # live with another broker
                    (broker, withdrawn, world.pairs[1].achievement_id),   # not published
                    (broker, world.pairs[1].demand_id, 999_999),          # no such achievement
                    (firm, world.pairs[1].demand_id, world.pairs[1].achievement_id)]   # not a broker
        for actor, demand_id, achievement_id in refusals:
            with pytest.raises(DomainError):
                claim_pipeline(session, actor=actor, demand_id=demand_id, achievement_id=achievement_id)
            assert not session.new and not session.dirty and written() == before
        claim_pipeline(session, actor=broker, demand_id=world.pairs[1].demand_id,
                       achievement_id=world.pairs[1].achievement_id)
        assert written() == (before[0] + 1, before[1] + 1)


def test_claims_in_a_block_that_read_the_holders_together_are_refused_and_allowed_alike(api, world):
    """holders_read_together (the simulator's month) answers a batch's holder checks from one read: a live pair is
    refused in the same words as by its own query, a free pair is claimed, and a demand the block did not read is
    still checked by its query."""
    from sqlalchemy import event

    from matchmaker.brokerage.pipelines import claim_pipeline, holders_read_together
    from matchmaker.db import make_session_factory
    from matchmaker.errors import Conflict
    from matchmaker.identity.services import actor_for
    from matchmaker.models import User

    first = api.users.headers("broker", world.agency_ids[0])
    api.users.headers("broker", world.agency_ids[1])
    live, unread, free = world.pairs[0], world.pairs[1], world.pairs[2]
    assert claim(api, first, live).status_code == 201
    assert claim(api, first, unread).status_code == 201
    with make_session_factory(api.users.engine)() as session, session.begin():
        broker = actor_for(session, session.scalars(select(User).where(User.role == "broker")
                                                     .order_by(User.id.desc())).first())
        with pytest.raises(Conflict) as alone:
            claim_pipeline(session, actor=broker, demand_id=live.demand_id, achievement_id=live.achievement_id,
                           flush=False)
        with holders_read_together(session, [live.demand_id, free.demand_id]):
            queries: list[str] = []
            listen = lambda *args: queries.append(args[2])  # noqa: E731 - the statement of each execution
            event.listen(api.users.engine, "before_cursor_execute", listen)
            try:
                with pytest.raises(Conflict) as together:
                    claim_pipeline(session, actor=broker, demand_id=live.demand_id,
                                   achievement_id=live.achievement_id, flush=False)
                assert not [q for q in queries if "FROM pipelines" in q]   # the block's read was the check
                with pytest.raises(Conflict):   # not read by the block: its own query still refuses it
                    claim_pipeline(session, actor=broker, demand_id=unread.demand_id,
                                   achievement_id=unread.achievement_id, flush=False)
                assert [q for q in queries if "FROM pipelines" in q]
            finally:
                event.remove(api.users.engine, "before_cursor_execute", listen)
            claimed = claim_pipeline(session, actor=broker, demand_id=free.demand_id,
                                     achievement_id=free.achievement_id, flush=False)
        assert str(together.value) == str(alone.value)
        session.flush()
        assert claimed.id is not None and "pipeline_holders" not in session.info
