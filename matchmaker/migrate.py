"""Runs the Alembic migrations in migrations/ against a database URL (the one entry point for schema changes)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from matchmaker.db import make_engine, refresh_statistics

    command.upgrade(alembic_config(database_url), revision)
    engine = make_engine(database_url)   # a new index is of no use to the planner until the statistics know it
    try:
        refresh_statistics(engine)
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from matchmaker.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def for_this_database(dialect_name: str):
    """An `include_object` for comparing models with a database: leaves out the indexes a model declares for another
    database only (`Index.ddl_if(dialect=...)`, such as PostgreSQL's NULLS LAST indexes in models/libraries.py)."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        wanted = getattr(obj, "_ddl_if", None) if type_ == "index" and not reflected else None
        return wanted is None or wanted.dialect in (None, dialect_name)
    return include
