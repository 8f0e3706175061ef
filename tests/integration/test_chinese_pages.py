"""People read Chinese (issue 14): a crawl of every page each role can reach — and of the answers to mistakes
(an unknown address, a missing record, a refused form) — finds no English sentence and no internal state name."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from matchmaker.app import create_app
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory
from matchmaker.identity.demo import DEMO_USERS
from matchmaker.models import Achievement, Demand

pytestmark = pytest.mark.slow

# Three or more Latin words in a row is a sentence someone forgot to translate; single codes (TRL, CSV, MBR, an
# email address, a login name) are not.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’()-]+[A-Za-z]{2,}){2,}")
STATE_NAMES = re.compile(r"\b(pending_review|published|withdrawn|transferred|negotiating|contacted|claimed|"
                         r"declined|accepted|draft|expired|solved)\b")
SKIP = re.compile(r"^/web/(static|logout|unsubscribe)|\.(csv|ics|json)$|/export|format=csv")
PAGES_PER_ROLE = 70


class _Text(HTMLParser):
    """The text a person sees (not scripts, styles or attribute values), and the links to follow."""

    def __init__(self) -> None:
        super().__init__()
        self.text, self.links, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):   # a command to type (in <code>) is not a sentence to read
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


def _problems(path: str, html: str) -> tuple[list[str], list[str]]:
    parser = _Text()
    parser.feed(html)
    found = []
    for line in parser.text:
        for match in [*ENGLISH.finditer(line), *STATE_NAMES.finditer(line)]:
            found.append(f"{path}: {match.group(0)!r} in {line[:80]!r}")
    return found, parser.links


def _login(client: TestClient, login: str, password: str) -> None:
    client.cookies.clear()
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/web/login").text).group(1)
    response = client.post("/web/login", data={"login": login, "password": password, "_csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def _crawl(client: TestClient, starts: list[str]) -> tuple[list[str], int]:
    seen, queue, problems = set(), list(starts), []
    per_pattern: dict[str, int] = {}
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.pop(0)
        if path in seen or SKIP.search(path):
            continue
        pattern = re.sub(r"\d+", "N", urlsplit(path).path)   # a few of each kind of page, not all 2,000 postings
        if per_pattern.get(pattern, 0) >= 3:
            continue
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        found, links = _problems(path, response.text)
        problems += found
        for link in links:
            target = urlsplit(urljoin(path, link))
            if not target.netloc and target.path.startswith("/web"):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return problems, len(seen)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, templates):
    folder = tmp_path_factory.mktemp("chinese")
    url = templates.copy_into("demo", f"sqlite:///{folder / 'pages.db'}")   # the demo world with its demo users
    engine = make_engine(url)
    users = {login: password for _role, login, password, _ in DEMO_USERS}
    with make_session_factory(engine)() as session:
        ids = (session.scalar(select(Achievement.id).where(Achievement.status == "published").limit(1)),
               session.scalar(select(Demand.id).where(Demand.status == "published").limit(1)))
    engine.dispose()
    app = create_app(Settings(database_url=url, index_dir=folder / "index", semantic=False))
    with TestClient(app) as client:
        yield client, users, ids


def test_no_page_of_any_role_shows_english(demo):
    client, users, (achievement, demand) = demo
    problems, crawled = [], 0
    client.cookies.clear()
    found, count = _crawl(client, ["/web/", "/web/market/achievements", "/web/market/challenges", "/web/register",
                                   "/web/forgot-password", "/web/nonexistent", "/web/market/demands/99999999"])
    problems, crawled = problems + found, crawled + count
    for login, password in users.items():
        _login(client, login, password)
        found, count = _crawl(client, ["/web/", f"/web/achievements/{achievement}", f"/web/demands/{demand}",
                                       "/web/achievements/99999999", "/web/nowhere"])
        problems, crawled = problems + found, crawled + count
    assert crawled > 150
    assert problems == [], "\n".join(sorted(set(problems))[:60])


def test_refused_forms_answer_in_chinese(demo):
    client, users, _ = demo
    _login(client, "demo_firm", users["demo_firm"])
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/web/demands/new").text).group(1)
    for form in ({"title": "", "action": "submit"}, {"title": "测试", "budget_min": "abc", "budget_max": "1",
                                                      "deadline": "2020-01-01", "action": "submit"},
                 {"title": "测试", "min_trl": "12", "action": "save"}):
        response = client.post("/web/demands/new", data={**form, "_csrf_token": token})
        found, _ = _problems("/web/demands/new (refused)", response.text)
        assert response.status_code in (200, 303, 422) and found == [], found
    reversed_range = client.get("/web/search", params={"trl_min": "9", "trl_max": "1"})
    assert "下限不能高于上限" in reversed_range.text and _problems("/web/search", reversed_range.text)[0] == []

    _login(client, "demo_broker", users["demo_broker"])   # a second claim of the same pair is refused, in Chinese
    queue = client.get("/web/broker/queue").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', queue).group(1)
    claim = re.search(r'<form[^>]*action="(/web/broker/claim)"[^>]*>(.*?)</form>', queue, re.S)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', claim.group(2)))
    first = client.post(claim.group(1), data={**fields, "_csrf_token": token})
    again = client.post(claim.group(1), data={**fields, "_csrf_token": token})
    assert first.status_code in (200, 303) and again.status_code == 409, (first.status_code, again.status_code)
    assert "不能重复认领" in again.text and _problems("claim again", again.text)[0] == []
