"""A library page with its total (issue 17: listing at scale): `db.paged` as `catalog.list_records` calls it — the
page, then the visible parts counted one by one, reading no columns, up to COUNT_CAP — against the same count
without the cap and against the COUNT(*) OVER () window it replaced, in the same run, in-process (no HTTP).

    python -m benchmarks.speed.listing --scale province --repeat 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from benchmarks.common import scratch_settings
from matchmaker import migrate
from matchmaker import vocabulary as v
from matchmaker.catalog import services as catalog
from matchmaker.catalog.access import visible_parts
from matchmaker.catalog.specs import ACHIEVEMENTS, DEMANDS
from matchmaker.db import COUNT_CAP, make_engine, paged
from matchmaker.identity.services import Actor
from matchmaker.models import Organisation
from matchmaker.simulation.runs import world_file


def window_paged(session: Session, statement, *, limit: int, offset: int):
    """The baseline: the total rides on the page as a window function."""
    rows = session.execute(statement.add_columns(func.count().over()).limit(limit).offset(offset)).all()
    return [tuple(r)[:-1] for r in rows], (rows[0][-1] if rows else 0)


def timed(engine, statement, pager, repeat: int) -> tuple[float, float, int]:
    times, total = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        with Session(engine) as session:
            _, total = pager(session, statement, limit=20, offset=0)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--world", default=None, help="an existing world database instead of generating one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(folder)
        migrate.upgrade(settings.database_url)
        world = args.world or world_file(settings, args.scale, 1)
        engine = make_engine(f"sqlite:///{world}")
        with Session(engine) as session:
            firm = session.scalar(select(Organisation.id).where(Organisation.kind == "enterprise").limit(1))
        actor = Actor(1, v.Role.FIRM, firm)
        print(f"{args.scale} world, first page of 20 as a firm, {args.repeat} times each (ms)\n")
        print("| list | filter | capped p50 | p95 | exact p50 | p95 | window p50 | p95 | capped vs window (p50) | "
              "total |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for spec in (ACHIEVEMENTS, DEMANDS):
            for label, query in (("none", catalog.ListQuery()), ("TRL ≥ 5", catalog.ListQuery(trl_min=5)),
                                 ("field", catalog.ListQuery(field="new_energy"))):
                filtered = catalog.apply_filters(select(spec.model), spec, query)
                parts = visible_parts(actor, spec.model)
                statement = catalog.apply_sort(filtered.where(or_(*parts)), spec, query.sort)
                counted = [filtered.where(part) for part in parts]   # as catalog.list_records counts

                def shipped(session, statement, *, limit, offset, counted=counted):
                    return paged(session, statement, limit=limit, offset=offset, counted_parts=counted,
                                 count_cap=COUNT_CAP)

                def exact(session, statement, *, limit, offset, counted=counted):
                    return paged(session, statement, limit=limit, offset=offset, counted_parts=counted)

                cap50, cap95, capped = timed(engine, statement, shipped, args.repeat)
                new50, new95, total = timed(engine, statement, exact, args.repeat)
                old50, old95, old_total = timed(engine, statement, window_paged, args.repeat)
                assert total == old_total and capped == min(total, COUNT_CAP + 1), (capped, total, old_total)
                shown = f"{total:,}" if capped == total else f"{total:,} (shown: more than {COUNT_CAP:,})"
                print(f"| {spec.library.value} | {label} | {cap50:.1f} | {cap95:.1f} | {new50:.1f} | {new95:.1f} | "
                      f"{old50:.1f} | {old95:.1f} | {old50 / cap50:.1f}× | {shown} |")
        engine.dispose()


if __name__ == "__main__":
    main()
