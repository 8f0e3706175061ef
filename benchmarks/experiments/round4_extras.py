"""Round 4 extras (ccf2019-dev): e5 on the demand's full text, and a CSLS hub correction on the fused score.

Exhaustive demand × achievement scores (TF-IDF as the Matcher's text model, e5 cosines), z-fused per demand as the
Matcher fuses them; CSLS subtracts λ × an achievement's mean fused score over its k most similar demands (how
much of a "hub" it is). Each family is also chosen by nested 5-fold CV over demands (3 shuffles). Not shipped:
see the README for why.

    python -m benchmarks.experiments.round4_extras        # ~2 min the first time (full demand texts), then ~1 min
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import (
    Data, ccf_arguments, mean_metrics, nested_choice, per_demand_table, print_table, single_thread,
)
from matchmaker.matching import semantic
from matchmaker.matching.text import normalise


def z(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / scores.std(axis=1, keepdims=True)


def csls(scores: np.ndarray, k: int, lam: float) -> np.ndarray:
    return scores - lam * (-np.sort(-scores, axis=0)[:k]).mean(axis=0)


def main() -> None:
    single_thread()
    args = ccf_arguments(__doc__)
    data = Data(args.data)
    text = data.scores(char_ngram_range=(1, 2), sublinear_tf=True, title_weight=2.0)
    a = semantic.embed_cached("achievements", [semantic.achievement_text(x.title, x.body) for x in data.achievements],
                              args.cache)
    titles = semantic.embed_cached("demands", [semantic.demand_text(d.title, "") for d in data.demands], args.cache)
    full = semantic.embed_cached("demands", [normalise(f"{d.title}。{d.body}") for d in data.demands], args.cache)
    tables: dict[str, dict[str, np.ndarray]] = {"e5 full text": {}, "CSLS on title fusion": {},
                                               "CSLS on full-text fusion": {}}
    rows = []
    for w in (0.5, 0.6, 0.7, 0.8):
        fused_full = (1 - w) * z(text) + w * z(full @ a.T)
        fused_title = (1 - w) * z(text) + w * z(titles @ a.T)
        t = per_demand_table(data, data.run(fused_full))
        tables["e5 full text"][f"w={w}"] = t
        rows.append((f"e5 full text, w={w}", mean_metrics(t), "fixed"))
        for k in (3, 10):
            for lam in (0.25, 0.5, 0.75):
                for family, fused in (("CSLS on title fusion", fused_title), ("CSLS on full-text fusion", fused_full)):
                    t = per_demand_table(data, data.run(csls(fused, k, lam)))
                    tables[family][f"w={w} k={k} λ={lam}"] = t
        best = {f: max(tables[f].items(), key=lambda kv: np.nanmean(kv[1][:, 0])) for f in tables}
    for family, (name, t) in best.items():
        rows.append((f"{family}: best fixed ({name})", mean_metrics(t), "fixed, best of grid"))
    for family, family_tables in tables.items():
        for seed in range(3):
            pooled, chosen = nested_choice(family_tables, seed=seed)
            rows.append((f"**{family}, nested CV shuffle {seed}**", mean_metrics(pooled), "nested CV"))
    print_table(rows)


if __name__ == "__main__":
    main()
