"""Memory of N worker processes serving one saved index (issue 17): read into each process, as before, against
memory-mapped (`TextIndex.load(mmap=True)`, what `MatchingService` now does), in the same run.

    python -m benchmarks.speed.shared_index --docs 1000000 --workers 4

Each worker loads the index, answers the same queries (so every page a query needs is touched), and reports its
RSS and PSS (/proc/self/smaps_rollup: PSS divides each shared page among the processes mapping it, so the sum of
PSS over the workers is the memory they take together). All workers are alive when they measure.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import tempfile
import time

from benchmarks.speed.synthetic_corpus import CorpusGenerator
from matchmaker.matching.index import TextIndex
from matchmaker.matching.text_model import TextModel


def memory_mb() -> tuple[float, float]:
    """(RSS, PSS) of this process in MB."""
    found = {}
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                found[key] = int(rest.split()[0]) / 1024
    return found["Rss"], found["Pss"]


def worker(path: str, mmap: bool, queries: list, ready, measured, results) -> None:
    started = time.perf_counter()
    index = TextIndex.load(path, mmap=mmap)
    load_s = time.perf_counter() - started
    for title, body in queries:
        index.search(title, body, k=10)
    ready.wait()          # every worker has loaded and queried: measure together
    rss, pss = memory_mb()
    results.put((rss, pss, load_s))
    measured.wait()       # stay alive until all have measured (a worker that exits frees its share)


def run(path: str, mmap: bool, workers: int, queries: list) -> list[tuple[float, float, float]]:
    context = mp.get_context("spawn")   # fresh interpreters, as uvicorn's workers are
    ready, measured, results = context.Barrier(workers), context.Barrier(workers + 1), context.Queue()
    processes = [context.Process(target=worker, args=(path, mmap, queries, ready, measured, results))
                 for _ in range(workers)]
    for p in processes:
        p.start()
    found = [results.get(timeout=1800) for _ in processes]
    measured.wait()
    for p in processes:
        p.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    titles, bodies, _ = CorpusGenerator(seed=1).achievements(args.docs)
    q_titles, q_bodies, _ = CorpusGenerator(seed=2).demands(args.queries)
    queries = list(zip(q_titles, q_bodies))
    started = time.perf_counter()
    index = TextIndex(TextModel()).fit(range(len(titles)), titles, bodies)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        path = os.path.join(folder, "index")
        index.save(path)
        del index, titles, bodies
        gc.collect()
        size_mb = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) / 2**20
        print(f"{args.docs:,} synthetic achievements; built in {build_s:.0f} s; saved index {size_mb:,.0f} MB; "
              f"{args.workers} workers, {args.queries} queries each\n")
        print("| load | workers | RSS each (MB) | PSS each (MB) | PSS of all workers (MB) | load s (max) |")
        print("|---|---:|---:|---:|---:|---:|")
        totals = {}
        for mmap in (False, True):
            found = run(path, mmap, args.workers, queries)
            rss = [f[0] for f in found]
            pss = [f[1] for f in found]
            totals[mmap] = sum(pss)
            print(f"| {'memory-mapped' if mmap else 'read into each (before)'} | {args.workers} | "
                  f"{min(rss):,.0f}–{max(rss):,.0f} | {min(pss):,.0f}–{max(pss):,.0f} | {sum(pss):,.0f} | "
                  f"{max(f[2] for f in found):.2f} |")
        print(f"\n{args.workers} workers take {totals[False] / totals[True]:.1f}× less memory mapped than read.")


if __name__ == "__main__":
    main()
