"""Peak memory of building the index (issue 17: the 1M build peaks at ≤ 4 GB), each build in its own process so
its peak RSS (ru_maxrss) is its own; the corpus is generated in that process too, so the peak includes the texts a
real build holds.

    python -m benchmarks.speed.build_memory --docs 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def build(docs: int, chunk_rows: int | None) -> dict:
    from benchmarks.speed.synthetic_corpus import CorpusGenerator
    from matchmaker.matching import text_model
    from matchmaker.matching.index import TextIndex
    from matchmaker.matching.text_model import TextModel

    titles, bodies, _ = CorpusGenerator(seed=1).achievements(docs)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if chunk_rows is not None:
        text_model.VECTOR_CHUNK_ROWS = chunk_rows
    started = time.perf_counter()
    index = TextIndex(TextModel()).fit(range(docs), titles, bodies)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"docs": docs, "seconds": round(seconds, 1), "peak_mb": round(peak), "before_build_mb": round(before),
            "rows": index.n_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chunk-rows", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(build(args.docs, args.chunk_rows)))
        return
    print(f"{args.docs:,} synthetic achievements; TextIndex.fit, one process per build\n")
    print("| build | seconds | peak RSS (MB) | RSS before the build (corpus, imports) |\n|---|---:|---:|---:|")
    for label, chunk in (("one chunk: the whole corpus at once", 10**9), ("in row chunks (shipped)", None)):
        command = [sys.executable, "-m", "benchmarks.speed.build_memory", "--child", "--docs", str(args.docs)]
        if chunk is not None:
            command += ["--chunk-rows", str(chunk)]
        found = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        print(f"| {label} | {found['seconds']} | {found['peak_mb']:,} | {found['before_build_mb']:,} |")


if __name__ == "__main__":
    main()
