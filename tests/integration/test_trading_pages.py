"""Trading in the pages (issue 16): the office lists an achievement and the firm accepts it (a second acceptance is
told it is gone); the office publishes a price notice naming the firm, the firm objects, the office answers."""

from __future__ import annotations

import pytest

import datetime as dt
import re

from page_client import log_in, token
from sqlalchemy import select

from matchmaker.db import transaction
from matchmaker.models import Listing, Objection, Organisation, User

pytestmark = pytest.mark.trading


def test_list_accept_publish_object_and_answer(pages):
    log_in(pages, "demo_office")
    page = pages.get("/web/listings").text
    achievement_id = re.search(r'<select id="listing-achievement" name="achievement_id"><option value="(\d+)"', page).group(1)
    listed = pages.post("/web/listings", data={"achievement_id": achievement_id, "price": "88万", "ends_on": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
                                               "_csrf_token": token(pages, "/web/listings")}, follow_redirects=True)
    assert "已挂牌" in listed.text, re.findall(r"未完成[^<]*", listed.text)
    with transaction(pages.factory) as session:
        listing = session.scalar(select(Listing).where(Listing.achievement_id == int(achievement_id)))
        assert (listing.status, f"{listing.price:.2f}") == ("open", "880000.00")
        firm_org = session.scalar(select(User).where(User.login == "demo_firm")).organisation_id
        firm_name = session.get(Organisation, firm_org).name

    log_in(pages, "demo_firm")
    assert "按挂牌价摘牌" in pages.get("/web/listings").text
    accepted = pages.post(f"/web/listings/{listing.id}/accept", data={"_csrf_token": token(pages, "/web/listings")},
                          follow_redirects=True)
    assert "摘牌成功" in accepted.text and "880,000.00" in accepted.text
    again = pages.post(f"/web/listings/{listing.id}/accept", data={"_csrf_token": token(pages, "/web/listings")},
                       follow_redirects=True)
    assert "您已摘得该挂牌" in again.text, re.findall(r"未完成[^<]*", again.text)

    log_in(pages, "demo_office")
    published = pages.post("/web/price-notices", data={"achievement_id": achievement_id, "buyer": firm_name,
                                                       "price": "60万", "_csrf_token": token(pages, "/web/price-notices")},
                           follow_redirects=False)
    assert published.status_code in (302, 303), published.text
    notice_path = published.headers["location"]
    log_in(pages, "demo_firm")
    objected = pages.post(f"{notice_path}/objections", data={"reason": "价格低于同类成果的评估值",
                                                             "_csrf_token": token(pages, notice_path)},
                          follow_redirects=True)
    assert "异议已提交" in objected.text
    log_in(pages, "demo_office")
    with transaction(pages.factory) as session:
        objection_id = session.scalar(select(Objection.id).order_by(Objection.id.desc()))
    answered = pages.post(f"{notice_path}/objections/{objection_id}/resolve",
                          data={"resolution": "定价依据第三方评估报告", "_csrf_token": token(pages, notice_path)},
                          follow_redirects=True)
    assert "已答复异议" in answered.text and "定价依据第三方评估报告" in answered.text
