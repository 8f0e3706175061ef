"""Speed benchmark of the matching index (build, top-10 query, live add, load) against bm25s on a synthetic corpus."""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time

# Single-threaded on purpose: the targets are per core, and the machine is shared.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np


from benchmarks.speed.synthetic_corpus import CorpusGenerator

from matchmaker.matching import index_store
from matchmaker.matching.index import TextIndex
from matchmaker.matching.ranking import DEFAULT_TEXT_PARAMS
from matchmaker.matching.text import char_ngrams, normalise
from matchmaker.matching.text_model import TextModel


PROVINCES = 31


def rss_mb() -> float:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def log(stage: str) -> None:
    """Progress with current and peak RSS on stderr (stdout carries only the JSON)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.strftime('%H:%M:%S')} {stage}: rss {rss_mb():.0f} MB, peak {peak:.0f} MB", file=sys.stderr, flush=True)


def percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3), "qps": round(len(ms) / (ms.sum() / 1000), 1)}


def timed(fn, items) -> tuple[list, list[float]]:
    results, seconds = [], []
    for item in items:
        start = time.perf_counter()
        results.append(fn(item))
        seconds.append(time.perf_counter() - start)
    return results, seconds


def bench_matchmaker(corpus, queries, new_docs, model_params: dict, workers: int, recall_queries: int) -> dict:
    titles, bodies, fields = corpus
    # A province per record (31, uniform) so that filtered queries can be timed as the API runs them.
    provinces = np.random.default_rng(4).integers(0, PROVINCES, len(titles))
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    index = TextIndex(TextModel(**model_params), workers=workers).fit(range(len(titles)), titles, bodies,
                                                                      {"field": fields, "province": provinces})
    build_s = time.perf_counter() - start
    gc.collect()
    grown = rss_mb() - before
    arrays_mb = sum(a.nbytes for a in index_store.arrays(index._parts()).values()) / 2**20
    log(f"matchmaker built in {build_s:.1f} s")

    # End to end (query vectorisation included), one query at a time.
    pairs = list(zip(*queries[:2]))
    _, seconds = timed(lambda q: index.search(q[0], q[1], k=10), pairs)
    qvecs = [index.query_vector(t, b) for t, b in pairs]
    approx, search_seconds = timed(lambda q: index.search_vector(q, 10), qvecs)
    log("matchmaker queries done")
    # Quality cost of pruning: share of the top-10 whose score reaches the exact 10th score (ties count).
    recall = []
    for q, got in zip(qvecs[:recall_queries], approx):
        exact = index.search_vector(q, 10, exact=True)
        if exact:
            recall.append(sum(s >= exact[-1][1] - 1e-6 for _, s in got[:len(exact)]) / len(exact))

    log("recall vs exact done")
    # Filtered queries, the mask built per query as Matcher._mask does: the demand's own field (a wide filter,
    # pruned search), and field + province (a narrow one, scored exhaustively under TextIndex.exhaustive_rows).
    query_fields = queries[2][:len(qvecs)]
    query_provinces = np.random.default_rng(5).integers(0, PROVINCES, len(qvecs))
    filtered = {}
    for name, make_mask in {
        "field": lambda i: index.mask_equal("field", int(query_fields[i])),
        "field_province": lambda i: (index.mask_equal("field", int(query_fields[i]))
                                     & index.mask_equal("province", int(query_provinces[i]))),
    }.items():
        got, secs = timed(lambda i: index.search_vector(qvecs[i], 10, mask=make_mask(i)), range(len(qvecs)))
        hits = []
        for i in range(min(recall_queries, len(qvecs))):
            exact = index.search_vector(qvecs[i], 10, mask=make_mask(i), exact=True)
            if exact:
                hits.append(sum(s >= exact[-1][1] - 1e-6 for _, s in got[i][:len(exact)]) / len(exact))
        stats = percentiles(secs)
        filtered[name] = {"p50_ms": stats["p50_ms"], "p95_ms": stats["p95_ms"],
                          "mean_rows_allowed": round(float(np.mean([make_mask(i).sum() for i in range(20)])), 1),
                          "top10_recall_vs_exact": round(float(np.mean(hits)), 4) if hits else None}
    log("filtered queries done")
    add_titles, add_bodies, add_fields = new_docs
    n = len(titles)
    _, add_seconds = timed(lambda i: index.add(n + i, add_titles[i], add_bodies[i], field=int(add_fields[i]),
                                               province=i % PROVINCES), range(len(add_titles)))
    found = [any(d == n + i for d, _ in index.search(add_titles[i], add_bodies[i], k=10)) for i in range(len(add_titles))]

    log("adds done")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        path = os.path.join(tmp, "index")
        start = time.perf_counter()
        index.save(path)
        save_s = time.perf_counter() - start
        index = None  # free it before timing the load
        gc.collect()
        start = time.perf_counter()
        loaded = TextIndex.load(path)
        load_s = time.perf_counter() - start
        assert len(loaded) == n + len(add_titles)
        del loaded

    result = {"build_docs_per_s": round(n / build_s, 1), "build_s": round(build_s, 2), **percentiles(seconds)}
    search_only = percentiles(search_seconds)
    result.update({
        "search_vector_p50_ms": search_only["p50_ms"], "search_vector_p95_ms": search_only["p95_ms"],
        "rss_mb": round(grown, 1), "rss_note": "RSS growth during fit (after gc)",
        "arrays_mb": round(arrays_mb, 1),
        "add_p50_ms": percentiles(add_seconds)["p50_ms"], "add_p95_ms": percentiles(add_seconds)["p95_ms"],
        "add_max_ms": round(max(add_seconds) * 1000, 2),
        "added_found_in_own_top10": round(float(np.mean(found)), 3),
        "save_s": round(save_s, 2), "load_s": round(load_s, 2),
        "top10_recall_vs_exact": round(float(np.mean(recall)), 4) if recall else None,
        "filtered": filtered,
        "model": repr(TextModel(**model_params)), "model_params": model_params, "workers": workers,
    })
    return result


def bm25_tokens(title: str, body: str) -> list[str]:
    """The same character 1-2 grams (after the same normalisation) as the default TextModel."""
    return char_ngrams(normalise(title + " " + body), (1, 2))


def bench_bm25s(corpus, queries) -> dict:
    import bm25s

    titles, bodies, _ = corpus
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    # Token ids, not token strings: 1M documents of fresh n-gram strings would take ~10 GB.
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(g, len(vocab)) for g in bm25_tokens(t, b)] for t, b in zip(titles, bodies)]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    build_s = time.perf_counter() - start
    del ids
    gc.collect()
    grown = rss_mb() - before
    arrays_mb = sum(a.nbytes for a in retriever.scores.values() if isinstance(a, np.ndarray)) / 2**20
    log(f"bm25s built in {build_s:.1f} s")
    def search(query):
        toks = [t for t in bm25_tokens(*query) if t in vocab]  # bm25s rejects unknown tokens
        if not toks:
            return []
        return retriever.retrieve([toks], k=10, show_progress=False, n_threads=0)

    _, seconds = timed(search, list(zip(*queries[:2])))
    return {"build_docs_per_s": round(len(titles) / build_s, 1), "build_s": round(build_s, 2), **percentiles(seconds),
            "rss_mb": round(grown, 1), "rss_note": "RSS growth during tokenise+index (after gc)",
            "arrays_mb": round(arrays_mb, 1), "tokens": "TextModel char 1-2 grams, numpy backend",
            "bm25s_version": bm25s.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--adds", type=int, default=200)
    parser.add_argument("--recall-queries", type=int, default=50, help="queries also scored exhaustively")
    parser.add_argument("--workers", type=int, default=1, help="processes vectorising during the build")
    parser.add_argument("--model-params", default=None,
                        help="TextModel parameters as JSON (default: the Matcher's DEFAULT_TEXT_PARAMS)")
    parser.add_argument("--skip-bm25s", action="store_true")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)

    generator = CorpusGenerator(seed=1)
    corpus = generator.achievements(args.docs)
    queries = CorpusGenerator(seed=2).demands(args.queries)
    new_docs = CorpusGenerator(seed=3).achievements(args.adds)
    log("corpus generated")
    out = {"matchmaker": bench_matchmaker(corpus, queries, new_docs, json.loads(args.model_params) if args.model_params else dict(DEFAULT_TEXT_PARAMS),
                                          args.workers, args.recall_queries)}
    if not args.skip_bm25s:
        out["bm25s"] = bench_bm25s(corpus, queries)
    out["setup"] = {"docs": args.docs, "queries": args.queries, "adds": args.adds,
                    "fields": len(generator.names), "terms": sum(len(t) for t in generator.fields.values()),
                    "load_average": os.getloadavg()[0]}
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
