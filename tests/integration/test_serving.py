"""`matchmaker serve --workers 2` spreads a client's keep-alive connections over its workers (matchmaker/serving.py)."""

from __future__ import annotations

import http.client
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from live_server import Server

from matchmaker import serving


def _holders(port: int, client_ports: set[int]) -> Counter:
    """How many of these client connections each server process holds (ss reads the kernel's socket table)."""
    lines = subprocess.run(["ss", "-tnpH", "state", "established", "sport", f"= :{port}"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    return Counter(re.search(r"pid=(\d+)", line).group(1) for line in lines
                   if int(line.split()[3].rsplit(":", 1)[1]) in client_ports)


def _both_workers_up(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while server.log_text().count("Application startup complete") < 2:
        assert time.monotonic() < deadline, "the second worker did not start"
        time.sleep(0.2)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_keep_alive_connections_go_to_the_worker_holding_fewer(migrated_url, tmp_path):
    # All opened at once, as a load tester or a proxy filling its upstream pool does: before serving.py the first
    # worker awake took the whole burst (8/0 and 7/1 were common over two workers).
    server = Server(migrated_url, tmp_path, workers=2).start()
    connections = []
    try:
        _both_workers_up(server)
        connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) for _ in range(12)]
        for connection in connections:
            connection.connect()
        for connection in connections:
            connection.request("GET", "/health")
        for connection in connections:
            connection.getresponse().read()
        held = _holders(server.port, {c.sock.getsockname()[1] for c in connections})
    finally:
        for connection in connections:
            connection.close()
        server.stop()
    assert sum(held.values()) == 12 and len(held) == 2, held
    assert max(held.values()) - min(held.values()) <= 2, held


def test_the_board_shows_each_worker_the_fewest_connections_elsewhere(tmp_path: Path):
    path = serving.create_board(tmp_path)
    mine, other = serving.Board(str(path)), serving.Board(str(path))
    assert other.slot != mine.slot and mine.fewest_elsewhere() == 0
    mine.publish(3)
    other.publish(1)
    assert mine.fewest_elsewhere() == 1 and other.fewest_elsewhere() == 3
    (tmp_path / "alone").mkdir()
    assert serving.Board(str(serving.create_board(tmp_path / "alone"))).fewest_elsewhere() is None
