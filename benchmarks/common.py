"""Helpers the benchmark scripts share: ccf2019-dev data, per-demand metric tables, nested CV, bootstrap, tables.

Run every script as a module from the repository root, e.g. `python -m benchmarks.experiments.round4`.
"""
from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from matchmaker.matching.evaluate import per_demand, read_jsonl, read_qrels

ROOT = Path(__file__).resolve().parents[1]
CCF_DEV = ROOT.parent / "shared" / "eval" / "ccf2019-dev"
METRICS = ("ndcg@10", "recall@10", "mrr@10", "judged@10", "condensed_ndcg@10")


class Data:
    """ccf2019-dev: demands, achievements, graded qrels."""

    def __init__(self, path: Path = CCF_DEV, structured: bool = False):
        self.achievements = read_jsonl(path / "achievements.jsonl", "achievements" if structured else None)
        self.demands = read_jsonl(path / "demands.jsonl", "demands" if structured else None)
        self.qrels = read_qrels(path / "qrels.tsv")
        self.ids = np.array([a.id for a in self.achievements])

    def scores(self, **params) -> np.ndarray:
        """Dense demand × achievement text scores of a TextModel (exhaustive; the index gives the same top-k)."""
        from matchmaker.matching.text_model import TextModel

        a, d = self.achievements, self.demands
        model = TextModel(**params).fit([x.title for x in a], [x.body for x in a])
        docs = model.transform([x.title for x in a], [x.body for x in a])
        queries = model.transform([x.title for x in d], [x.body for x in d], as_query=True)
        self.last_docs, self.last_queries = docs, queries
        return (queries @ docs.T).toarray()

    def run(self, scores: np.ndarray, order_key: np.ndarray | None = None) -> dict:
        key = self.ids if order_key is None else order_key
        return {d.id: [(self.ids[j], float(scores[i, j])) for j in np.lexsort((key, -scores[i]))[:10]]
                for i, d in enumerate(self.demands)}


def per_demand_table(data: Data, run) -> np.ndarray:
    """Demands × METRICS; NaN where the README leaves a demand out of a metric."""
    rows = per_demand(run, data.qrels)
    return np.array([[np.nan if rows[d.id][m] is None else rows[d.id][m] for m in METRICS] for d in data.demands])


def mean_metrics(table: np.ndarray) -> dict:
    return {m: float(np.nanmean(table[:, i])) for i, m in enumerate(METRICS)}


def nested_choice(tables: dict[str, np.ndarray], folds: int = 5, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Pick the setting with the best mean nDCG on 4 folds of demands, score it on the 5th; the pooled table."""
    n = next(iter(tables.values())).shape[0]
    pooled = np.full((n, len(METRICS)), np.nan)
    chosen = []
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(np.arange(n)):
        best = max(tables, key=lambda c: (np.nanmean(tables[c][train, 0]), c))
        chosen.append(best)
        pooled[test] = tables[best][test]
    return pooled, chosen


def paired_bootstrap(a: np.ndarray, b: np.ndarray, samples: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of (a − b) over demands present in both and its 95% percentile interval, resampling demands."""
    keep = ~(np.isnan(a) | np.isnan(b))
    diff = a[keep] - b[keep]
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(samples, diff.size))].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def print_table(rows: list[tuple[str, dict, str]]) -> None:
    """(configuration, metrics, how it was chosen) rows as the markdown tables benchmarks/ READMEs keep."""
    print("| configuration | nDCG@10 | R@10 | MRR@10 | judged@10 | condensed nDCG@10 | chosen how |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, m, how in rows:
        print(f"| {name} | {m['ndcg@10']:.3f} | {m['recall@10']:.3f} | {m['mrr@10']:.3f} | {m['judged@10']:.3f} "
              f"| {m['condensed_ndcg@10']:.3f} | {how} |")


def single_thread() -> None:
    """BLAS on one thread, so figures from a 2-core machine are not distorted by oversubscription."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def scratch_settings(folder):
    """A benchmark's own main database and index under `folder` (the caller migrates it once; simulator runs in
    worker processes share it)."""
    from matchmaker.config import Settings

    return Settings(database_url=f"sqlite:///{Path(folder) / 'main.db'}", index_dir=Path(folder) / "var" / "index")


@contextlib.contextmanager
def province_queries(world: str | None, n_queries: int):
    """The province world's achievement index, rebuilt on a scratch copy of the world (`world`, or the simulator's
    province world), and the first `n_queries` demands as query vectors: yields (index, [vector, ...])."""
    import dataclasses
    import shutil
    import tempfile

    from sqlalchemy import select

    from matchmaker.db import make_engine, make_session_factory
    from matchmaker.matching.records import demand_doc
    from matchmaker.matching.service import MatchingService
    from matchmaker.models import Demand
    from matchmaker.simulation.runs import world_file

    with tempfile.TemporaryDirectory() as folder:
        scratch = scratch_settings(Path(folder))
        copy = Path(folder) / "world.db"
        shutil.copy(world or world_file(scratch, "province", 1), copy)
        url = f"sqlite:///{copy}"
        factory = make_session_factory(make_engine(url))
        service = MatchingService(dataclasses.replace(scratch, database_url=url), factory)
        service.rebuild()
        index = service.matcher.achievement_index
        with factory() as session:
            demands = [demand_doc(d) for d in session.scalars(select(Demand).order_by(Demand.id).limit(n_queries))]
        vectors = index.query_vectors([d.title for d in demands], [d.body for d in demands])
        yield index, [vectors[i] for i in range(len(demands))]


@contextlib.contextmanager
def throwaway_world(scale: str, seed: int = 1):
    """A generated world in a temporary SQLite file: yields (url, engine, seconds the seeding took)."""
    import tempfile
    import time

    from matchmaker import migrate
    from matchmaker.db import make_engine
    from matchmaker.reference import sync_reference_data
    from matchmaker.world.generate import generate_world

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'world.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        sync_reference_data(engine)
        started = time.perf_counter()
        generate_world(engine, scale=scale, seed=seed)
        try:
            yield url, engine, time.perf_counter() - started
        finally:
            engine.dispose()


def generated_world(scale: str, seed: int, max_demands: int):
    """A generated world loaded as the matcher's documents and latent truth."""
    from matchmaker.matching.world_eval import load_world

    with throwaway_world(scale, seed) as (_, engine, _):
        return load_world(engine, max_demands=max_demands)


def ccf_arguments(description: str, **extra) -> argparse.Namespace:
    """--data (ccf2019-dev) and --cache (sentence vectors), plus `extra` options as name=(type, default)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=CCF_DEV)
    parser.add_argument("--cache", default=str(ROOT / "var" / "embedding-cache"))
    for name, (kind, default) in extra.items():
        parser.add_argument(f"--{name}", type=kind, default=default)
    return parser.parse_args()
