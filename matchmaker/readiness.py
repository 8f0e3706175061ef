"""Is this process fit to serve? The database at the schema's head and a writable index directory, checked at
startup (the server refuses to start, saying what to do) and by the CLI before it touches data; /health reports
the same, and whether the matcher is loaded yet."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text


class NotReady(RuntimeError):
    """The process cannot serve; the message says what an operator should do."""


@dataclass(frozen=True)
class Readiness:
    database: str     # "ok", or what is wrong
    index_dir: str
    ready: bool


@functools.cache
def head_revision() -> str:
    # Once per process: the migration scripts ship with the program, and reading them (18 files, parsed and run)
    # took 20-120 ms, on every /health and every test app's start (benchmarks/speed/README.md).
    from alembic.script import ScriptDirectory

    from matchmaker.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def check_database(engine: Engine) -> str:
    """"ok", or what is wrong with the database, in words an operator acts on."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as error:  # noqa: BLE001 - any failure to reach the database is the same answer
        return f"数据库无法连接（{type(error).__name__}）：请检查 MATCHMAKER_DATABASE_URL 和数据库服务"
    head = head_revision()
    if current != head:
        return (f"数据库结构版本为 {current or '空'}，程序需要 {head}：请先运行 matchmaker db upgrade")
    return "ok"


def check_index_dir(path: Path) -> str:
    """"ok", or why the matcher could not save its index there."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as error:
        return f"索引目录 {path} 不可写（{error.strerror or error}）：请检查 MATCHMAKER_INDEX_DIR 的位置和权限"
    return "ok"


def readiness(engine: Engine, index_dir: Path) -> Readiness:
    database, index = check_database(engine), check_index_dir(index_dir)
    return Readiness(database, index, database == "ok" and index == "ok")


def require_ready(engine: Engine, index_dir: Path | None = None) -> None:
    """Raise NotReady with what to do, unless the database (and the index directory, if given) can be used."""
    problems = [check_database(engine)]
    if index_dir is not None:
        problems.append(check_index_dir(index_dir))
    problems = [p for p in problems if p != "ok"]
    if problems:
        raise NotReady("；".join(problems))




def ready_engine(database_url: str) -> Engine:
    """An engine on a database the CLI can use, or NotReady saying what to do (never a raw SQL traceback)."""
    from matchmaker.db import make_engine

    engine = make_engine(database_url)
    try:
        require_ready(engine)
    except NotReady:
        engine.dispose()
        raise
    return engine
