"""Runs a scenario on a private copy of a generated world and stores the run's figures in the main database."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import __version__, migrate
from matchmaker.config import Settings
from matchmaker.db import make_engine
from matchmaker.models import SimulationRun
from matchmaker.readiness import head_revision
from matchmaker.reference import sync_reference_data
from matchmaker.simulation.agents import money
from matchmaker.simulation.figures import summarise
from matchmaker.simulation.market import Market, home_province_of
from matchmaker.simulation.scenarios import Scenario
from matchmaker.world.generate import GENERATOR_VERSION, generate_world


def world_file(settings: Settings, scale: str, world_seed: int) -> Path:
    """A generated world as a SQLite file, made once and reused by every run on it."""
    folder = settings.index_dir.parent / "worlds"
    folder.mkdir(parents=True, exist_ok=True)
    # A new generator or a new schema makes a new file.
    path = folder / f"{scale}-{world_seed}-v{GENERATOR_VERSION}-r{head_revision()}.db"
    if not path.exists():
        # A process's own work file, renamed into place: two workers making the same world at once both finish
        # (the generator is deterministic, so either file is the world).
        work = path.with_suffix(f".{os.getpid()}.tmp.db")
        work.unlink(missing_ok=True)
        url = f"sqlite:///{work}"
        migrate.upgrade(url)
        engine = make_engine(url)
        sync_reference_data(engine)
        generate_world(engine, scale=scale, seed=world_seed)
        engine.dispose()
        _checkpoint(work)
        work.rename(path)
    return path


def _checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")


def copy_world(source: Path, target: Path) -> None:
    """SQLite's backup API copies a consistent snapshot, whatever journal state the file is in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run_scenario(settings: Settings, scenario: Scenario, *, seed: int, months: int, scale: str, world_seed: int,
                 console: Console | None = None, keep_database: bool = True) -> SimulationRun:
    """Simulate on a fresh copy of the world; store and return the run row (summary + monthly series)."""
    return store_run(settings, simulate(settings, scenario, seed=seed, months=months, scale=scale,
                                        world_seed=world_seed, console=console, keep_database=keep_database))


def simulate(settings: Settings, scenario: Scenario, *, seed: int, months: int, scale: str, world_seed: int,
             console: Console | None = None, keep_database: bool = True, common_random_numbers: bool = True) -> dict:
    """One run on a private copy of the world, as the columns of its SimulationRun (plain data: a sweep's worker
    on another host returns it to the driver, which stores it). `common_random_numbers=False` only to measure
    what they gain (benchmarks/calibration/common_random_numbers.py): such runs are not for comparisons."""
    started = time.perf_counter()
    source = world_file(settings, scale, world_seed)
    runs_dir = settings.index_dir.parent / "runs"
    target = runs_dir / f"{scenario.name}-{scale}{world_seed}-seed{seed}.db"
    copy_world(source, target)
    engine = make_engine(f"sqlite:///{target}")
    index_dir = Path(tempfile.mkdtemp(prefix="mm-sim-index-"))
    try:
        with Session(engine) as session:
            home = home_province_of(session)
        market = Market(engine, scenario, seed, index_dir=index_dir, home_province=home,
                        common_random_numbers=common_random_numbers, world_matcher=source.with_suffix(".matcher"),
                        rank_processes=settings.rank_processes)
        with _progress(console) as progress:
            result = market.run(months, progress)
        with Session(engine) as session:
            summary = summarise(session, result, home_province=home)
    finally:
        engine.dispose()
        shutil.rmtree(index_dir, ignore_errors=True)
    if not keep_database:
        target.unlink(missing_ok=True)
    return {"scenario": scenario.name, "seed": seed, "world_scale": scale, "world_seed": world_seed,
            "months": months, "version": __version__, "levers": scenario.levers, "summary": summary,
            "monthly": [{**dataclasses.asdict(m), "turnover_yuan": money(m.turnover_yuan)} for m in result.months],
            "seconds": round(time.perf_counter() - started, 2),
            "database_path": str(target) if keep_database else None}


def store_run(settings: Settings, columns: dict) -> SimulationRun:
    run = SimulationRun(**columns)
    main = make_engine(settings.database_url)
    try:
        with Session(main, expire_on_commit=False) as session, session.begin():
            session.add(run)
    finally:
        main.dispose()
    return run


def list_runs(session: Session, *, scenario: str | None = None) -> list[SimulationRun]:
    query = select(SimulationRun).order_by(SimulationRun.id.desc())
    if scenario:
        query = query.where(SimulationRun.scenario == scenario)
    return list(session.scalars(query))


def _progress(console: Console | None) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console or Console(stderr=True), disable=console is None)
