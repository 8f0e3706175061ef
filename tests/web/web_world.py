"""A demo world with demo users on a real `matchmaker serve` process, for the page tests and the screenshot script."""

from __future__ import annotations

import datetime as dt
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from matchmaker.db import make_engine, make_session_factory
from matchmaker.models import Achievement
from matchmaker.identity.demo import DEMO_USERS

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from live_server import Server  # noqa: E402
from mail_catcher import MailCatcher  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def playwright_or_skip():
    """Playwright's sync API for a page-test module; without Debian's Chromium the module is skipped (failed in CI)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)", pytrace=False)
        pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


def build_world(folder: Path, templates) -> tuple[str, dict[str, tuple[str, str]]]:
    """A copy of the run's demo world (seed 1) with one demo user per role (tests/conftest.py `Templates`, kind
    `demo`: built once for the run, shared by both test processes); returns (url, {role: (login, password)})."""
    users = {login.removeprefix("demo_"): (login, password) for _role, login, password, _kind in DEMO_USERS}
    return templates.copy_into("demo", f"sqlite:///{folder / 'pages.db'}"), users


def published_achievement(url: str) -> Achievement:
    """A published achievement with a field and keywords, to word a demand that must match it."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        row = session.scalar(select(Achievement).where(
            Achievement.status == "published", Achievement.field_code.is_not(None), Achievement.keywords != "",
            Achievement.expires_on.is_(None) | (Achievement.expires_on > dt.date.today() + dt.timedelta(days=60)))
            .order_by(Achievement.id).limit(1))
        if row is None:
            row = session.scalar(select(Achievement).where(Achievement.status == "published",
                                                           Achievement.field_code.is_not(None)).order_by(Achievement.id))
        session.expunge(row)
    engine.dispose()
    return row


@contextmanager
def running_server(url: str, folder: Path):
    """`matchmaker serve` on a free port; a fixed secret key so no var/secret_key is written in the work tree."""
    previous = os.environ.get("MATCHMAKER_SECRET_KEY")
    os.environ["MATCHMAKER_SECRET_KEY"] = "page-tests-secret-key-not-for-production"
    server = Server(url, folder, workers=1)
    try:
        server.start(timeout=60)
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("MATCHMAKER_SECRET_KEY", None)
        else:
            os.environ["MATCHMAKER_SECRET_KEY"] = previous


def worker_burst(url: str, folder: Path, *, smtp_url: str, base: str) -> None:
    """`matchmaker worker --burst` on the test's database: sends what mail is due to the test's SMTP server."""
    import subprocess

    env = {**os.environ, "MATCHMAKER_DATABASE_URL": url, "MATCHMAKER_SMTP_URL": smtp_url,
           "MATCHMAKER_SEMANTIC": "off", "MATCHMAKER_JOBS_URL": f"sqlite:///{folder / 'jobs.sqlite'}",
           "MATCHMAKER_INDEX_DIR": str(folder / "worker-index"), "MATCHMAKER_PUBLIC_URL": base,
           "MATCHMAKER_SECRET_KEY": "page-tests-secret-key-not-for-production"}
    subprocess.run([str(Path(sys.executable).with_name("matchmaker")), "worker", "--burst"], env=env, check=True,
                   capture_output=True, timeout=300)


def login(page, base_url: str, user: tuple[str, str]) -> None:
    page.goto(f"{base_url}/web/login")
    page.get_by_label("用户名或用户编号").fill(user[0])
    page.get_by_label("密码").fill(user[1])
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


@contextmanager
def site_with_mail(folder: Path, templates):
    """The demo world on a live server, Chromium, and a real SMTP server catching the mail the worker sends."""
    from playwright.sync_api import sync_playwright

    url, users = build_world(folder, templates)
    catcher = MailCatcher()
    catcher.controller.start()
    try:
        with running_server(url, folder) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield {"base": server.base_url, "users": users, "browser": browser, "url": url, "mail": catcher,
                   "folder": folder}
            browser.close()
    finally:
        catcher.controller.stop()
