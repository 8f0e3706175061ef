"""Pages through Litestar's TestClient, logged in as a demo user: the `pages` fixture (in conftest.py) and these
helpers to read a form's CSRF token and to log in."""

from __future__ import annotations

import re


def token(client, path: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def log_in(client, login: str) -> None:
    client.cookies.clear()
    answer = client.post("/web/login", data={"login": login, "password": client.passwords[login],
                                             "_csrf_token": token(client, "/web/login")}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
