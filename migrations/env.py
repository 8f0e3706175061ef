"""Alembic environment: the URL comes from the caller (matchmaker db …) or MATCHMAKER_DATABASE_URL."""

from alembic import context
from sqlalchemy.engine import make_url

from matchmaker.config import Settings
from matchmaker.db import make_engine
from matchmaker.migrate import for_this_database
from matchmaker.models import Base, ModeSet

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or Settings.from_env().database_url


def _render_item(type_, obj, autogen_context):
    # Migrations must not import the models: a ModeSet is an Integer in the database.
    if type_ == "type" and isinstance(obj, ModeSet):
        return "sa.Integer()"
    return False


def _configure(**kwargs) -> None:
    connection = kwargs.get("connection")
    dialect = connection.dialect.name if connection is not None else make_url(_url()).get_backend_name()
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
        render_item=_render_item,
        include_object=for_this_database(dialect),
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
