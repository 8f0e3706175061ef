"""Notices by email through a real SMTP server (aiosmtpd, started here): what a message says and links to, each
person's choice (immediate, daily, off), the unsubscribe link, retries, and a worker killed mid-batch."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mail_catcher import MailCatcher
from sqlalchemy import select
from test_deals import deal_world, publish_achievement

from matchmaker import vocabulary as v
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.jobs import enqueue, make_queue, run_burst
from matchmaker.models import Notice, User
from matchmaker.notices.email import LEASE, deliver_due, read_unsubscribe_token
from matchmaker.notices.services import notify, preferences

MATCHMAKER = Path(sys.executable).with_name("matchmaker")
SITE = "https://tech.example.test"


def mail_settings(url: str, smtp_url: str, secret: str = "test-secret", **more) -> Settings:
    return Settings(database_url=url, smtp_url=smtp_url, public_url=SITE, secret_key=secret, **more)


def set_email(api, headers: dict, address: str) -> int:
    return api.patch("/me", json={"email": address}, headers=headers).json()["id"]


def text_and_html(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def test_interest_reaches_the_office_by_email_in_chinese_once(api, smtp_server, seeded_url):
    w = deal_world(api)
    office_id = set_email(api, w["office"], "zhang@office.test")
    settings = mail_settings(seeded_url, smtp_server.url)
    api.post("/introductions", json={"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"],
                                     "message": "希望下周约谈"}, headers=w["firm"])
    assert deliver_due(api.users.factory, settings) == 2   # the publication's review outcome and the interest
    assert deliver_due(api.users.factory, settings) == 0   # nothing twice
    mail = next(m for m in smtp_server.to("zhang@office.test") if "希望就" in m["Subject"])
    plain, html = text_and_html(mail)
    assert "锂电池极片激光清洗设备" in mail["Subject"] and "希望下周约谈" in plain
    assert f"{SITE}/web/deals/{w['demand']['id']}/{w['achievement_id']}" in plain and "查看详情" in html
    assert mail["Message-ID"] == f"<interest-{_interest_id(api)}.u{office_id}@matchmaker.test>"
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    token = unsubscribe.split("token=")[1]
    assert read_unsubscribe_token("test-secret", token) == (office_id, v.NoticeKind.INTEREST_RECEIVED)
    assert read_unsubscribe_token("test-secret", token[:-2] + "xx") is None
    assert read_unsubscribe_token("another-secret", token) is None
    assert "不想再收到" in plain and not any(c.isascii() and c.isalpha() for c in mail["Subject"].replace("Message", ""))


def _interest_id(api) -> int:
    from matchmaker.models import Introduction

    with api.users.factory() as session:
        return session.scalar(select(Introduction.id).order_by(Introduction.id.desc()))


def test_each_person_chooses_immediate_daily_or_off(api, smtp_server, seeded_url):
    w = deal_world(api)
    set_email(api, w["office"], "office@office.test")
    firm_id = set_email(api, w["firm"], "firm@firm.test")
    settings = mail_settings(seeded_url, smtp_server.url)
    deliver_due(api.users.factory, settings)
    smtp_server.messages.clear()
    api.put("/me/notice-preferences", json={"deal_message": "daily", "introduction_answered": "off"}, headers=w["firm"])
    pair = {"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"]}
    introduction = api.post("/introductions", json=pair, headers=w["firm"]).json()["id"]
    api.post(f"/introductions/{introduction}/answer", json={"accept": True}, headers=w["office"])
    for text in ("第一条留言", "第二条留言"):
        api.post(f"/deals/{pair['demand_id']}/{pair['achievement_id']}/messages", json={"body": text},
                 headers=w["office"])
    deliver_due(api.users.factory, settings)
    assert smtp_server.to("firm@firm.test") == []       # the answer is off, the messages wait for the digest
    with api.users.factory() as session:
        states = dict(session.execute(select(Notice.kind, Notice.email_state).where(Notice.user_id == firm_id)).all())
    assert states == {"introduction_answered": "skipped", "deal_message": "digest"}
    deliver_due(api.users.factory, settings, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=25))
    digest = smtp_server.to("firm@firm.test")
    assert len(digest) == 1 and "汇总" in digest[0]["Subject"]
    plain, _ = text_and_html(digest[0])
    assert "第一条留言" in plain and "第二条留言" in plain


def test_a_meeting_request_carries_an_ics_and_unsubscribing_by_link_turns_that_kind_off(api, smtp_server, seeded_url):
    w = deal_world(api)
    office_id = set_email(api, w["office"], "office@office.test")
    settings = mail_settings(seeded_url, smtp_server.url, secret=api.app.state.settings.secret_key)
    pair = {"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"]}
    introduction = api.post("/introductions", json=pair, headers=w["office"]).json()["id"]
    api.post(f"/introductions/{introduction}/answer", json={"accept": True}, headers=w["firm"])
    api.post(f"/deals/{pair['demand_id']}/{pair['achievement_id']}/messages", headers=w["firm"], json={
        "body": "现场看设备", "meeting_at": "2030-03-02T10:00:00+08:00", "meeting_place": "大连高新区"})
    deliver_due(api.users.factory, settings)
    invite = next(m for m in smtp_server.to("office@office.test") if "约见" in m["Subject"])
    ics = next(part for part in invite.iter_attachments() if part.get_content_type() == "text/calendar")
    calendar = ics.get_content()
    calendar = calendar.decode() if isinstance(calendar, bytes) else calendar
    assert "DTSTART:20300302T020000Z" in calendar and "LOCATION:大连高新区" in calendar
    token = invite["List-Unsubscribe"].strip("<>").split("token=")[1]
    page = api.get("/web/unsubscribe", params={"token": token})
    assert page.status_code == 200 and "对接记录中的新留言和约见" in page.text and "确认退订" in page.text
    done = api.post("/web/unsubscribe", data={"token": token})
    assert done.status_code == 200 and "已退订" in done.text
    with api.users.factory() as session:
        assert preferences(session, office_id)[v.NoticeKind.DEAL_MESSAGE] is v.Delivery.OFF
    assert api.post("/web/unsubscribe", data={"token": token + "x"}).status_code == 400


def test_a_refusing_server_is_retried_with_backoff(api, seeded_url):
    w = deal_world(api)
    set_email(api, w["office"], "office@office.test")
    down = MailCatcher()   # not started: connections are refused
    settings = mail_settings(seeded_url, down.url)
    api.post("/introductions", json={"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"]},
             headers=w["firm"])
    now = dt.datetime.now(dt.UTC)
    assert deliver_due(api.users.factory, settings, now=now) == 0
    with api.users.factory() as session:
        waiting = session.scalars(select(Notice).where(Notice.email_state == "queued")).all()
        assert waiting and all(n.email_attempts == 1 and n.email_error for n in waiting)
    down.controller.start()
    try:
        assert deliver_due(api.users.factory, settings, now=now) == 0          # not due yet: backing off
        assert deliver_due(api.users.factory, settings, now=now + dt.timedelta(minutes=2)) == len(waiting)
        assert len(down.to("office@office.test")) == len(waiting)
    finally:
        down.controller.stop()


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_the_job_queue_delivers_on_sqlite_and_on_redis(migrated_url, tmp_path, smtp_server, store):
    jobs_url = "redis://127.0.0.1:6379/15" if store == "redis" else f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    settings = mail_settings(migrated_url, smtp_server.url, jobs_url=jobs_url, semantic=False,
                             index_dir=tmp_path / "index")
    user_id = _user_with_email(migrated_url, "queue@example.test")
    queue = make_queue(settings)
    queue.flush()
    with transaction(make_session_factory(make_engine(migrated_url))) as session:
        notify(session, [user_id], kind=v.NoticeKind.DEAL_STAGE, event=f"queue-test:{store}", title="对接进展：测试")
    enqueue(queue, "deliver_notices")
    assert len(queue) == 1 and run_burst(queue) >= 1
    assert [m["Subject"] for m in smtp_server.to("queue@example.test")] == ["【科技成果对接】对接进展：测试"]
    queue.flush()


def _user_with_email(url: str, address: str) -> int:
    from matchmaker.identity.services import create_user
    from matchmaker.models import Organisation

    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        organisation = Organisation(name="邮件测试单位", kind="enterprise")
        session.add(organisation)
        session.flush()
        user, _ = create_user(session, role="firm", organisation_id=organisation.id, name="邮件测试")
        user.email = address
        return user.id


def test_kill_9_mid_batch_loses_nothing_and_resends_at_most_the_one_in_flight(migrated_url, tmp_path):
    """`matchmaker worker --burst` killed while sending 120 messages; restarted, then once the lease of the message
    it was sending runs out: every message arrives, none twice except possibly that one, with its same Message-ID."""
    catcher = MailCatcher(delay=0.02)
    catcher.controller.start()
    try:
        user_id = _user_with_email(migrated_url, "many@example.test")
        with transaction(make_session_factory(make_engine(migrated_url))) as session:
            notify(session, [user_id], kind=v.NoticeKind.DEAL_STAGE, event="placeholder", title="占位")
            for n in range(120):
                notify(session, [user_id], kind=v.NoticeKind.DEAL_MESSAGE, event=f"burst:{n}", title=f"第{n}条")
        env = {**os.environ, "MATCHMAKER_DATABASE_URL": migrated_url, "MATCHMAKER_SMTP_URL": catcher.url,
               "MATCHMAKER_SEMANTIC": "off", "MATCHMAKER_JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
               "MATCHMAKER_INDEX_DIR": str(tmp_path / "index"), "MATCHMAKER_SECRET_KEY": "k"}
        worker = subprocess.Popen([str(MATCHMAKER), "worker", "--burst"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(catcher.messages) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_after = len(catcher.messages)
        assert 30 <= killed_after < 121, "the worker was not killed mid-batch"
        subprocess.run([str(MATCHMAKER), "worker", "--burst"], env=env, check=True, capture_output=True, timeout=120)
        # The message in flight at the kill is leased for LEASE; once that runs out it goes again.
        deliver_due(make_session_factory(make_engine(migrated_url)), mail_settings(migrated_url, catcher.url),
                    now=dt.datetime.now(dt.UTC) + LEASE + dt.timedelta(seconds=1))
        ids = [m["Message-ID"] for m in catcher.messages]
        expected = {f"<burst-{n}.u{user_id}@matchmaker.test>" for n in range(120)} | {
            f"<placeholder.u{user_id}@matchmaker.test>"}
        assert set(ids) == expected                      # nothing lost
        assert len(ids) - len(set(ids)) <= 1             # at most the one in flight, with the same Message-ID
        with make_session_factory(make_engine(migrated_url))() as session:
            assert set(session.scalars(select(Notice.email_state))) == {"sent"}
        print(f"\nkilled after {killed_after} of 121 messages; {len(ids) - len(set(ids))} sent twice")
    finally:
        catcher.controller.stop()


def test_no_smtp_url_means_nothing_is_sent_and_notices_stay_in_the_inbox(api, seeded_url):
    w = deal_world(api)
    set_email(api, w["office"], "office@office.test")
    api.post("/introductions", json={"demand_id": w["demand"]["id"], "achievement_id": w["achievement_id"]},
             headers=w["firm"])
    assert deliver_due(api.users.factory, Settings(database_url=seeded_url, smtp_url="")) == 0
    with api.users.factory() as session:
        assert None in set(session.scalars(select(Notice.email_state)))
    assert api.get("/me/notices", headers=w["office"]).json()["total"] >= 1


def test_publishing_a_strong_match_emails_the_firm_through_worker_burst(api, seeded_url, smtp_server, tmp_path):
    """The issue's must-show: MATCHMAKER_SMTP_URL set, `matchmaker worker --burst` run, a strongly matching
    achievement published: the demand's firm gets an email naming both postings and linking to the match."""
    demand = deal_world(api)["demand"]
    firm = api.users.headers("firm", api.orgs.firm, name="企业-王工")
    set_email(api, firm, "wang@firm.test")
    office = api.users.headers("office", api.orgs.other_office)
    with api.users.factory() as session:
        problem = session.scalar(select(User).where(User.email == "wang@firm.test")) and demand["problem"]
    achievement_id = publish_achievement(api, office, {
        "title": demand["title"], "summary": problem, "field": demand["field"], "trl": 9, "region": demand["region"]})
    env = {**os.environ, "MATCHMAKER_DATABASE_URL": seeded_url, "MATCHMAKER_SMTP_URL": smtp_server.url,
           "MATCHMAKER_SEMANTIC": "off", "MATCHMAKER_JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
           "MATCHMAKER_INDEX_DIR": str(tmp_path / "index"), "MATCHMAKER_PUBLIC_URL": SITE}
    subprocess.run([str(MATCHMAKER), "worker", "--burst"], env=env, check=True, capture_output=True, timeout=300)
    mail = next(m for m in smtp_server.to("wang@firm.test") if "高度匹配" in m["Subject"])
    plain, html = text_and_html(mail)
    assert demand["title"][:40] in mail["Subject"] and f"《{demand['title'][:60]}》" in plain
    assert f"{SITE}/web/deals/{demand['id']}/{achievement_id}" in plain and "匹配度" in plain
