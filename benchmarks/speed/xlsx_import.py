"""Importing a 10,000-row .xlsx next to the same rows as CSV, in one run (issue 15 asks ≤ 30 s for 10,000 rows).

    python -m benchmarks.speed.xlsx_import [--rows 10000]

Rows are achievements of the province world (seed 1) exported to .xlsx and CSV, then imported into a fresh SQLite
database each; the time covers reading, validating every row, the database checks and the inserts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from benchmarks.common import throwaway_world
from matchmaker import migrate
from matchmaker.catalog.io.export import export_file
from matchmaker.catalog.io.write import import_file
from matchmaker.db import make_engine
from matchmaker.models import Achievement, IPRecord
from matchmaker.reference import sync_reference_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mm-xlsx-"))
    with throwaway_world("province") as (_url, engine, _seconds):
        with engine.begin() as conn:   # keep the first N achievements, without their owners (a plain file)
            keep = [row[0] for row in conn.execute(Achievement.__table__.select().with_only_columns(
                Achievement.id).order_by(Achievement.id).limit(args.rows))]
            conn.execute(delete(IPRecord).where(IPRecord.achievement_id.not_in(keep)))
            conn.execute(delete(Achievement).where(Achievement.id.not_in(keep)))
            conn.execute(Achievement.__table__.update().values(organisation_id=None))
        files = {fmt: folder / f"achievements.{fmt}" for fmt in ("xlsx", "csv")}
        for fmt, path in files.items():
            started = time.perf_counter()
            export_file(engine, "achievements", path, fmt)
            print(f"export {fmt}: {time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    print("| file | rows | import s | rows/s |\n|---|---:|---:|---:|")
    for fmt, path in files.items():
        url = f"sqlite:///{folder / f'import-{fmt}.db'}"
        migrate.upgrade(url)
        target = make_engine(url)
        sync_reference_data(target)
        started = time.perf_counter()
        count = import_file(target, "achievements", path, None)
        seconds = time.perf_counter() - started
        print(f"| {fmt} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} |")
        target.dispose()


if __name__ == "__main__":
    main()
