"""CLI commands `rank`, `evaluate` and `learn-weights`: TREC runs, graded metrics, weights learned from feedback."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import typer

from matchmaker.matching.evaluate import (
    Run, TextRecord, baseline_run, evaluate_run, read_jsonl, read_qrels, write_run,
)
from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher
from matchmaker.matching.scoring import FACTORS


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


def learn_weights(
    apply: bool = typer.Option(False, "--apply", help="write the learned weights for the matching service to use, "
                                                      "if they beat the current ones on held-out demands"),
) -> None:
    """Fit the structured weights on the feedback table (people's verdicts on matches), 5-fold CV over demands."""
    from sqlalchemy.orm import Session

    from matchmaker.config import Settings
    from matchmaker.db import make_engine
    from matchmaker.matching.learning import (
        NotEnoughFeedback,
        examples_from_feedback,
        fit_weights,
        load_weights,
        save_weights,
    )

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        examples = examples_from_feedback(session)
    engine.dispose()
    current, _ = load_weights(settings.index_dir)
    try:
        learned = fit_weights(examples, current)
    except NotEnoughFeedback as error:
        typer.echo(f"not learned: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"examples": learned.examples, "relevant": learned.relevant, "demands": learned.demands,
                           "current": {f: learned.current.of(f) for f in ("text", *FACTORS)},
                           "learned": {f: round(learned.weights.of(f), 4) for f in ("text", *FACTORS)},
                           "cv_pair_accuracy_current": round(learned.cv_pair_accuracy_current, 4),
                           "cv_pair_accuracy_learned": round(learned.cv_pair_accuracy, 4)}, indent=2))
    if not apply:
        return
    if not learned.better:
        typer.echo("kept the current weights: the learned ones do not order held-out demands' verdicts better", err=True)
        raise typer.Exit(1)
    path = save_weights(settings.index_dir, learned)
    typer.echo(f"wrote {path}; every server process uses them from its next index build (or restart)", err=True)
