"""Rows/s of `matchmaker seed --scale province` on SQLite and PostgreSQL, next to an ORM unit-of-work baseline."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from matchmaker import migrate
from matchmaker.db import make_engine
from matchmaker.models import Achievement, Organisation
from matchmaker.reference import sync_reference_data
from matchmaker.world.generate import generate_world

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def measure(url: str, scale: str, baseline_rows: int) -> dict:
    migrate.upgrade(url)
    engine = make_engine(url)
    sync_reference_data(engine)
    result = generate_world(engine, scale=scale, seed=1)
    rows = sum(result.counts.values())
    world = {"seconds": round(result.seconds, 2), "rows": rows, "rows_per_s": round(rows / result.seconds)}
    world["counts"] = result.counts
    # Baseline: the same kind of achievement rows written through the ORM unit of work (session.add_all).
    with Session(engine) as session:
        template = session.scalars(select(Achievement).limit(1)).one()
        org_id = session.scalar(select(func.min(Organisation.id)))
        started = time.perf_counter()
        session.add_all(
            Achievement(title=f"{template.title}{i}", summary=template.summary, keywords=template.keywords,
                        field_code=template.field_code, trl=template.trl, organisation_id=org_id,
                        region_code=template.region_code, transfer_modes=template.transfer_modes,
                        asking_price=template.asking_price, status="published")
            for i in range(baseline_rows)
        )
        session.commit()
        seconds = time.perf_counter() - started
    engine.dispose()
    return {"world": world, "orm_baseline": {"rows": baseline_rows, "rows_per_s": round(baseline_rows / seconds)}}


def postgres_database() -> tuple[str, callable]:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"mm_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    args = parser.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as folder:
        report["sqlite"] = measure(f"sqlite:///{Path(folder) / 'seed.db'}", args.scale, args.baseline_rows)
    url, drop = postgres_database()
    try:
        report["postgresql"] = measure(url, args.scale, args.baseline_rows)
    finally:
        drop()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
