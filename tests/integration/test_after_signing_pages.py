"""Life after signing on the contract page: the firm adds milestones, the office records a receipt and the
inventors' shares, a mistyped amount comes back in Chinese, and the office's inventor totals add up."""

from __future__ import annotations

import datetime as dt
import re

from page_client import log_in as _login
from page_client import token as _token
from sqlalchemy import select

from matchmaker.brokerage.submission import submit_contract
from matchmaker.db import transaction
from matchmaker.identity.services import actor_of
from matchmaker.models import User


def _contract(pages) -> int:
    with transaction(pages.factory) as session:
        firm = session.scalar(select(User).where(User.login == "demo_firm"))
        office = session.scalar(select(User).where(User.login == "demo_office"))
        contract = submit_contract(session, actor=actor_of(session, firm.id), seller_id=office.organisation_id,
                                   buyer_id=firm.organisation_id, values={
                                       "title": "海水淡化膜技术许可", "contract_type": "licence", "sub_type": "patent",
                                       "licence_scope": "ordinary", "amount": "800000.00", "payment_mode": "royalty",
                                       "signed_on": dt.date.today() - dt.timedelta(days=10),
                                       "field_code": "clean_energy"})
        return contract.id


def test_milestones_receipts_royalties_and_shares_from_the_contract_page(pages):
    contract_id = _contract(pages)
    page = f"/web/contracts/{contract_id}"
    _login(pages, "demo_firm")
    added = pages.post(f"{page}/payments", data={"title": "入门费", "due_on": dt.date.today().isoformat(),
                                                  "amount": "20万", "_csrf_token": _token(pages, page)},
                       follow_redirects=False)
    assert added.status_code in (302, 303)
    shown = pages.get(page).text
    assert "入门费" in shown and "20.00 万元" in shown
    royalty = pages.post(f"{page}/royalty-reports", data={"period": f"{dt.date.today().year}", "sales_amount": "100万",
                                                          "royalty_amount": "5万", "_csrf_token": _token(pages, page)},
                         follow_redirects=False)
    assert royalty.status_code in (302, 303)
    bad = pages.post(f"{page}/payments", data={"title": "尾款", "due_on": "明天", "amount": "1",
                                               "_csrf_token": _token(pages, page)}, follow_redirects=True)
    assert "请填写应付日期" in bad.text

    _login(pages, "demo_office")
    payment_id = re.search(r"/payments/(\d+)/receipt", pages.get(page).text).group(1)
    received = pages.post(f"{page}/payments/{payment_id}/receipt", data={
        "received_on": dt.date.today().isoformat(), "received_amount": "200000", "_csrf_token": _token(pages, page)},
        follow_redirects=False)
    assert received.status_code in (302, 303)
    for person, percent in (("陈工", "60"), ("刘工", "30")):
        pages.post(f"{page}/shares", data={"person": person, "percent": percent, "basis": "reward",
                                           "_csrf_token": _token(pages, page)})
    over = pages.post(f"{page}/shares", data={"person": "周工", "percent": "20", "basis": "reward",
                                              "_csrf_token": _token(pages, page)}, follow_redirects=True)
    assert "超过 100%" in over.text
    totals = pages.get("/web/inventors").text
    # 陈工 60% of 800,000 due; of what arrived (200,000 received + 50,000 royalty): 150,000.
    assert re.search(r"陈工</td><td class=\"num\">1</td><td class=\"num\">48.00 万元</td><td class=\"num\">15.00 万元", totals)
