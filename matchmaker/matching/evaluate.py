"""Graded-relevance evaluation: JSONL/qrels/TREC-run I/O and nDCG@10, Recall@10, MRR@10."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

# qrels: demand_id -> {achievement_id: level 1..4}; unjudged pairs count as level 1.
Qrels = dict[str, dict[str, int]]
# run: demand_id -> [(achievement_id, score)] in rank order (best first).
Run = dict[str, list[tuple[str, float]]]

CUTOFF = 10
RELEVANT_LEVEL = 3  # "relevant" for Recall/MRR = fairly or strongly related


@dataclass(frozen=True)
class TextRecord:
    """One line of a JSONL file: id, title, body (the file's "description")."""

    id: str
    title: str
    body: str


def read_jsonl(path: str | Path) -> list[TextRecord]:
    """Records with id/title/description; missing or null fields become empty strings."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "id" not in obj:
                raise ValueError(f"{path}:{n}: record without an id")
            records.append(TextRecord(str(obj["id"]), obj.get("title") or "", obj.get("description") or obj.get("body") or ""))
    return records


def read_qrels(path: str | Path) -> Qrels:
    """TSV `demand_id achievement_id level`; a repeated pair keeps its highest level."""
    qrels: Qrels = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 3:
                continue
            q, d, level = parts[0], parts[1], int(parts[2])
            judged = qrels.setdefault(q, {})
            judged[d] = max(level, judged.get(d, level))
    return qrels


def write_run(run: Run, path: str | Path, tag: str = "matchmaker") -> None:
    """TREC run format: `demand_id Q0 achievement_id rank score tag`, ranks from 1."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(format_run(run, tag))


def format_run(run: Run, tag: str = "matchmaker") -> str:
    lines = []
    for q, ranked in run.items():
        for rank, (d, score) in enumerate(ranked, 1):
            lines.append(f"{q} Q0 {d} {rank} {score:.6f} {tag}\n")
    return "".join(lines)


def read_run(path: str | Path) -> Run:
    """Read a TREC run; results are ordered by their rank column."""
    rows: dict[str, list[tuple[int, str, float]]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 5:
                continue
            rows.setdefault(parts[0], []).append((int(parts[3]), parts[2], float(parts[4])))
    return {q: [(d, s) for _, d, s in sorted(r)] for q, r in rows.items()}


def _gain(level: int) -> int:
    return max(level - 1, 0)


def ndcg_at_10(ranked_ids: Sequence[str], judged: Mapping[str, int], k: int = CUTOFF) -> float:
    """Gain = level−1, discount 1/log2(rank+1); ideal DCG from all judged pairs of the demand. 0 if no gain."""
    dcg = sum(_gain(judged.get(d, 1)) / math.log2(r + 2) for r, d in enumerate(ranked_ids[:k]))
    ideal_gains = sorted((_gain(l) for l in judged.values()), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal_gains))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_10(ranked_ids: Sequence[str], judged: Mapping[str, int], k: int = CUTOFF) -> float | None:
    """Share of level≥3 achievements in the top k; None when the demand has none (left out of the mean)."""
    relevant = {d for d, l in judged.items() if l >= RELEVANT_LEVEL}
    if not relevant:
        return None
    return len(relevant.intersection(ranked_ids[:k])) / len(relevant)


def mrr_at_10(ranked_ids: Sequence[str], judged: Mapping[str, int], k: int = CUTOFF) -> float | None:
    """1/rank of the first level≥3 achievement in the top k (0 if none); None when the demand has none."""
    if not any(l >= RELEVANT_LEVEL for l in judged.values()):
        return None
    for r, d in enumerate(ranked_ids[:k], 1):
        if judged.get(d, 1) >= RELEVANT_LEVEL:
            return 1.0 / r
    return 0.0


def per_demand(run: Run, qrels: Qrels) -> dict[str, dict[str, float | None]]:
    """Metrics of each judged demand; a judged demand missing from the run scores as an empty ranking."""
    out = {}
    for q, judged in qrels.items():
        ids = [d for d, _ in run.get(q, [])]
        out[q] = {"ndcg@10": ndcg_at_10(ids, judged), "recall@10": recall_at_10(ids, judged),
                  "mrr@10": mrr_at_10(ids, judged)}
    return out


def evaluate_run(run: Run, qrels: Qrels, demands: Iterable[str] | None = None) -> dict[str, float]:
    """Means over demands (optionally a subset, for cross-validation folds); Recall/MRR skip demands without relevant items."""
    rows = per_demand(run, qrels)
    if demands is not None:
        wanted = set(demands)
        rows = {q: m for q, m in rows.items() if q in wanted}
    result: dict[str, float] = {}
    for name in ("ndcg@10", "recall@10", "mrr@10"):
        values = [m[name] for m in rows.values() if m[name] is not None]
        result[name] = sum(values) / len(values) if values else 0.0
    result["demands"] = len(rows)
    return result


def baseline_run(achievements: Sequence[TextRecord], demands: Sequence[TextRecord], k: int = CUTOFF) -> Run:
    """The plain reference: sklearn char 1–2-gram sublinear TF-IDF over "title body", cosine, top k.

    Ties (duplicate titles are common on ccf2019) are broken by achievement id, as in the Matcher.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
    docs = vectoriser.fit_transform([f"{a.title} {a.body}".strip() for a in achievements])
    queries = vectoriser.transform([f"{d.title} {d.body}".strip() for d in demands])
    ids = np.array([a.id for a in achievements])
    run: Run = {}
    for i, d in enumerate(demands):
        scores = (queries[i] @ docs.T).toarray().ravel()
        top = np.lexsort((ids, -scores))[:k]
        run[d.id] = [(str(ids[j]), float(scores[j])) for j in top]
    return run
