"""CLI commands for the market simulator: simulate, compare, report, runs."""

from __future__ import annotations

import json

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
    from matchmaker.simulation.runs import run_scenario
    from matchmaker.simulation.scenarios import load_scenario

    try:
        chosen = load_scenario(scenario)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    run = run_scenario(Settings.from_env(), chosen, seed=seed, months=months, scale=scale, world_seed=world_seed,
                       console=None if as_json else console)
    if as_json:
        print(json.dumps({"run_id": run.id, "scenario": run.scenario, "seed": seed, "months": months,
                          "seconds": run.seconds, **run.summary}, ensure_ascii=False))
        return
    s = run.summary
    console.print(f"run {run.id}: {s['contracts']} contracts, turnover {s['turnover_yuan']:,.0f} yuan, "
                  f"local conversion {s['local_conversion_rate']}, {run.seconds:.1f}s")
