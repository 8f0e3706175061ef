"""The `matchmaker` command line: database, world generator, import/export, matching."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from matchmaker.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Technology-transfer matchmaking platform.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
app.add_typer(db_app, name="db")
console = Console(stderr=True)


def _settings() -> Settings:
    # Read here, when a command runs, never at import time.
    return Settings.from_env()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the schema up to REVISION and load the reference data (regions, fields)."""
    from matchmaker import migrate
    from matchmaker.db import make_engine
    from matchmaker.reference import sync_reference_data

    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    if revision == "head":
        engine = make_engine(settings.database_url)
        added = sync_reference_data(engine)
        engine.dispose()
        console.print(f"schema at head; reference data added: {added}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument("base")) -> None:
    """Migrate the schema down to REVISION (default: base, an empty database)."""
    from matchmaker import migrate

    migrate.downgrade(_settings().database_url, revision)


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    from matchmaker import migrate

    print(migrate.current(_settings().database_url) or "empty")


class Scale(StrEnum):
    demo = "demo"
    province = "province"
    national = "national"


@app.command()
def seed(
    scale: Scale = typer.Option(Scale.demo, help="demo ≈ 2k achievements; province ≈ 20k; national = 1M."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same world."),
) -> None:
    """Generate a synthetic world (organisations, brokers, achievements, demands, latent fits)."""
    from matchmaker.readiness import ready_engine
    from matchmaker.reference import sync_reference_data
    from matchmaker.world.generate import generate_world

    engine = ready_engine(_settings().database_url)
    sync_reference_data(engine)
    result = generate_world(engine, scale=scale.value, seed=seed, console=console)
    engine.dispose()
    if result.created:
        console.print(f"world {scale.value}/seed {seed} created in {result.seconds:.1f}s: {result.counts}")
    else:
        console.print(f"world {scale.value}/seed {seed} already present; nothing added: {result.counts}")


class RecordKind(StrEnum):
    organisations = "organisations"
    achievements = "achievements"
    demands = "demands"
    contracts = "contracts"   # the technology-contract registry (.xlsx or CSV only)


class FileFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"


@app.command("import")
def import_(
    kind: RecordKind = typer.Argument(..., help="What the file holds."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    format: FileFormat | None = typer.Option(None, "--format", help="Default: from the file name."),
    report: Path | None = typer.Option(None, "--report", dir_okay=False,
                                       help="On failure, also write the problems to this .xlsx (one row each)."),
) -> None:
    """Validate every row of a JSONL, CSV (UTF-8, UTF-8 with BOM or GBK) or .xlsx file and insert all, or nothing."""
    from matchmaker.catalog.io.validate import ImportRejected
    from matchmaker.catalog.io.write import import_file
    from matchmaker.catalog.specs import KINDS
    from matchmaker.readiness import ready_engine

    engine = ready_engine(_settings().database_url)
    try:
        if kind is RecordKind.contracts:
            count = _import_contracts(engine, path, format.value if format else None)
        else:
            count = import_file(engine, kind.value, path, format.value if format else None)
    except ImportRejected as rejected:
        for problem in rejected.problems:
            console.print(f"[red]{path}:{problem.line}[/red] {problem.field}: {problem.reason}")
        console.print(f"[red]没有导入任何数据[/red]：共 {len(rejected.problems)} 处问题，请改正后重新导入")
        if report is not None:
            from matchmaker.catalog.io.excel import problem_report

            columns = None
            if kind is RecordKind.contracts:
                from matchmaker.brokerage.registry_io import COLUMNS, header

                columns = {name: header(name) for name in COLUMNS}
            report.write_bytes(problem_report(rejected.problems, columns=columns))
            console.print(f"问题清单已写入 {report}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"已导入 {count} 条{KINDS[kind.value].words if kind.value in KINDS else '技术合同'}")


@app.command("export")
def export(
    kind: RecordKind = typer.Argument(...),
    format: FileFormat = typer.Option(FileFormat.jsonl, "--format"),
    out: Path = typer.Option(..., "--out", dir_okay=False),
) -> None:
    """Write every record of KIND to a JSONL, CSV (UTF-8 with BOM, for Excel) or .xlsx file (what `import` reads)."""
    from matchmaker.catalog.io.export import export_file
    from matchmaker.readiness import ready_engine

    engine = ready_engine(_settings().database_url)
    if kind is RecordKind.contracts:
        count = _export_contracts(engine, out, format.value)
    else:
        count = export_file(engine, kind.value, out, format.value)
    from matchmaker.identity import audit

    audit.record_from_cli(engine, audit.EXPORTED, subject=f"export:{kind.value}", rows=count, format=format.value)
    engine.dispose()
    console.print(f"exported {count} {kind.value} to {out}")


def _import_contracts(engine, path: Path, fmt: str | None) -> int:
    from matchmaker.brokerage.registry_io import import_contracts
    from matchmaker.db import make_session_factory, transaction

    fmt = fmt or path.suffix.lower().lstrip(".")
    with transaction(make_session_factory(engine)) as session:
        result = import_contracts(session, actor=None, data=path.read_bytes(), fmt=fmt)
    if result.new_organisations:
        console.print(f"{result.new_organisations} parties were new to the platform and were added as organisations")
    return result.contracts


def _export_contracts(engine, out: Path, fmt: str) -> int:
    from matchmaker.brokerage.registry_io import export_rows, to_csv, to_xlsx
    from matchmaker.db import make_session_factory, transaction
    from matchmaker.models import Contract
    from sqlalchemy import select

    if fmt == "jsonl":
        console.print("[red]contracts export as xlsx or csv[/red] (what registration offices open)")
        raise typer.Exit(2)
    with transaction(make_session_factory(engine)) as session:
        rows = list(export_rows(session, select(Contract).order_by(Contract.signed_on, Contract.id)))
    out.write_bytes(to_xlsx(iter(rows)) if fmt == "xlsx" else to_csv(iter(rows)))
    return len(rows)


users_app = typer.Typer(no_args_is_help=True, help="Users and their API tokens.")
app.add_typer(users_app, name="users")


@users_app.command("create")
def users_create(
    role: str = typer.Option(..., help="office | firm | broker | analyst | admin"),
    org: int = typer.Option(..., "--org", help="Organisation id the user belongs to."),
    name: str = typer.Option(..., help="The person's name."),
    region: str | None = typer.Option(None, help="An analyst's market: a province or city code (e.g. 210200)."),
) -> None:
    """Create a user and print its API token on the last line (shown once; only its hash is stored)."""
    from matchmaker.db import make_session_factory, transaction
    from matchmaker.errors import DomainError
    from matchmaker.identity.services import create_user
    from matchmaker.readiness import ready_engine

    engine = ready_engine(_settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user, token = create_user(session, role=role, organisation_id=org, name=name, region_code=region)
            console.print(f"user {user.id} ({user.role}) created for organisation {org}")
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    print(token)


@users_app.command("rotate-token")
def users_rotate_token(user_id: int = typer.Argument(..., help="The user whose token to replace.")) -> None:
    """Replace a user's API token (the old one stops working at once); print the new one on the last line."""
    from matchmaker.db import make_session_factory, transaction
    from matchmaker.errors import DomainError
    from matchmaker.identity import audit
    from matchmaker.identity.services import TOKEN_DAYS, rotate_token
    from matchmaker.readiness import ready_engine

    engine = ready_engine(_settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            token = rotate_token(session, user_id=user_id)
            audit.record(session, audit.TOKEN_ROTATED, subject=f"user:{user_id}", via="cli")
        console.print(f"user {user_id}: new token, valid {TOKEN_DAYS} days")
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    print(token)


@app.command("demo-users")
def demo_users() -> None:
    """Create one demo login per role in the seeded world and print logins, passwords and fresh API tokens."""
    from rich.table import Table
    from sqlalchemy import select

    from matchmaker.db import make_session_factory, transaction
    from matchmaker.identity.demo import ensure_demo_users
    from matchmaker.identity.services import rotate_token
    from matchmaker.models import User
    from matchmaker.readiness import ready_engine

    engine = ready_engine(_settings().database_url)
    table = Table("role", "login", "password", "organisation", "API token", title="demo users (pages: /web/login)")
    try:
        with transaction(make_session_factory(engine)) as session:
            for role, login, password, organisation in ensure_demo_users(session):
                user_id = session.scalar(select(User.id).where(User.login == login, User.role == role))
                table.add_row(role, login, password, organisation, rotate_token(session, user_id=user_id))
    except LookupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    Console(width=200).print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, help="Worker processes; they share the database and replay its index change log."),
    job_worker: bool = typer.Option(True, "--job-worker/--no-job-worker",
                                    help="Also run `matchmaker worker` (the job queue) beside the server."),
) -> None:
    """Serve the API and pages with uvicorn (and, by default, the job worker in its own process)."""
    import os
    import subprocess
    import sys
    import tempfile

    import uvicorn

    from matchmaker import serving

    worker = subprocess.Popen([sys.executable, "-m", "matchmaker.cli", "worker"]) if job_worker else None
    board = tempfile.TemporaryDirectory(prefix="matchmaker-serve-") if workers > 1 else None
    try:
        loop = "auto"   # uvloop where installed
        if board is not None:   # several workers on one socket: the least busy takes each connection (serving.py)
            os.environ[serving.ENV] = str(serving.create_board(Path(board.name)))
            loop = "matchmaker.serving:LeastConnectionsLoop"
            serving.fork_workers()
        # The factory reads MATCHMAKER_* settings in each worker process when it starts (serving.create_app).
        uvicorn.run("matchmaker.serving:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False, loop=loop)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        if board is not None:
            board.cleanup()


@app.command()
def worker(
    burst: bool = typer.Option(False, "--burst", help="Do what is due (queued and periodic jobs) and exit."),
) -> None:
    """Run the job queue: embedding new postings (and, as they come, mail and periodic sweeps)."""
    from matchmaker.jobs import make_queue, run_burst

    queue = make_queue(_settings())
    if burst:
        ran = run_burst(queue)
        typer.echo(f"ran {ran} jobs", err=True)
        return
    consumer = queue.create_consumer(workers=1, periodic=True)
    consumer.run()


@app.command("evaluate-world")
def evaluate_world(
    max_demands: int = typer.Option(500, help="Demands evaluated, spread evenly over the world."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """nDCG@10, Recall@10, MRR@10 on the seeded world's latent ground truth, next to the plain baseline."""
    import json

    from matchmaker.matching.world_eval import evaluate_world as run
    from matchmaker.readiness import ready_engine

    engine = ready_engine(_settings().database_url)
    results = run(engine, max_demands=max_demands)
    engine.dispose()
    if as_json:
        print(json.dumps(results, indent=2))
        return
    from rich.table import Table

    table = Table(title="synthetic world, latent ground truth")
    for column in ("system", "nDCG@10", "Recall@10", "MRR@10", "demands"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(name, f"{r['ndcg@10']:.3f}", f"{r['recall@10']:.3f}", f"{r['mrr@10']:.3f}", str(r["demands"]))
    Console().print(table)


def _register_simulation_commands() -> None:
    from matchmaker.analytics.commands import analytics_app
    from matchmaker.simulation.commands import compare, report, runs, simulate

    app.command("simulate")(simulate)
    app.command("compare")(compare)
    app.command("report")(report)
    app.command("runs")(runs)
    app.add_typer(analytics_app, name="analytics")


_register_simulation_commands()


def _register_matching_commands() -> None:
    from matchmaker.matching.commands import counterfactual, evaluate, learn_weights, rank

    app.command("rank")(rank)
    app.command("evaluate")(evaluate)
    app.command("learn-weights")(learn_weights)
    app.command("counterfactual")(counterfactual)


_register_matching_commands()


def main() -> None:
    """The console script: a database or index that is not ready is a message and exit code 1, not a traceback."""
    from matchmaker.readiness import NotReady

    try:
        app()
    except NotReady as error:
        console.print(f"[red]{error}[/red]")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
