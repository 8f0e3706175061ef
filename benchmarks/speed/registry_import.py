"""Importing a 10,000-contract .xlsx into the registry, next to the same rows as CSV, in one run (issue 15 asks
≤ 30 s for 10,000 rows of contracts).

    python -m benchmarks.speed.registry_import [--rows 10000] [--postgres]

The rows are made as a registration office's workbook: the form's Chinese words, 400 parties (half new to the
platform), registered numbers in this platform's pattern; each file goes into a fresh migrated database, and the
time covers reading, checking every row with the form's rules, resolving and creating parties, and the inserts.
Three runs per file; the median is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from matchmaker import migrate
from matchmaker.brokerage import form
from matchmaker.brokerage.registry_io import COLUMNS, import_contracts, to_csv, to_xlsx
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.reference import sync_reference_data
from matchmaker.seeds import fields

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CITIES = ("210100", "210200", "210300", "220100", "230100", "110000", "310000", "440300")


def rows(n: int, seed: int = 1) -> list[list]:
    rng = random.Random(seed)
    field_names = [f.name for f in fields()]
    parties = [(f"登记测试单位{i:03d}", rng.choice(list(form.PARTY_TYPES.values())), rng.choice(CITIES)) for i in range(400)]
    out = []
    for i in range(n):
        kind = rng.choice(list(form.CONTRACT_TYPES))
        signed = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(330))
        amount = rng.randrange(10_000, 50_000_000) + rng.randrange(100) / 100
        seller, buyer = rng.sample(parties, 2)
        record = {"registration_number": f"2025{seller[2]}{i + 1:06d}", "registered_on": (signed + dt.timedelta(days=20)).isoformat(),
                  "title": f"{rng.choice(field_names)}技术合同第{i}号", "contract_type": form.CONTRACT_TYPES[kind],
                  "sub_type": rng.choice(list(form.SUBTYPES[kind].values())), "signed_on": signed.isoformat(),
                  "valid_from": signed.isoformat(), "valid_until": (signed + dt.timedelta(days=730)).isoformat(),
                  "amount": f"{amount:.2f}", "certified_amount": f"{amount * 0.8:.2f}",
                  "payment_mode": rng.choice(["一次性支付", "分期支付", "提成支付"]), "trial_ends_on": "",
                  "licence_scope": "普通许可" if kind == "licence" else "", "seller_name": seller[0],
                  "seller_party_type": seller[1], "seller_country": "中国", "seller_region_code": seller[2],
                  "buyer_name": buyer[0], "buyer_party_type": buyer[1], "buyer_country": "中国",
                  "buyer_region_code": buyer[2], "field_code": rng.choice(field_names),
                  "ip_type": rng.choice(list(form.IP_TYPES.values())), "programme": rng.choice(list(form.PROGRAMMES.values())),
                  "foreign_related": "否", "tax_relief": rng.choice(["是", "否"])}
        out.append([record[name] for name in COLUMNS])
    return out


def fresh_database(folder: Path, postgres: bool) -> str:
    if postgres:
        name = f"mm_bench_registry_{uuid.uuid4().hex[:8]}"
        from sqlalchemy import create_engine
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sync_reference_data(engine)
    engine.dispose()
    return url


def drop(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="import into PostgreSQL at 127.0.0.1 instead of SQLite")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mm-registry-"))
    table = rows(args.rows)
    files = {"xlsx": to_xlsx(iter(table)), "csv": to_csv(iter(table))}
    for fmt, data in files.items():
        print(f"{fmt}: {len(data) / 1e6:.1f} MB")
    print(f"| file | rows | database | import s (median of {args.runs}) | rows/s |\n|---|---:|---|---:|---:|")
    for fmt, data in files.items():
        times = []
        for _ in range(args.runs):
            url = fresh_database(folder, args.postgres)
            engine = make_engine(url)
            started = time.perf_counter()
            with transaction(make_session_factory(engine)) as session:
                count = import_contracts(session, actor=None, data=data, fmt=fmt, today=dt.date(2026, 1, 1)).contracts
            times.append(time.perf_counter() - started)
            engine.dispose()
            drop(url)
        median = statistics.median(times)
        print(f"| {fmt} | {count:,} | {'PostgreSQL' if args.postgres else 'SQLite'} | {median:.1f} | {count / median:,.0f} |")


if __name__ == "__main__":
    main()
