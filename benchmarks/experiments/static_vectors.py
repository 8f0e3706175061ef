"""Static token vectors distilled from e5 (model2vec's recipe) against e5 itself, on ccf2019-dev.

Every jieba word of the ccf texts (and every character, for words outside the vocabulary) is run through
multilingual-e5-small once; a posting's vector is the IDF-weighted mean of its words' vectors (centred, as
model2vec's PCA step does). This is what embedding would cost if full e5 were too slow: one pass over the
vocabulary, then microseconds per record. Scored exhaustively here (demand × achievement cosine, z-fused with the
TF-IDF scores as the Matcher fuses), next to e5 on titles.

    python -m benchmarks.experiments.static_vectors        # ~5 min the first time (11,700 words), cached after
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from benchmarks.common import ROOT, Data, mean_metrics, per_demand_table, print_table, single_thread
from matchmaker.matching import semantic
from matchmaker.matching.text import normalise, words

CACHE = str(ROOT / "var" / "embedding-cache")


def z(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / scores.std(axis=1, keepdims=True)


def main() -> None:
    single_thread()
    data = Data()
    text = data.scores(char_ngram_range=(1, 2), sublinear_tf=True, title_weight=2.0)
    a_tok = [words(normalise(a.title)) for a in data.achievements]
    d_tok = [words(normalise(d.title)) * 2 + words(normalise(d.body)) for d in data.demands]
    d_title_tok = [words(normalise(d.title)) for d in data.demands]
    vocab = sorted({w for t in a_tok + d_tok for w in t} | {c for t in a_tok + d_tok for w in t for c in w})
    vectors = semantic.embed_cached("demands", vocab, CACHE)   # "query: word", as model2vec embeds single tokens
    vectors = vectors - vectors.mean(axis=0)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(vocab)}
    df = Counter(w for t in a_tok + d_tok for w in set(t))
    n = len(a_tok) + len(d_tok)

    def embed(tokens: list[list[str]]) -> np.ndarray:
        out = np.zeros((len(tokens), vectors.shape[1]))
        for row, t in enumerate(tokens):
            counts = Counter(t)
            if counts:
                weights = np.array([(1 + math.log(c)) * math.log(n / df[w]) for w, c in counts.items()])
                v = (weights[:, None] * vectors[[index[w] for w in counts]]).sum(axis=0)
                out[row] = v / (np.linalg.norm(v) or 1)
        return out

    a_static = embed(a_tok)
    e5_a = semantic.embed_cached("achievements", [semantic.achievement_text(a.title, a.body) for a in data.achievements], CACHE)
    e5_d = semantic.embed_cached("demands", [semantic.demand_text(d.title, d.body) for d in data.demands], CACHE)
    rows = []
    for name, scores in (("TF-IDF alone", text),
                         ("static vectors, demand full text", embed(d_tok) @ a_static.T),
                         ("static vectors, demand title", embed(d_title_tok) @ a_static.T),
                         ("e5 on titles (shipped signal)", e5_d @ e5_a.T)):
        rows.append((f"{name}, alone", mean_metrics(per_demand_table(data, data.run(scores))), "fixed"))
        if name != "TF-IDF alone":
            for w in (0.3, 0.5, 0.7):
                fused = (1 - w) * z(text) + w * z(scores)
                rows.append((f"{name}, z-fused w={w}", mean_metrics(per_demand_table(data, data.run(fused))), "fixed"))
    print(f"vocabulary: {len(vocab)} words and characters\n")
    print_table(rows)


if __name__ == "__main__":
    main()
