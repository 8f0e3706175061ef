"""CLI commands `rank`, `evaluate` and `learn-weights`: TREC runs, graded metrics, weights learned from feedback."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import typer

if TYPE_CHECKING:
    from matchmaker.matching.evaluate import Run, TextRecord
    from matchmaker.matching.ranking import Matcher
    from matchmaker.matching.scoring import ScoreWeights

# The matcher (scikit-learn, SciPy) is imported when one of these commands runs, not with the `matchmaker` command
# line: every other command, the server's supervisor and the job worker start a second sooner without it.


def matcher_run(achievements: Sequence[TextRecord], demands: Sequence[TextRecord], k: int = 10,
                text_params: dict | None = None, weights: ScoreWeights | None = None,
                semantic: bool | None = None, cache_dir: str | Path | None = None) -> Run:
    """Rank achievements for every demand with the Matcher (the same path the API uses).

    semantic=None uses sentence vectors when the `semantic` extra is installed; vectors are cached in cache_dir.
    """
    from matchmaker.matching.ranking import DemandDoc

    matcher = matcher_for(achievements, demands, text_params=text_params, weights=weights, semantic=semantic,
                          cache_dir=cache_dir)
    return {d.id: [(m.id, m.score) for m in matcher.rank_achievements(d, k)] for d in matcher_docs(demands, DemandDoc)}


def matcher_docs(records: Sequence, kind) -> list:
    """Matcher documents of file records: their structured fields where the rows carry them."""
    return [kind(r.id, r.title, r.body, **r.fields) for r in records]


def matcher_for(achievements: Sequence[TextRecord], demands: Sequence[TextRecord], *, text_params: dict | None = None,
                weights: ScoreWeights | None = None, semantic: bool | None = None,
                cache_dir: str | Path | None = None) -> Matcher:
    """A Matcher fitted on file records, with their sentence vectors when semantic ranking is on."""
    from matchmaker.matching import semantic as semantic_module
    from matchmaker.matching.ranking import AchievementDoc, DemandDoc, Matcher

    a_docs, d_docs = matcher_docs(achievements, AchievementDoc), matcher_docs(demands, DemandDoc)
    matcher = Matcher(text_params=text_params, weights=weights).fit(a_docs, d_docs)
    if semantic is None:
        semantic = semantic_module.available()
    if semantic and matcher.weights.semantic > 0:
        for library, docs in (("achievements", a_docs), ("demands", d_docs)):
            texts = [semantic_module.text_for(library, doc.title, doc.body) for doc in docs]
            for doc, vector in zip(docs, semantic_module.embed_cached(library, texts, cache_dir)):
                matcher.set_vector(library, doc.id, vector)
    return matcher


def _cache_dir() -> Path:
    from matchmaker.config import Settings

    return Path(Settings.from_env().index_dir) / "embedding-cache"


def rank(
    achievements: Path = typer.Option(..., "--achievements", exists=True, dir_okay=False, help="JSONL: id, title, description"),
    demands: Path = typer.Option(..., "--demands", exists=True, dir_okay=False, help="JSONL: id, title, description"),
    top: int = typer.Option(10, "--top", min=1, help="results per demand"),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="TREC run file to write"),
) -> None:
    """Rank achievements for each demand; write a TREC run (demand_id Q0 achievement_id rank score tag)."""
    from matchmaker.matching.evaluate import read_jsonl, write_run

    run = matcher_run(read_jsonl(achievements, "achievements"), read_jsonl(demands, "demands"), top,
                      cache_dir=_cache_dir())
    write_run(run, out)
    typer.echo(f"wrote {sum(map(len, run.values()))} results for {len(run)} demands to {out}", err=True)


def evaluate(
    achievements: Path = typer.Option(..., "--achievements", exists=True, dir_okay=False),
    demands: Path = typer.Option(..., "--demands", exists=True, dir_okay=False),
    qrels: Path = typer.Option(..., "--qrels", exists=True, dir_okay=False, help="TSV: demand_id achievement_id level"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """nDCG@10, Recall@10, MRR@10 of matchmaker next to the plain char-TF-IDF baseline, same run."""
    from matchmaker.matching.evaluate import METRIC_NAMES, baseline_run, evaluate_run, read_jsonl, read_qrels

    a, d, q = read_jsonl(achievements, "achievements"), read_jsonl(demands, "demands"), read_qrels(qrels)
    results = {"baseline": evaluate_run(baseline_run(a, d), q),
               "matchmaker": evaluate_run(matcher_run(a, d, cache_dir=_cache_dir()), q)}
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(d)} demands, {len(a)} achievements")
    for column in ("system", "nDCG@10", "Recall@10", "MRR@10", "judged@10", "condensed nDCG@10"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, r in results.items():
        table.add_row(name, *(f"{r[m]:.3f}" for m in METRIC_NAMES))
    Console().print(table)


def _the_log():
    """Settings, every logged slate with its outcomes, and the weights the matching service ranks with."""
    from sqlalchemy.orm import Session

    from matchmaker.config import Settings
    from matchmaker.matching.counterfactual import logged_slates
    from matchmaker.matching.learning import load_weights
    from matchmaker.readiness import ready_engine

    settings = Settings.from_env()
    engine = ready_engine(settings.database_url)
    with Session(engine) as session:
        slates = logged_slates(session)
    engine.dispose()
    return settings, slates, load_weights(settings.index_dir)[0]


def learn_weights(
    apply: bool = typer.Option(False, "--apply", help="write the learned weights for the matching service to use, "
                                                      "if they beat the current ones on held-out demands"),
) -> None:
    """Fit the constraint strengths on the impression log (what people were shown and said), CV over demands."""
    from matchmaker.matching.learning import NotEnoughFeedback, examples_from_log, fit_weights, save_weights
    from matchmaker.matching.scoring import CONSTRAINTS

    settings, slates, current = _the_log()
    try:
        learned = fit_weights(examples_from_log(slates), slates, current)
    except NotEnoughFeedback as error:
        typer.echo(f"not learned: {error}", err=True)
        raise typer.Exit(1) from None
    knobs = ("semantic", *CONSTRAINTS)
    typer.echo(json.dumps({"examples": learned.examples, "relevant": learned.relevant, "demands": learned.demands,
                           "current": {f: learned.current.of(f) for f in knobs},
                           "learned": {f: round(learned.weights.of(f), 4) for f in knobs},
                           "cv_pair_accuracy_current": round(learned.cv_pair_accuracy_current, 4),
                           "cv_pair_accuracy_learned": round(learned.cv_pair_accuracy, 4),
                           "cv_interest_rate_current": round(learned.cv_snips_current, 4),
                           "cv_interest_rate_learned": round(learned.cv_snips, 4)}, indent=2))
    if not apply:
        return
    if not learned.better:
        typer.echo("kept the current weights: the learned ones do not order held-out demands' verdicts better", err=True)
        raise typer.Exit(1)
    path = save_weights(settings.index_dir, learned)
    typer.echo(f"wrote {path}; every server process uses them from its next index build (or restart)", err=True)


def counterfactual(
    weights: Path = typer.Option(None, "--weights", exists=True, dir_okay=False,
                                 help="a weights.json of the candidate ranker (default: TF-IDF alone vs shipped)"),
) -> None:
    """Estimate from the impression log what a candidate ranker would earn (IPS / SNIPS), and the interleaving report."""
    import dataclasses as dc

    from matchmaker.matching.counterfactual import interest_rate, interleaving_report
    from matchmaker.matching.scoring import ScoreWeights

    _, slates, current = _the_log()
    candidate = ScoreWeights(**json.loads(weights.read_text(encoding="utf-8"))["weights"]) if weights \
        else dc.replace(current, semantic=0.0)
    out = {}
    for name, w in (("current", current), ("candidate", candidate)):
        e = interest_rate(slates, w)
        out[name] = {"weights": dc.asdict(w), "ips": round(e.ips, 4), "snips": round(e.snips, 4),
                     "slates": e.slates, "log_covers": round(e.matched, 3)}
    out["interleaving"] = dc.asdict(interleaving_report(slates))
    typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
