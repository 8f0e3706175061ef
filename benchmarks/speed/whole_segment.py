"""Below what size a segment is cheaper to score whole (one exact mat-vec) than through candidate generation over
its truncated posting lists — the figure behind `index.WHOLE_SEGMENT`. Whole scoring is timed two ways: the mat-vec
over every entry (until 2026-12-03) and the segment's columns for the query's terms (`Segment.all_scores`, since).

The province world's published achievements are one segment; it is stacked 1, 2, 4 and 8 times to see both costs
grow. The same demand queries go through both, alternately, three rounds; medians per query.

    python -m benchmarks.speed.whole_segment [--queries 200] [--world FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp

from benchmarks.common import province_queries
from matchmaker.matching.index_segments import CANDIDATES, candidates, exact_scores, scaled, seal


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
    with province_queries(args.world, args.queries) as (index, vectors):
        queries = [vector for vector in vectors if vector.nnz]
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
