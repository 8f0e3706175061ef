"""Life after signing (issue 15): payment milestones and receipts, the trial of a 先使用后付费 contract with its
reminder and outcome, a licensee's royalty reports, and the inventors' shares with totals per person."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from matchmaker.db import transaction
from matchmaker.deals.contract_reminders import remind_after_signing
from matchmaker.models import Notice

TODAY = dt.date.today()


def _contract(api, firm, **overrides) -> dict:
    signed = (TODAY - dt.timedelta(days=30)).isoformat()
    body = {"seller_id": api.orgs.office, "buyer_id": api.orgs.firm, "title": "储能材料专利实施许可",
            "contract_type": "licence", "sub_type": "patent", "licence_scope": "ordinary", "amount": "1000000.00",
            "payment_mode": "instalments", "signed_on": signed, "field_code": "clean_energy"}
    body.update(overrides)
    answer = api.post("/contracts", json=body, headers=firm)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_milestones_receipts_royalties_and_the_inventors_shares(api):
    firm, office = api.users.headers("firm", api.orgs.firm), api.users.headers("office", api.orgs.office)
    contract = _contract(api, firm)
    base = f"/contracts/{contract['id']}"
    first = api.post(f"{base}/payments", headers=firm, json={"title": "首付款", "due_on": TODAY.isoformat(),
                                                               "amount": "400000.00"})
    assert first.status_code == 201, first.text
    second = api.post(f"{base}/payments", headers=office, json={"title": "验收款", "due_on": (TODAY + dt.timedelta(days=90)).isoformat(),
                                                                "amount": "600000.00"})
    assert second.status_code == 201
    over = api.post(f"{base}/payments", headers=firm, json={"title": "追加", "due_on": TODAY.isoformat(), "amount": "0.01"})
    assert over.status_code == 422 and "超过合同成交额" in over.text
    received = api.post(f"{base}/payments/{first.json()['id']}/receipt", headers=office,
                        json={"received_on": TODAY.isoformat(), "received_amount": "400000.00"})
    assert received.status_code == 200 and received.json()["received_amount"] == "400000.00"
    future = api.post(f"{base}/payments/{first.json()['id']}/receipt", headers=office,
                      json={"received_on": (TODAY + dt.timedelta(days=3)).isoformat(), "received_amount": "1.00"})
    assert future.status_code == 422
    stranger = api.users.headers("firm", api.orgs.other_firm)
    assert api.post(f"{base}/payments", headers=stranger, json={"title": "x", "due_on": TODAY.isoformat(),
                                                                "amount": "1.00"}).status_code in (403, 404)

    royalty = api.post(f"{base}/royalty-reports", headers=firm,
                       json={"period": f"{TODAY.year}-Q1", "sales_amount": "2000000.00", "royalty_amount": "100000.00"})
    assert royalty.status_code == 201, royalty.text
    again = api.post(f"{base}/royalty-reports", headers=firm,
                     json={"period": f"{TODAY.year}-Q1", "sales_amount": "1.00", "royalty_amount": "0.00"})
    assert again.status_code == 409
    assert api.post(f"{base}/royalty-reports", headers=office, json={"period": f"{TODAY.year}-Q2", "sales_amount": "1.00",
                                                                     "royalty_amount": "0.00"}).status_code == 403

    for person, percent, basis in (("张三", "40", "reward"), ("李四", "50", "ownership")):
        assert api.post(f"{base}/shares", headers=office, json={"person": person, "percent": percent,
                                                                "basis": basis}).status_code == 200
    too_much = api.post(f"{base}/shares", headers=office, json={"person": "王五", "percent": "20", "basis": "reward"})
    assert too_much.status_code == 422 and "超过 100%" in too_much.text
    assert api.post(f"{base}/shares", headers=office, json={"person": "张三", "percent": "30",
                                                            "basis": "reward"}).status_code == 200   # replaces 40
    assert api.post(f"{base}/shares", headers=firm, json={"person": "赵六", "percent": "5",
                                                          "basis": "reward"}).status_code == 403   # the seller's
    totals = {t["person"]: t for t in api.get("/inventor-shares", headers=office).json()}
    # 张三 30% of 1,000,000 due; of what arrived: 400,000 received + 100,000 royalty → 150,000.
    assert (totals["张三"]["due"], totals["张三"]["received"]) == ("300000.00", "150000.00")
    assert (totals["李四"]["due"], totals["李四"]["received"]) == ("500000.00", "250000.00")
    state = api.get(f"{base}/after-signing", headers=firm).json()
    assert [p["title"] for p in state["payments"]] == ["首付款", "验收款"] and len(state["royalty_reports"]) == 1


def test_a_trial_is_reminded_before_it_ends_once_and_its_outcome_recorded(api):
    firm, office = api.users.headers("firm", api.orgs.firm), api.users.headers("office", api.orgs.office)
    ends = TODAY + dt.timedelta(days=10)
    contract = _contract(api, firm, contract_type="transfer", sub_type="patent", licence_scope=None,
                         payment_mode="use_first_pay_later", trial_ends_on=ends.isoformat())
    with transaction(api.users.factory) as session:
        first = remind_after_signing(session, today=TODAY)
        again = remind_after_signing(session, today=TODAY)
        told = session.scalar(select(func.count(Notice.id)).where(Notice.event == f"trial:{contract['id']}:{ends}:ending"))
    assert first >= 2 and again == 0 and told >= 2          # both parties, once
    base = f"/contracts/{contract['id']}"
    outcome = api.post(f"{base}/trial-outcome", headers=office, json={"outcome": "converted", "on": TODAY.isoformat()})
    assert outcome.status_code == 200 and outcome.json()["trial_outcome"] == "converted"
    with transaction(api.users.factory) as session:   # recorded: no more reminders, even after the end
        assert remind_after_signing(session, today=ends + dt.timedelta(days=3)) == 0
    plain = _contract(api, firm)
    wrong = api.post(f"/contracts/{plain['id']}/trial-outcome", headers=firm, json={"outcome": "ended",
                                                                                 "on": TODAY.isoformat()})
    assert wrong.status_code == 422 and "先使用后付费" in wrong.text
    assert Decimal(contract["amount"]) == Decimal("1000000.00")
