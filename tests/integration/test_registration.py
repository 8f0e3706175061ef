"""Coming in without an admin (issue 14): an organisation applies (all problems shown at once, the credit code's
check character verified), verifies its email through a one-time link mailed by the worker to a real SMTP
server, is approved by the reviewer of its own region, logs in by email, invites a colleague; a forgotten
password is reset by a one-time link. Through the pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from matchmaker import vocabulary as v
from matchmaker.app import create_app
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.errors import InvalidInput
from matchmaker.identity import accounts
from matchmaker.identity.services import create_user, set_password
from matchmaker.models import AccountToken, Organisation, OutboundMail, User
from matchmaker.notices.email import deliver_due

SITE = "https://tech.example.test"
VALID_CODE = "91210200MA0Q00000G"      # GB 32100: G is the check character of the first 17
WRONG_CHECK = "91210200MA0Q00000A"
PASSWORD = "Lab-2026-secure"


@pytest.fixture
def site(seeded_url, smtp_server, tmp_path):
    settings = Settings(database_url=seeded_url, index_dir=tmp_path / "index", smtp_url=smtp_server.url,
                        public_url=SITE, secret_key="registration-test-secret")
    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:   # reviewers of 大连 and of 沈阳
        platform = session.scalar(select(Organisation.id).where(Organisation.kind == "government").order_by(Organisation.id))
        for code in ("210200", "210100"):
            user, _ = create_user(session, role="analyst", organisation_id=platform, name=f"reviewer{code}")
            user.region_code = code
            set_password(session, user.id, "Reviewer-2026")
    with TestClient(create_app(settings)) as client:
        client.factory, client.settings, client.mail = factory, settings, smtp_server
        yield client
    engine.dispose()


def _csrf(client, path: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _post(client, path: str, form: dict, *, page: str | None = None):
    return client.post(path, data={**form, "_csrf_token": _csrf(client, page or path)}, follow_redirects=False)


def _login(client, login: str, password: str):
    client.cookies.clear()
    return _post(client, "/web/login", {"login": login, "password": password})


def _mailed_link(site, address: str, path: str) -> str:
    deliver_due(site.factory, site.settings)
    bodies = [m.get_body(("plain",)).get_content() for m in site.mail.to(address)]
    links = [found.group(1) for body in bodies for found in [re.search(rf"{re.escape(SITE)}({path}\?token=\S+)", body)] if found]
    assert links, f"no {path} link mailed to {address}: {bodies}"
    return links[-1]


APPLICATION = {"organisation": "大连海湾新材料有限公司", "kind": "enterprise", "credit_code": VALID_CODE,
               "region_code": "210200", "contact": "王海", "email": "wang.hai@haiwan.example.test", "password": PASSWORD}


def test_apply_verify_review_login_invite_and_reset(site):
    # Every problem at once, each in Chinese next to its field; what was typed comes back.
    bad = _post(site, "/web/register", {**APPLICATION, "credit_code": WRONG_CHECK, "region_code": "", "email": "not-an-email",
                                        "password": "12345678"})
    assert bad.status_code == 422
    for words in ("校验位不正确", "请选择单位所在的市或区县", "请填写有效的电子邮箱", "密码须包含"):
        assert words in bad.text
    assert 'value="大连海湾新材料有限公司"' in bad.text and "注册信息有 4 处需要修改" in bad.text

    made = _post(site, "/web/register", APPLICATION)
    assert made.status_code == 200 and "请查收验证邮件" in made.text
    assert "请先点击注册邮件中的链接验证邮箱" in _login(site, APPLICATION["email"], PASSWORD).text

    link = _mailed_link(site, APPLICATION["email"], "/web/verify-email")
    with site.factory() as session:   # once sent, the mail no longer holds its one-time link
        assert all(m.body == "" for m in session.scalars(select(OutboundMail).where(OutboundMail.state == "sent")))
    assert "邮箱已验证" in site.get(link).text
    assert site.get(link).status_code == 400                      # a link works once
    assert "正在审核中" in _login(site, APPLICATION["email"], PASSWORD).text

    # The reviewer of 沈阳 neither sees nor decides it; 大连's does, and a rejection would need a reason.
    with site.factory() as session:
        organisation_id = session.scalar(select(Organisation.id).where(Organisation.credit_code == VALID_CODE))
    _login(site, "reviewer210100", "Reviewer-2026")
    assert APPLICATION["organisation"] not in site.get("/web/applications").text
    assert _post(site, f"/web/applications/{organisation_id}", {"decision": "approve"}, page="/web/applications").status_code == 404
    _login(site, "reviewer210200", "Reviewer-2026")
    assert APPLICATION["organisation"] in site.get("/web/applications").text
    _post(site, f"/web/applications/{organisation_id}", {"decision": "reject", "note": ""}, page="/web/applications")
    assert "退回申请时请写明原因" in site.get("/web/applications").text
    approved = _post(site, f"/web/applications/{organisation_id}", {"decision": "approve"}, page="/web/applications")
    assert approved.status_code == 303
    deliver_due(site.factory, site.settings)
    assert any("已通过审核" in m.get_body(("plain",)).get_content() for m in site.mail.to(APPLICATION["email"]))

    # The applicant logs in by email, as the organisation's administrator, and invites a colleague.
    assert _login(site, APPLICATION["email"], PASSWORD).status_code == 303
    assert "本单位账号" in site.get("/web/firm").text
    invited = _post(site, "/web/team", {"name": "李工", "email": "li.gong@haiwan.example.test"})
    assert invited.status_code == 303
    link = _mailed_link(site, "li.gong@haiwan.example.test", "/web/invitation")
    site.cookies.clear()
    token = link.split("token=")[1]
    weak = _post(site, "/web/invitation", {"token": token, "password": "abcdefgh"}, page=link)
    assert weak.status_code == 422 and "密码须包含" in weak.text
    assert _post(site, "/web/invitation", {"token": token, "password": "Li-gong-2026"}, page=link).status_code == 303
    assert _login(site, "li.gong@haiwan.example.test", "Li-gong-2026").status_code == 303
    assert "发送邀请" not in site.get("/web/team").text       # a colleague is not the organisation's administrator

    # A forgotten password: the same answer for a known and an unknown address; the link works once.
    site.cookies.clear()
    for address in (APPLICATION["email"], "nobody@haiwan.example.test"):
        answer = _post(site, "/web/forgot-password", {"email": address})
        assert "如果" in answer.text and "是平台账号的邮箱" in answer.text
    link = _mailed_link(site, APPLICATION["email"], "/web/reset-password")
    assert not site.mail.to("nobody@haiwan.example.test")
    token = link.split("token=")[1]
    assert _post(site, "/web/reset-password", {"token": token, "password": "New-pass-2026"}, page=link).status_code == 303
    assert site.get(link).status_code == 400
    assert _login(site, APPLICATION["email"], PASSWORD).status_code == 401
    assert _login(site, APPLICATION["email"], "New-pass-2026").status_code == 303


def test_an_expired_link_is_refused_and_two_clicks_at_once_open_it_once(site):
    with transaction(site.factory) as session:
        organisation = session.scalar(select(Organisation).where(Organisation.kind == "enterprise").order_by(Organisation.id))
        user, _ = create_user(session, role="firm", organisation_id=organisation.id, name="双击测试")
        user_id = user.id
        expired = accounts.issue(session, user_id=user_id, purpose=v.TokenPurpose.RESET_PASSWORD)
        session.execute(update(AccountToken).where(AccountToken.user_id == user_id)
                        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        fresh = accounts.issue(session, user_id=user_id, purpose=v.TokenPurpose.VERIFY_EMAIL)
    with site.factory() as session, pytest.raises(InvalidInput):
        accounts.redeem(session, expired, v.TokenPurpose.RESET_PASSWORD)
    with site.factory() as session, pytest.raises(InvalidInput):   # a token of one purpose opens no other
        accounts.redeem(session, fresh, v.TokenPurpose.RESET_PASSWORD)

    opened, barrier = [], threading.Barrier(4)

    def click() -> None:
        barrier.wait()
        try:
            with transaction(site.factory) as session:
                opened.append(accounts.redeem(session, fresh, v.TokenPurpose.VERIFY_EMAIL).id)
        except Exception:   # noqa: BLE001 - refused (or the database serialised the loser): not opened
            pass

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [user_id]
    with site.factory() as session:
        assert session.get(User, user_id).password_hash is None
