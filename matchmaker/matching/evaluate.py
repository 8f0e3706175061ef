"""Graded-relevance evaluation: JSONL/qrels/TREC-run I/O and nDCG@10, Recall@10, MRR@10."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

# qrels: demand_id -> {achievement_id: level 1..4}; unjudged pairs count as level 1.
Qrels = dict[str, dict[str, int]]
# run: demand_id -> [(achievement_id, score)] in rank order (best first).
Run = dict[str, list[tuple[str, float]]]

CUTOFF = 10
RELEVANT_LEVEL = 3  # "relevant" for Recall/MRR = fairly or strongly related


@dataclass(frozen=True)
class TextRecord:
    """One line of a JSONL file: id, title, body (the file's "description") and any structured fields it carries."""

    id: str
    title: str
    body: str
    fields: dict = field(default_factory=dict)   # keyword arguments of AchievementDoc / DemandDoc


# Structured fields `rank` reads when rows carry them, by the names of the API's and the importer's schemas.
STRUCTURED = {
    "achievements": ("field", "trl", "region", "asking_price", "transfer_modes"),
    "demands": ("field", "min_trl", "budget_min", "budget_max", "cooperation_modes", "region"),
}


def read_jsonl(path: str | Path, library: str | None = None) -> list[TextRecord]:
    """Records with id/title/description; missing or null fields become empty strings.

    With `library` ("achievements" or "demands"), structured fields are validated by the same schemas as the
    API and the importer (AchievementIn / DemandIn) and passed on to the matcher.
    """
    records = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "id" not in obj:
                raise ValueError(f"{path}:{n}: record without an id")
            title = obj.get("title") or ""
            fields = _structured(library, obj, title, f"{path}:{n}") if library else {}
            records.append(TextRecord(str(obj["id"]), title, obj.get("description") or obj.get("body") or "", fields))
    return records


def _structured(library: str, obj: dict, title: str, where: str) -> dict:
    import msgspec

    from matchmaker.catalog.schemas import AchievementIn, DemandIn

    given = {k: obj[k] for k in STRUCTURED[library] if obj.get(k) is not None}
    if not given:
        return {}
    schema = AchievementIn if library == "achievements" else DemandIn
    try:
        record = msgspec.convert({"title": title or "-", **given}, schema)
    except (msgspec.ValidationError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None
    money = lambda value: None if value is None else float(value)  # noqa: E731
    if library == "achievements":
        return {"field_code": record.field, "trl": record.trl, "region_code": record.region,
                "asking_price": money(record.asking_price), "transfer_modes": frozenset(map(str, record.transfer_modes))}
    return {"field_code": record.field, "min_trl": record.min_trl, "region_code": record.region,
            "budget_min": money(record.budget_min), "budget_max": money(record.budget_max),
            "cooperation_modes": frozenset(map(str, record.cooperation_modes))}


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


# The ccf2019 README's definitions, computed by ir-measures (trec_eval through pytrec_eval):
# - nDCG@10 with gain = level − 1, ideal from all judged pairs; demands with no gain at all are left out (0/0);
# - Recall@10 and MRR@10 with relevant = level ≥ 3 (gain ≥ 2), over demands that have a relevant achievement;
# - Judged@10: the share of the top 10 judged for that demand (each ccf achievement was judged for one demand
#   only, so unjudged ≠ irrelevant); condensed nDCG@10 ranks the judged items only (Sakai 2007).
METRIC_NAMES = ("ndcg@10", "recall@10", "mrr@10", "judged@10", "condensed_ndcg@10")


def _measures():
    import ir_measures

    rel = RELEVANT_LEVEL - 1
    return {"ndcg@10": ir_measures.nDCG @ CUTOFF, "recall@10": ir_measures.R(rel=rel) @ CUTOFF,
            "mrr@10": ir_measures.RR(rel=rel) @ CUTOFF, "judged@10": ir_measures.Judged @ CUTOFF,
            "condensed_ndcg@10": ir_measures.nDCG(judged_only=True) @ CUTOFF}


def per_demand(run: Run, qrels: Qrels) -> dict[str, dict[str, float | None]]:
    """Every metric of each judged demand; None where the README leaves the demand out of that metric's mean.

    A judged demand missing from the run (or with an empty ranking) scores as an empty ranking.
    """
    import ir_measures

    measures = _measures()
    by_measure = {m: name for name, m in measures.items()}
    qrel_rows = [ir_measures.Qrel(q, d, max(level - 1, 0)) for q, judged in qrels.items() for d, level in judged.items()]
    # trec_eval ranks by score; ranks become scores so the run's own order (ties broken upstream) is kept.
    run_rows = [ir_measures.ScoredDoc(q, d, float(len(ranked) - r))
                for q, ranked in run.items() if q in qrels for r, (d, _) in enumerate(ranked[:CUTOFF])]
    out: dict[str, dict[str, float | None]] = {q: {name: 0.0 for name in METRIC_NAMES} for q in qrels}
    for metric in ir_measures.iter_calc(list(measures.values()), qrel_rows, run_rows):
        out[metric.query_id][by_measure[metric.measure]] = float(metric.value)
    for q, judged in qrels.items():
        has_gain = any(level > 1 for level in judged.values())
        has_relevant = any(level >= RELEVANT_LEVEL for level in judged.values())
        if not has_gain:
            out[q]["ndcg@10"] = out[q]["condensed_ndcg@10"] = None
        if not has_relevant:
            out[q]["recall@10"] = out[q]["mrr@10"] = None
    return out


def evaluate_run(run: Run, qrels: Qrels, demands: Iterable[str] | None = None) -> dict[str, float]:
    """Means over demands (optionally a subset, for cross-validation folds), each over the demands it applies to."""
    rows = per_demand(run, qrels)
    if demands is not None:
        wanted = set(demands)
        rows = {q: m for q, m in rows.items() if q in wanted}
    result: dict[str, float] = {}
    for name in METRIC_NAMES:
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
