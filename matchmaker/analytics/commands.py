"""CLI `matchmaker analytics …`: turnover, local conversion, funnel and broker league as tables or CSV files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import typer

analytics_app = typer.Typer(no_args_is_help=True, help="Market analytics: turnover, local conversion, funnel, brokers.")

DATE_FROM = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="first signing/claim day included")
DATE_TO = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="last day included")
CSV_PATH = typer.Option(None, "--csv", dir_okay=False, help="write CSV (UTF-8) to this file instead of a table")
FIELD = typer.Option(None, "--field", help="technology field code, or 'unclassified'")


def _run(compute: Callable, csv_path: Path | None, title: str) -> None:
    """Open the database named by MATCHMAKER_DATABASE_URL, compute, then print or write the result."""
    from matchmaker.analytics.tables import to_csv
    from matchmaker.config import Settings
    from matchmaker.db import make_session_factory
    from matchmaker.errors import DomainError
    from matchmaker.identity import audit
    from matchmaker.readiness import ready_engine

    engine = ready_engine(Settings.from_env().database_url)
    try:
        with make_session_factory(engine)() as session:
            result = compute(session)
        if csv_path is not None:
            csv_path.write_text(to_csv(result), encoding="utf-8")   # to_csv starts with the BOM Excel needs
            audit.record_from_cli(engine, audit.EXPORTED, subject=f"analytics:{title}"[:40], format="csv")
            typer.echo(f"wrote {csv_path}", err=True)
            return
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    _print_table(result, title)


def _print_table(result, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from matchmaker.analytics.tables import tabulate

    header, rows = tabulate(result)
    # Turnover leaves the dimensions it did not group by empty; a screen has no room for blank columns.
    keep = [i for i in range(len(header)) if not rows or any(row[i] for row in rows)]
    table = Table(title=title)
    for i in keep:
        numeric = bool(rows) and all(_numeric(row[i]) for row in rows if row[i])
        table.add_column(header[i], justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    Console().print(table)


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@analytics_app.command("turnover")
def turnover(
    by: str = typer.Option("period", help="comma-separated: period, region, field, type"),
    period: str = typer.Option("month", help="month | quarter | year (of signed_on)"),
    region_level: str = typer.Option("province", "--region-level", help="province | city"),
    side: str = typer.Option("seller", help="seller (技术输出) | buyer (技术吸纳)"),
    region: str | None = typer.Option(None, help="only contracts whose SIDE party is in this province/city code"),
    field: str | None = FIELD,
    date_from: dt.datetime | None = DATE_FROM,
    date_to: dt.datetime | None = DATE_TO,
    csv: Path | None = CSV_PATH,
) -> None:
    """Contract turnover (成交额) and certified amount (核定技术交易额)."""
    # Each command shares its report function's name, so the function is imported as `report`.
    from matchmaker.analytics.turnover import turnover as report

    _run(lambda s: report(s, by=by.split(","), period=period, region_level=region_level, side=side,
                          region=region, field=field, date_from=_date(date_from), date_to=_date(date_to)),
         csv, "turnover 成交额")


@analytics_app.command("local-conversion")
def local_conversion(
    level: str | None = typer.Option(None, help="province | city (default: the region's level, else province)"),
    region: str | None = typer.Option(None, help="a province or city code"),
    date_from: dt.datetime | None = DATE_FROM,
    date_to: dt.datetime | None = DATE_TO,
    csv: Path | None = CSV_PATH,
) -> None:
    """Local conversion rate (本地转化率): seller and buyer in the same region ÷ seller in the region."""
    from matchmaker.analytics.local_conversion import local_conversion as report

    _run(lambda s: report(s, level=level, region=region, date_from=_date(date_from), date_to=_date(date_to)),
         csv, "local conversion 本地转化率")


@analytics_app.command("funnel")
def funnel(
    broker_id: int | None = typer.Option(None, "--broker", help="one broker's claims"),
    field: str | None = FIELD,
    date_from: dt.datetime | None = DATE_FROM,
    date_to: dt.datetime | None = DATE_TO,
    csv: Path | None = CSV_PATH,
) -> None:
    """match → claimed → contacted → negotiating → signed."""
    from matchmaker.analytics.funnel import funnel as report

    _run(lambda s: report(s, broker_id=broker_id, field=field, date_from=_date(date_from), date_to=_date(date_to)),
         csv, "deal funnel")


@analytics_app.command("brokers")
def brokers(
    limit: int = typer.Option(50, min=1, help="rows"),
    field: str | None = FIELD,
    date_from: dt.datetime | None = DATE_FROM,
    date_to: dt.datetime | None = DATE_TO,
    csv: Path | None = CSV_PATH,
) -> None:
    """Broker league table by credit score (信用积分)."""
    from matchmaker.analytics.league import broker_league as report

    _run(lambda s: report(s, limit=limit, field=field, date_from=_date(date_from), date_to=_date(date_to)),
         csv, "broker league 技术经纪人")

