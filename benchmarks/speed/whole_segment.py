"""Below what size a segment is cheaper to score whole (one exact mat-vec) than through candidate generation over
its truncated posting lists — the figure behind `index.WHOLE_SEGMENT`. Whole scoring is timed two ways: the mat-vec
over every entry (until 2026-12-03) and the segment's columns for the query's terms (`Segment.all_scores`, since).

The province world's published achievements are one segment; it is stacked 1, 2, 4 and 8 times to see both costs
grow. The same demand queries go through both, alternately, three rounds; medians per query.

    python -m benchmarks.speed.whole_segment [--queries 200] [--world FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select

from benchmarks.common import scratch_settings
from matchmaker.db import make_engine, make_session_factory
from matchmaker.matching.index_segments import CANDIDATES, candidates, exact_scores, scaled, seal
from matchmaker.matching.records import demand_doc
from matchmaker.matching.service import MatchingService
from matchmaker.models import Demand
from matchmaker.simulation.runs import world_file


def per_query_ms(run, queries) -> float:
    started = time.perf_counter()
    for query in queries:
        run(query)
    return (time.perf_counter() - started) / len(queries) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
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
        queries = [vectors[i] for i in range(len(demands)) if vectors[i].nnz]
        matrix = index._segments[0].matrix
        buffer = np.zeros(matrix.shape[1], dtype=np.float32)
        print(f"{len(queries)} queries, {np.mean([q.nnz for q in queries]):.0f} terms each on average")
        print("| rows | candidates + exact scores, ms | whole mat-vec, ms | whole by columns, ms | columns / candidates |")
        print("|---:|---:|---:|---:|---:|")
        for times in (1, 2, 4, 8):
            stacked = sp.vstack([matrix] * times, format="csr")
            segment = seal(0, stacked)
            allowed = np.ones(stacked.shape[0], dtype=bool)
            wanted = max(scaled(CANDIDATES, segment.size), 2 * 100)

            def by_candidates(query):
                order = np.argsort(-query.data, kind="stable")
                terms, weights = query.indices[order].astype(np.int64), query.data[order]
                buffer[terms] = weights
                exact_scores(segment.matrix, candidates(segment, terms, weights, allowed, False, wanted), buffer)
                buffer[terms] = 0.0

            def whole(query):
                buffer[query.indices] = query.data
                scores = stacked @ buffer
                np.flatnonzero(allowed & (scores > 0))
                buffer[query.indices] = 0.0

            def by_columns(query):
                order = np.argsort(query.indices)
                scores = segment.all_scores(query.indices[order].astype(np.int64), query.data[order])
                np.flatnonzero(allowed & (scores > 0))

            runs = (by_candidates, whole, by_columns)
            rounds = [[per_query_ms(run, queries) for run in runs] for _ in range(3)]
            a, b, c = (statistics.median(r[i] for r in rounds) for i in range(3))
            print(f"| {stacked.shape[0]:,} | {a:.2f} | {b:.2f} | {c:.2f} | {c / a:.2f} |")


if __name__ == "__main__":
    main()
