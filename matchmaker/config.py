"""Settings read from MATCHMAKER_* environment variables when the app or CLI starts."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_FILE = "matchmaker.db"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with `Settings.from_env()` or pass values in tests."""

    database_url: str = field(default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}")
    index_dir: Path = field(default_factory=lambda: Path.cwd() / "var" / "index")
    echo_sql: bool = False
    secret_key: str = ""  # signs page sessions and CSRF tokens; empty = a random key for this process only
    semantic: bool = True  # sentence vectors in ranking when the `semantic` extra is installed
    exploration: float = 0.0  # share of shown lists whose last slot shows a lower-ranked candidate (impression log)
    interleave: str = ""  # a candidate ranker to team-draft interleave with the shipped one ("" = off)
    jobs_url: str = ""  # the job queue: "" = a SQLite file beside the index, or redis://host:port/db
    warm_matcher: bool = False  # load or build the match index at startup (the server does; tests build on demand)
    secure_cookies: bool = False  # page cookies only over HTTPS (production behind TLS)
    smtp_url: str = ""  # smtp://[user:password@]host:port (smtps:// for TLS); "" = no email, notices stay in the inbox
    mail_from: str = "matchmaker@matchmaker.test"  # the From address of notices
    public_url: str = "http://127.0.0.1:8000"  # where people reach the pages: links in emails start with it
    rank_processes: int = 0  # processes ranking a batch of queries (a simulated month's demands); 0 = every usable core
    kept_rankings: int = 2_000  # rankings a process keeps until the index changes (~20 KB each); 0 = rank every time
    # Seconds between a process's batches of impression rows; 0 = in each request (settings built in code: tests, the
    # simulator). `from_env`, which the server reads, defaults to 0.2.
    impressions_every: float = 0.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("MATCHMAKER_DATABASE_URL") or defaults.database_url,
            index_dir=Path(env["MATCHMAKER_INDEX_DIR"]) if env.get("MATCHMAKER_INDEX_DIR") else defaults.index_dir,
            echo_sql=env.get("MATCHMAKER_ECHO_SQL", "").lower() in {"1", "true", "yes"},
            secret_key=env.get("MATCHMAKER_SECRET_KEY") or development_secret(Path.cwd() / "var" / "secret_key"),
            semantic=env.get("MATCHMAKER_SEMANTIC", "on").lower() not in {"0", "off", "false", "no"},
            exploration=float(env.get("MATCHMAKER_EXPLORATION") or 0.0),
            interleave=env.get("MATCHMAKER_INTERLEAVE", ""),
            jobs_url=env.get("MATCHMAKER_JOBS_URL", ""),
            warm_matcher=env.get("MATCHMAKER_WARM_MATCHER", "on").lower() not in {"0", "off", "false", "no"},
            secure_cookies=env.get("MATCHMAKER_SECURE_COOKIES", "").lower() in {"1", "on", "true", "yes"},
            smtp_url=env.get("MATCHMAKER_SMTP_URL", ""),
            mail_from=env.get("MATCHMAKER_MAIL_FROM") or defaults.mail_from,
            public_url=(env.get("MATCHMAKER_PUBLIC_URL") or defaults.public_url).rstrip("/"),
            rank_processes=int(env.get("MATCHMAKER_RANK_PROCESSES") or 0),
            kept_rankings=int(env.get("MATCHMAKER_KEPT_RANKINGS") or defaults.kept_rankings),
            impressions_every=float(env.get("MATCHMAKER_IMPRESSIONS_EVERY") or 0.2),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def development_secret(path: Path) -> str:
    """A key generated once and kept in var/secret_key, so page logins survive a development restart.

    Production sets MATCHMAKER_SECRET_KEY instead: a key in the working tree is fine for a laptop only.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        work = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(work, path)  # atomic and refuses to overwrite: of two workers starting together, one key wins
        except FileExistsError:
            pass
        finally:
            work.unlink()
    return path.read_text(encoding="utf-8").strip()
