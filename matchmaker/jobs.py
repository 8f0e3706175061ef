"""The durable job queue (huey): slow work runs here, never inside a request.

huey keeps its queue in a SQLite file next to the database by default (the embedded default needs nothing
else) and in Redis when MATCHMAKER_JOBS_URL is a redis:// URL (production). Why huey: it is maintained, small,
has both of those storages, periodic tasks, retries with delays, and a consumer we can also drive in-process
(`matchmaker worker` consumes; `--burst` does what is due and exits; `matchmaker serve` starts a worker process
beside the server unless told not to). Every job is idempotent: it derives its work from what the database says is
still to do. Jobs: embedding new postings, emailing notices (with retries and backoff per message), the sweeps analysts ask
for on the pages.
"""

from __future__ import annotations

import logging
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey, crontab

from matchmaker.config import Settings

log = logging.getLogger("matchmaker.jobs")


def make_queue(settings: Settings) -> Huey:
    """The queue for these settings, with every job registered on it."""
    url = settings.jobs_url
    if url.startswith(("redis://", "rediss://")):
        huey: Huey = RedisHuey("matchmaker", url=url)
    else:
        path = Path(url.removeprefix("sqlite:///")) if url else Path(settings.index_dir).parent / "jobs.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("matchmaker", filename=str(path))
    _register(huey, settings)
    return huey


def _register(huey: Huey, settings: Settings) -> None:
    from matchmaker.db import make_engine, make_session_factory

    state: dict = {}

    def session_factory():
        if "factory" not in state:   # one engine per consumer process, made on first use
            state["factory"] = make_session_factory(make_engine(settings.database_url))
        return state["factory"]

    @huey.task(retries=3, retry_delay=30, name="embed_pending")
    def embed_pending_task() -> int:
        return _embed(settings, session_factory)

    @huey.periodic_task(crontab(minute="*"), name="embed_pending_every_minute")
    def embed_pending_periodic() -> int:
        return _embed(settings, session_factory)

    # Hourly: the query planner's statistics follow the libraries as they grow through the API (db.refresh_statistics).
    @huey.periodic_task(crontab(minute="17"), name="refresh_statistics_hourly")
    def refresh_statistics_hourly() -> None:
        from matchmaker.db import refresh_statistics

        refresh_statistics(session_factory().kw["bind"])

    # Daily at 08:00 (and in every burst): remind owners of postings closing within a week, and contract parties of
    # trials ending and payments due; one notice per event, so running it again tells nobody twice.
    @huey.periodic_task(crontab(minute="0", hour="8"), name="remind_expiring_daily")
    def remind_expiring_daily() -> int:
        from matchmaker.catalog.reminders import remind_expiring
        from matchmaker.db import transaction

        from matchmaker.deals.contract_reminders import remind_after_signing

        with transaction(session_factory()) as session:
            return remind_expiring(session) + remind_after_signing(session)

    @huey.task(retries=3, retry_delay=30, name="deliver_notices")
    def deliver_notices_task() -> int:
        from matchmaker.notices.email import deliver_due

        return deliver_due(session_factory(), settings)

    # Every minute: email what notices are due (immediate ones, and digests whose day has come). Each message is
    # claimed and marked in its own transaction (notices/email.py), so a killed worker loses nothing.
    @huey.periodic_task(crontab(minute="*"), name="deliver_notices_every_minute")
    def deliver_notices_periodic() -> int:
        from matchmaker.notices.email import deliver_due

        return deliver_due(session_factory(), settings)

    # Every minute: close auctions whose end has passed (reads close them too; this tells the winner promptly).
    @huey.periodic_task(crontab(minute="*"), name="close_auctions_every_minute")
    def close_auctions_periodic() -> int:
        from matchmaker.db import transaction
        from matchmaker.trading.auctions import close_due

        with transaction(session_factory()) as session:
            return close_due(session)

    # Simulation sweeps analysts asked for on the pages; asked for at once, and picked up every minute anyway.
    @huey.task(name="run_simulations")
    def run_simulations_task() -> int:
        from matchmaker.simulation.requests import run_requested

        return run_requested(settings, session_factory())

    @huey.periodic_task(crontab(minute="*"), name="run_simulations_every_minute")
    def run_simulations_periodic() -> int:
        from matchmaker.simulation.requests import run_requested

        return run_requested(settings, session_factory())

    huey.matchmaker_jobs = {"embed_pending": embed_pending_task, "deliver_notices": deliver_notices_task,
                            "run_simulations": run_simulations_task}


def _embed(settings: Settings, session_factory) -> int:
    """Embed new postings, unless ranking runs without the semantic signal (MATCHMAKER_SEMANTIC=off)."""
    from matchmaker.matching.embedding import embed_pending

    return embed_pending(session_factory()) if settings.semantic else 0


def enqueue(huey: Huey, name: str) -> None:
    """Ask for a job now (best effort: the periodic run picks the work up anyway)."""
    try:
        huey.matchmaker_jobs[name]()
    except Exception as error:  # noqa: BLE001 - a full queue or a lost Redis must not fail the request
        log.warning("could not enqueue %s: %s", name, error)


def run_burst(huey: Huey) -> int:
    """Run every queued task and every periodic task once, then return how many ran (`worker --burst`)."""
    ran = 0
    while True:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    for task_class in huey._registry._periodic_tasks:   # noqa: SLF001 - huey keeps no public list of them
        huey.execute(task_class())
        ran += 1
    return ran
