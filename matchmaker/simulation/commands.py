"""CLI commands for the market simulator: simulate, compare, report, runs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console

from matchmaker.config import Settings

console = Console(stderr=True)


def simulate(
    scenario: str = typer.Option("baseline", "--scenario", help="A built-in scenario name or a TOML file."),
    months: int = typer.Option(12, "--months", min=1, max=120),
    seed: int = typer.Option(1, "--seed"),
    scale: str = typer.Option("province", "--scale", help="World to run on: demo | province | national."),
    world_seed: int = typer.Option(1, "--world-seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the run's figures as one JSON object."),
) -> None:
    """Run a policy scenario for some months on a generated world; the run is stored for reports and pages."""
    from matchmaker.readiness import ready_engine
    from matchmaker.simulation.runs import run_scenario
    from matchmaker.simulation.scenarios import load_scenario

    settings = Settings.from_env()
    ready_engine(settings.database_url).dispose()   # the run is stored there: say so before a minute of work
    try:
        chosen = load_scenario(scenario)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    run = run_scenario(settings, chosen, seed=seed, months=months, scale=scale, world_seed=world_seed,
                       console=None if as_json else console)
    if as_json:
        print(json.dumps({"run_id": run.id, "scenario": run.scenario, "seed": seed, "months": months,
                          "seconds": run.seconds, **run.summary}, ensure_ascii=False))
        return
    s = run.summary
    console.print(f"run {run.id}: {s['contracts']} contracts, turnover {Decimal(s['turnover_yuan']):,.0f} yuan, "
                  f"local conversion {s['local_conversion_rate']}, {run.seconds:.1f}s")


def report(
    run_id: int = typer.Argument(..., help="A run id from `matchmaker runs`."),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder for index.html and the CSVs."),
) -> None:
    """Write a run's HTML report (charts, scenario comparison with 95% intervals) and its CSVs."""
    from sqlalchemy.orm import Session

    from matchmaker.errors import NotFound
    from matchmaker.readiness import ready_engine
    from matchmaker.simulation.report import write_report

    engine = ready_engine(Settings.from_env().database_url)
    try:
        with Session(engine) as session:
            page = write_report(session, run_id, out)
    except NotFound as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"report written to {page}")


