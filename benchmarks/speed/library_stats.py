"""A query's library statistics (the mean and deviation of its scores over the index's sample of rows, which every
ranking turns into z-scores): the sample's rows stacked once (`TextIndex.library_stats`, since 2026-12-03) against
gathering them for every query (`scores_of` over the sample, before), alternated in one process, with a check that
both give the same figures to the bit.

    python -m benchmarks.speed.library_stats [--queries 400] [--rounds 5] [--world FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.common import province_queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--world", default=None, help="an existing world database (copied, never written)")
    args = parser.parse_args()
    with province_queries(args.world, args.queries) as (index, queries):
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
