"""A query's library statistics (the mean and deviation of its scores over the index's sample of rows, which every
ranking turns into z-scores): the sample's rows stacked once (`TextIndex.library_stats`, since 2026-12-03) against
gathering them for every query (`scores_of` over the sample, before), alternated in one process, with a check that
both give the same figures to the bit.

    python -m benchmarks.speed.library_stats [--queries 400] [--rounds 5] [--world FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.common import scratch_settings
from matchmaker.db import make_engine, make_session_factory
from matchmaker.matching.records import demand_doc
from matchmaker.matching.service import MatchingService
from matchmaker.models import Demand
from matchmaker.simulation.runs import world_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--world", default=None, help="an existing world database (copied, never written)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = scratch_settings(Path(folder))
        world = Path(folder) / "world.db"
        shutil.copy(args.world or world_file(scratch, "province", 1), world)
        url = f"sqlite:///{world}"
        factory = make_session_factory(make_engine(url))
        service = MatchingService(dataclasses.replace(scratch, database_url=url), factory)
        service.rebuild()
        index = service.matcher.achievement_index
        with factory() as session:
            demands = [demand_doc(d) for d in session.scalars(select(Demand).order_by(Demand.id).limit(args.queries))]
        vectors = index.query_vectors([d.title for d in demands], [d.body for d in demands])
        queries = [vectors[i] for i in range(len(demands))]

        def gathered(query):
            scores = index.scores_of(query, index.sample_rows())
            return float(scores.mean()), float(scores.std())

        same = sum(gathered(q) == index.library_stats(q) for q in queries)
        times: dict[str, list[float]] = {"rows gathered per query": [], "rows stacked once": []}
        for _ in range(args.rounds):
            for name, run in (("rows gathered per query", gathered), ("rows stacked once", index.library_stats)):
                started = time.perf_counter()
                for query in queries:
                    run(query)
                times[name].append((time.perf_counter() - started) / len(queries) * 1000)
        print(f"{len(queries)} province demands, a sample of {index.sample_rows().size} rows; "
              f"the same figures to the bit for {same} of {len(queries)}")
        print("| library statistics | ms a query, each round | median |\n|---|---|---:|")
        for name, rounds in times.items():
            print(f"| {name} | {', '.join(f'{t:.3f}' for t in rounds)} | {statistics.median(rounds):.3f} |")


if __name__ == "__main__":
    main()