def compare(
    scenarios: str = typer.Option("all", "--scenarios", help="Comma-separated names, or 'all' built-in scenarios."),
    seeds: int = typer.Option(5, "--seeds", min=1, help="Seeds per scenario (1..N); intervals need 3 or more."),
    months: int = typer.Option(12, "--months", min=1),
    scale: str = typer.Option("demo", "--scale"),
    world_seed: int = typer.Option(1, "--world-seed"),
    out: Path = typer.Option(Path("report"), "--out", file_okay=False),
    parallel: int = typer.Option(1, "--parallel", min=1, help="Run on N cores of this machine (a local Dask cluster)."),
    cluster: str | None = typer.Option(None, "--cluster", help="A Dask scheduler's address, e.g. tcp://10.0.0.5:8786."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as one JSON object."),
    target: float = typer.Option(0.10, "--target-effect", min=0.001, max=10.0,
                                 help="A relative effect (0.10 = 10%) to say how many seeds would detect."),
) -> None:
    """Run several scenarios over several seeds on one world; print and write the comparison with 95% intervals,
    the minimal detectable effect with these seeds, and the seeds a target effect would need."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy.orm import Session

    from matchmaker.readiness import ready_engine
    from matchmaker.simulation.report import (
        COMPARED,
        comparison,
        comparison_json,
        detectable_effects,
        differences,
        write_report,
    )
    from matchmaker.simulation.scenarios import builtin_names, load_scenario
    from matchmaker.simulation.sweep import sweep

    settings = Settings.from_env()
    ready_engine(settings.database_url).dispose()   # a clear message before any work if the database is not ready
    names = builtin_names() if scenarios == "all" else [s.strip() for s in scenarios.split(",") if s.strip()]
    try:
        chosen = [load_scenario(name) for name in names]
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("runs", total=len(chosen) * seeds)

        def done(run, scenario: str, seed: int) -> None:
            progress.advance(task)
            if run is None:
                progress.console.print(f"[red]{scenario} seed {seed} failed after its retries[/red]")

        result = sweep(settings, chosen, list(range(1, seeds + 1)), months=months, scale=scale,
                       world_seed=world_seed, parallel=parallel, cluster=cluster, done=done)
    if not result.runs:
        console.print("[red]no run finished[/red]")
        raise typer.Exit(1)
    last = next((r for r in result.runs if r.scenario == "baseline"), result.runs[0])
    engine = ready_engine(settings.database_url)
    with Session(engine) as session:
        compared = comparison(session, world_scale=scale, world_seed=world_seed, months=months,
                              scenarios={s.name for s in chosen})
        page = write_report(session, last.id, out)
        effects = detectable_effects(session, world_scale=scale, world_seed=world_seed, months=months,
                                     scenarios={s.name for s in chosen}, target=target)
        versus = differences(session, world_scale=scale, world_seed=world_seed, months=months,
                             scenarios={s.name for s in chosen})
    engine.dispose()
    if as_json:
        print(json.dumps({"comparison": comparison_json(compared),
                          "difference_from_baseline": comparison_json(versus),
                          "detectable": {d.figure: {"seeds": d.seeds, "minimal_detectable_effect": round(d.effect, 4),
                                                    "target_effect": target, "seeds_for_target": d.seeds_for_target,
                                                    "design": d.design}
                                         for d in effects}}, ensure_ascii=False, indent=2))
    else:
        print(f"| scenario | {' | '.join(COMPARED)} | seeds |")
        print("|---|" + "---:|" * (len(COMPARED) + 1))
        for name, figures in compared.items():
            print(f"| {name} | {' | '.join(iv.text() for iv in figures.values())} | {next(iter(figures.values())).n} |")
        if versus:
            print("\ndifference from the baseline, seed by seed (common random numbers):")
            print(f"| scenario | {' | '.join(COMPARED)} | seeds |")
            print("|---|" + "---:|" * (len(COMPARED) + 1))
            for name, figures in versus.items():
                cells = [figures[f].text() if f in figures else "—" for f in COMPARED]
                print(f"| {name} | {' | '.join(cells)} | {next(iter(figures.values())).n} |")
        print(f"\nminimal detectable effect against the baseline (80% power, 5% level), and seeds for {target:.0%}:")
        for d in effects:
            need = d.seeds_for_target if d.seeds_for_target is not None else "more than 10,000"
            print(f"- {d.figure}: {d.effect:.1%} with {d.seeds} seeds ({d.design}); "
                  f"{need} seeds per scenario for {target:.0%}")
    console.print(f"comparison report: {page}")
    for scenario, seed, error in result.failed:
        console.print(f"[red]failed: {scenario} seed {seed}: {error}[/red]")
    if result.failed:
        raise typer.Exit(1)


def runs() -> None:
    """List the stored simulation runs."""
    from rich.table import Table
    from sqlalchemy.orm import Session

    from matchmaker.readiness import ready_engine
    from matchmaker.simulation.runs import list_runs

    engine = ready_engine(Settings.from_env().database_url)
    with Session(engine) as session:
        table = Table("id", "scenario", "seed", "world", "months", "contracts", "turnover (yuan)", "local rate")
        for run in list_runs(session):
            s = run.summary
            table.add_row(str(run.id), run.scenario, str(run.seed), f"{run.world_scale}/{run.world_seed}",
                          str(run.months), str(s.get("contracts")), f"{Decimal(s.get('turnover_yuan', 0)):,.0f}",
                          str(s.get("local_conversion_rate")))
    engine.dispose()
    Console().print(table)
