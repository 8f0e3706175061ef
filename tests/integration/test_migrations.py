"""Migrations build the schema on empty databases, round-trip, and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from matchmaker import migrate
from matchmaker.db import make_engine
from matchmaker.models import Base


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(database_url):
    migrate.upgrade(database_url)
    assert _tables(database_url) == set(Base.metadata.tables)
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) == set()
    migrate.upgrade(database_url)
    assert _tables(database_url) == set(Base.metadata.tables)
    assert migrate.current(database_url) is not None


def test_models_and_migrations_agree(database_url):
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": migrate.for_this_database(conn.dialect.name)})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
