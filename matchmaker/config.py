"""Settings read from MATCHMAKER_* environment variables when the app or CLI starts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_FILE = "matchmaker.db"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with `Settings.from_env()` or pass values in tests."""

    database_url: str = field(default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}")
    index_dir: Path = field(default_factory=lambda: Path.cwd() / "var" / "index")
    echo_sql: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("MATCHMAKER_DATABASE_URL") or defaults.database_url,
            index_dir=Path(env["MATCHMAKER_INDEX_DIR"]) if env.get("MATCHMAKER_INDEX_DIR") else defaults.index_dir,
            echo_sql=env.get("MATCHMAKER_ECHO_SQL", "").lower() in {"1", "true", "yes"},
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
