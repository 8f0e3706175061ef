"""The release checks, as a user types them: mint an admin token on the command line, serve, read the spec."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
from live_server import MATCHMAKER, free_port
from sqlalchemy import insert

from matchmaker.db import make_engine
from matchmaker.identity.services import TOKEN_PREFIX
from matchmaker.models import Organisation

RELEASE_PORT = 8765  # the port the release checklist names


def _port() -> int:
    """8765 when it is free (as in the checklist); another free port when something else holds it."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", RELEASE_PORT))
            return RELEASE_PORT
        except OSError:
            return free_port()


def test_users_create_prints_a_token_and_serve_publishes_the_spec(migrated_url, tmp_path):
    engine = make_engine(migrated_url)
    with engine.begin() as conn:
        org_id = conn.execute(insert(Organisation).returning(Organisation.id),
                              [{"name": "科技厅", "kind": "government"}]).scalar_one()
    engine.dispose()
    env = {**os.environ, "MATCHMAKER_DATABASE_URL": migrated_url, "MATCHMAKER_INDEX_DIR": str(tmp_path / "index")}

    created = subprocess.run([str(MATCHMAKER), "users", "create", "--role", "admin", "--org", str(org_id), "--name", "ci"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith(TOKEN_PREFIX) and len(token) > len(TOKEN_PREFIX) + 20

    port = _port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([str(MATCHMAKER), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        spec = None
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=2) as client:   # one client: each `httpx.get` builds a TLS context
            while time.monotonic() < deadline and spec is None:
                assert server.poll() is None, f"serve exited with {server.returncode}: {log.read_text()[-2000:]}"
                try:
                    response = client.get(f"http://127.0.0.1:{port}/schema/openapi.json")
                    if response.status_code == 200:
                        spec = response.json()
                except httpx.TransportError:
                    time.sleep(0.2)
        assert spec is not None, f"no spec within 30s: {log.read_text()[-2000:]}"
        assert spec["openapi"].startswith("3.") and "/users" in spec["paths"] and "/demands/{demand_id}/matches" in spec["paths"]
        me = httpx.get(f"http://127.0.0.1:{port}/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200 and me.json()["role"] == "admin" and me.json()["name"] == "ci"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
