"""The impression log: every list of matches shown (API, page, push), with the pool it was drawn from.

A shown list is a slate. Its pool is the top POOL candidates of the ranker that answered; the slate shows the
first k, except that with probability `exploration` the last slot shows a candidate drawn uniformly from the rest
of the pool. Every pool row is logged with its chance of being shown (propensity) and the features the score was
made from, so another ranker's interest rate can be estimated offline from what people did (counterfactual.py).
With `interleave` set, a slate instead team-draft interleaves the shipped ranker (A) with a candidate (B).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from matchmaker import vocabulary as v
from matchmaker.matching.ranking import Match
from matchmaker.models import Impression

log = logging.getLogger("matchmaker.matching")

POOL = 20   # candidates logged per slate: the shown ones and those exploration could have shown


@dataclass(frozen=True)
class Slate:
    """What one person was shown: matches in display order, each with its propensity and (interleaving) team."""

    id: str
    shown: list[Match]
    propensities: list[float]
    teams: list[str | None]


def features(match: Match) -> dict:
    """What a candidate ranker needs to re-score a logged pair: the text's standing and every factor."""
    r = match.explanation.relevance
    return {"text_z": r.text_z, "text_similarity": r.text_similarity, "semantic_z": r.semantic_z, "relevance": r.value,
            "violations": {f.name: f.violation for f in match.explanation.factors}}


def explore(pool: list[Match], k: int, exploration: float, rng: random.Random) -> Slate:
    """The top k of the pool; with probability `exploration`, the k-th slot shows a uniformly drawn lower candidate."""
    shown = pool[:k]
    rest = pool[k:]
    propensities = [1.0] * len(shown)
    if exploration > 0 and rest and len(shown) == k:
        propensities[-1] = 1.0 - exploration
        if rng.random() < exploration:
            pick = rng.randrange(len(rest))
            shown = shown[:-1] + [rest[pick]]
            propensities[-1] = exploration / len(rest)
    return Slate(uuid.uuid4().hex, shown, propensities, [None] * len(shown))


def pool_propensity(pool_rank: int, k: int, pool_size: int, exploration: float) -> float:
    """Chance that the candidate at this pool rank (1-based) is shown, under `explore`."""
    if pool_rank < k or exploration <= 0 or pool_size <= k:
        return 1.0 if pool_rank <= k else 0.0
    if pool_rank == k:
        return 1.0 - exploration
    return exploration / (pool_size - k)


def team_draft(a: list[Match], b: list[Match], k: int, rng: random.Random) -> Slate:
    """Team-draft interleaving (Radlinski et al. 2008): each round a coin decides which ranker picks first."""
    shown: list[Match] = []
    teams: list[str] = []
    taken: set = set()
    count = {"A": 0, "B": 0}
    lists = {"A": a, "B": b}
    while len(shown) < k:
        if count["A"] < count["B"] or (count["A"] == count["B"] and rng.random() < 0.5):
            team = "A"
        else:
            team = "B"
        pick = next((m for m in lists[team] if m.id not in taken), None)
        if pick is None:
            team = "B" if team == "A" else "A"
            pick = next((m for m in lists[team] if m.id not in taken), None)
            if pick is None:
                break
        shown.append(pick)
        teams.append(team)
        taken.add(pick.id)
        count[team] += 1
    return Slate(uuid.uuid4().hex, shown, [1.0] * len(shown), teams)


def slate_rows(slate: Slate, pool: list[Match], *, user_id: int | None, surface: v.Surface, direction: v.Library,
               query_id: int, k: int, exploration: float, ranker: str) -> list[dict]:
    """The pool of a slate as impression rows: shown rows with their display rank, the rest with the chance they had."""
    position = {m.id: n for n, m in enumerate(slate.shown, 1)}
    team = {m.id: t for m, t in zip(slate.shown, slate.teams)}
    seen = set()
    rows = []
    now = dt.datetime.now(dt.UTC)
    pooled = {m.id for m in pool}
    for rank, match in enumerate([*pool, *(m for m in slate.shown if m.id not in pooled)], 1):
        if match.id in seen:
            continue
        seen.add(match.id)
        demand_id, achievement_id = (query_id, match.id) if direction is v.Library.ACHIEVEMENTS else (match.id, query_id)
        shown_rank = position.get(match.id)
        propensity = (slate.propensities[shown_rank - 1] if shown_rank
                      else pool_propensity(rank, k, len(pool), exploration))
        rows.append(dict(slate=slate.id, user_id=user_id, surface=surface.value, direction=direction.value,
                         demand_id=int(demand_id), achievement_id=int(achievement_id), pool_rank=rank,
                         shown_rank=shown_rank, propensity=propensity, team=team.get(match.id),
                         score=float(match.score), ranker=ranker, features=features(match), shown_at=now))
    return rows


def write_rows(session: Session, rows: list[dict]) -> None:
    """On every list shown, so the cheapest bulk write each database has: COPY on PostgreSQL (a third of an INSERT's
    client CPU and half its time for a 0.2 s batch of 800 rows), else one executemany on the table, not through the
    ORM's bulk insert (half the cost)."""
    if not rows:
        return
    if session.bind.dialect.name != "postgresql":
        session.execute(insert(Impression.__table__), rows)
        return
    columns = list(rows[0])
    features = columns.index("features")
    driver = session.connection().connection.driver_connection   # psycopg's own, in the session's transaction
    with driver.cursor() as cursor, cursor.copy(f"COPY impressions ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            values = list(row.values())
            values[features] = json.dumps(values[features])
            copy.write_row(values)


def log_slate(session: Session, slate: Slate, pool: list[Match], **slate_args) -> None:
    """Write the pool of a slate in the session's transaction."""
    write_rows(session, slate_rows(slate, pool, **slate_args))


class ImpressionWriter:
    """Impression rows written behind the requests that showed them: one batch per process every `every` seconds.

    A match request that commits its own 20 rows writes on every call, and on SQLite the server's processes then take
    turns on the one write lock, a writer that finds it taken sleeping in the busy handler's steps of up to 100 ms:
    the match endpoint's p99 went from 0.32 s to 1.30 s with the rows written (benchmarks/speed/README.md). Behind the
    request, a process writes a few times a second. What it costs: a process killed outright loses the rows of its
    last `every` seconds (a clean stop writes them, `close`), and a list shows up in the log that much later.
    """

    def __init__(self, session_factory: sessionmaker[Session], every: float) -> None:
        self.session_factory, self.every = session_factory, every
        self._rows: list[dict] = []
        self._lock = threading.Lock()          # the buffer
        self._writing = threading.Lock()       # one batch at a time, in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="impression-writer", daemon=True)
        self._thread.start()

    def add(self, rows: list[dict]) -> None:
        with self._lock:
            self._rows.extend(rows)

    def flush(self) -> int:
        """Write what is waiting; returns how many rows. Rows a failed write could not store wait for the next."""
        with self._writing:
            with self._lock:
                rows, self._rows = self._rows, []
            try:
                with self.session_factory() as session, session.begin():
                    write_rows(session, rows)
            except Exception:
                with self._lock:
                    self._rows[:0] = rows
                raise
            return len(rows)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.flush()
            except Exception:   # noqa: BLE001 - a database that is away now may be back at the next batch
                log.exception("impression rows not written yet; trying again in %.1f s", self.every)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.flush()
