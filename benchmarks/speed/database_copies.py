"""What a test database costs PostgreSQL: CREATE DATABASE … TEMPLATE of the migrated schema and its DROP, in the
server's default tablespace and in one on a memory file system (/dev/shm), alternated round by round.

The tests make and drop a copy for each of their ~215 PostgreSQL cases (tests/conftest.py). Each copy is ~600
files. On this machine's ext4, mounted without a journal, the kernel looks for an inode that was not deleted in the
last five minutes each time it makes a file (`recently_deleted`, `find_inode_bit`), and after a few hundred copies
that search is most of PostgreSQL's CPU (perf record -a). The CPU is the server's: what its postmaster has reaped from
the backends that made and dropped the copies, read from /proc, so the server must run on this machine.

    python -m benchmarks.speed.database_copies --rounds 4 --copies 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from matchmaker import migrate
from matchmaker.db import make_engine
from matchmaker.reference import sync_reference_data

POSTGRES = os.environ.get("MATCHMAKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _server_cpu(postmaster: int) -> float:
    """CPU seconds of the backends the postmaster has reaped (user + system)."""
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _template(admin, name: str, tablespace: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TABLESPACE "{tablespace}"'))
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = make_engine(url)
    sync_reference_data(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--copies", type=int, default=10, help="copies made and dropped per round and place")
    parser.add_argument("--folder", type=Path, default=Path("/dev/shm"), help="the memory file system")
    args = parser.parse_args()
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    run = uuid.uuid4().hex[:8]
    with admin.connect() as conn:
        data = Path(conn.scalar(text("SHOW data_directory")))
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    location = args.folder / f"matchmaker-copies-{run}"
    location.mkdir()
    os.chown(location, data.stat().st_uid, data.stat().st_gid)
    places = {"default tablespace": "pg_default", f"tablespace in {args.folder}": f"mm_copies_{run}"}
    with admin.connect() as conn:
        conn.execute(text(f"CREATE TABLESPACE \"mm_copies_{run}\" LOCATION '{location}'"))
    try:
        for place, tablespace in places.items():
            _template(admin, f"mm_copies_{run}_{tablespace}", tablespace)
        figures: dict[str, list[tuple[float, float]]] = {place: [] for place in places}
        for _ in range(args.rounds):
            for place, tablespace in places.items():   # alternated, so both see the same machine
                before, started = _server_cpu(postmaster), time.perf_counter()
                for i in range(args.copies):
                    with admin.connect() as conn:
                        conn.execute(text(f'CREATE DATABASE "mm_copy_{run}_{i}" '
                                          f'TEMPLATE "mm_copies_{run}_{tablespace}"'))
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE "mm_copy_{run}_{i}" WITH (FORCE)'))
                figures[place].append(((time.perf_counter() - started) / args.copies,
                                       (_server_cpu(postmaster) - before) / args.copies))
        print(f"a copy of the migrated schema and its drop, per copy; median of {args.rounds} rounds of {args.copies}")
        for place, found in figures.items():
            print(f"{place:>28}: wall {statistics.median(w for w, _ in found):.3f} s, PostgreSQL CPU "
                  f"{statistics.median(c for _, c in found):.3f} s  (rounds: "
                  + ", ".join(f"{c:.3f}" for _, c in found) + ")")
    finally:
        with admin.connect() as conn:
            for tablespace in places.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "mm_copies_{run}_{tablespace}" WITH (FORCE)'))
            conn.execute(text(f'DROP TABLESPACE IF EXISTS "mm_copies_{run}"'))
        location.rmdir()


if __name__ == "__main__":
    main()
