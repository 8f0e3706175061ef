"""CLI commands `rank` and `evaluate`: TREC runs and graded metrics through the Matcher."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import typer

from matchmaker.matching.evaluate import (
    Run, TextRecord, baseline_run, evaluate_run, read_jsonl, read_qrels, write_run,
)
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher


def matcher_run(achievements: Sequence[TextRecord], demands: Sequence[TextRecord], k: int = 10,
                text_params: dict | None = None) -> Run:
    """Rank achievements for every demand with the Matcher (the same path the API uses)."""
    matcher = Matcher(text_params=text_params).fit(
        [AchievementDoc(a.id, a.title, a.body) for a in achievements],
        [DemandDoc(d.id, d.title, d.body) for d in demands])
    return {d.id: [(m.id, m.score) for m in matcher.rank_achievements(DemandDoc(d.id, d.title, d.body), k)]
            for d in demands}


def rank(
    achievements: Path = typer.Option(..., "--achievements", exists=True, dir_okay=False, help="JSONL: id, title, description"),
    demands: Path = typer.Option(..., "--demands", exists=True, dir_okay=False, help="JSONL: id, title, description"),
    top: int = typer.Option(10, "--top", min=1, help="results per demand"),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="TREC run file to write"),
) -> None:
    """Rank achievements for each demand; write a TREC run (demand_id Q0 achievement_id rank score tag)."""
    run = matcher_run(read_jsonl(achievements), read_jsonl(demands), top)
    write_run(run, out)
    typer.echo(f"wrote {sum(map(len, run.values()))} results for {len(run)} demands to {out}", err=True)


def evaluate(
    achievements: Path = typer.Option(..., "--achievements", exists=True, dir_okay=False),
    demands: Path = typer.Option(..., "--demands", exists=True, dir_okay=False),
    qrels: Path = typer.Option(..., "--qrels", exists=True, dir_okay=False, help="TSV: demand_id achievement_id level"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """nDCG@10, Recall@10, MRR@10 of matchmaker next to the plain char-TF-IDF baseline, same run."""
    a, d, q = read_jsonl(achievements), read_jsonl(demands), read_qrels(qrels)
    results = {"baseline": evaluate_run(baseline_run(a, d), q), "matchmaker": evaluate_run(matcher_run(a, d), q)}
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(d)} demands, {len(a)} achievements")
    for column in ("system", "nDCG@10", "Recall@10", "MRR@10"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['ndcg@10']:.3f}", f"{r['recall@10']:.3f}", f"{r['mrr@10']:.3f}")
    Console().print(table)
