"""The live matcher of one process: built from the published records, saved to disk, kept current by the change log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from matchmaker import regions
from matchmaker import vocabulary as v
from matchmaker.config import Settings
from matchmaker.errors import DomainError, FieldProblem, InvalidInput
from matchmaker.matching import forked, freshness, impressions, records, saved_matcher, semantic
from matchmaker.matching.index import IndexVersionError
from matchmaker.matching.learning import load_weights
from matchmaker.matching.kept import Kept
from matchmaker.matching.ranking import FUSED, TFIDF, Match, Matcher
from matchmaker.matching.records import achievement_doc, demand_doc, open_docs
from matchmaker.matching.saved_matcher import attach_vectors, known_fields
from matchmaker.matching.scoring import ScoreWeights
from matchmaker.models import Achievement, Demand, IndexChange

log = logging.getLogger("matchmaker.matching")

MAX_K = 100
# Change ids come from a sequence, and on PostgreSQL a transaction that took a lower id can commit
# after one that took a higher id. An id skipped by a sync (a gap below the newest one applied) is asked for
# again for this long, so a late commit is not lost; a gap still empty after it was a rollback.
LATE_COMMIT_GRACE = dt.timedelta(seconds=10)
# More gaps than this at once (a sequence that jumped) are not named one by one: for a grace period every
# change logged within it is read again instead, as just after a start.
MAX_GAPS = 500
# Save again after this many replayed changes, so a restart replays a short tail, not the whole log.
SAVE_EVERY = 500


@dataclass(frozen=True)
class MatchFilters:
    fields: tuple[str, ...] | None = None
    region: str | None = None
    trl_min: int | None = None
    trl_max: int | None = None


class MatchingService:
    """One Matcher per process. Thread-safe: request threads share it under a lock.

    Startup loads the saved index (no refit) or builds and saves one; before answering, `sync`
    replays the IndexChange rows this process has not applied yet.
    """

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session],
                 rng: random.Random | None = None, autosave: bool = True,
                 today: Callable[[], dt.date] = dt.date.today,
                 impressions_behind: impressions.ImpressionWriter | None = None) -> None:
        self.settings = settings
        # The records' calendar: which are open (not past their date). The real date in the app; the simulated
        # month's in a simulation run, whose figures must not depend on the day it is run.
        self.today = today
        self.autosave = autosave   # off for an index that lives and dies with its process (a simulation run)
        self.session_factory = session_factory
        self.impressions_behind = impressions_behind   # None: shown lists are logged in the request's transaction
        self.directory = Path(settings.index_dir) / "matcher"
        # Weights learned from feedback (`matchmaker learn-weights --apply`) if any, else the shipped ones.
        self.weights, self.provenance = load_weights(Path(settings.index_dir))
        # Sentence vectors take part only with the `semantic` extra installed and not switched off.
        self.semantic = settings.semantic and semantic.available()
        if not self.semantic:
            self.weights = dataclasses.replace(self.weights, semantic=0.0)
        self.builds = 0  # full fits from the database; a restart that loads from disk leaves this at 0
        self.loads = 0
        self._follow(None, 0)   # no matcher until start()
        self._unsaved = 0
        self._lock = threading.RLock()
        # Exploration and interleaving draws: unseeded in the app, so people see fresh ones; seeded in studies.
        self._rng = rng or random.Random()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> MatchingService:
        """Load the saved matcher or build one; idempotent."""
        with self._lock:
            if self.matcher is None:
                try:
                    self._load()
                except (IndexVersionError, OSError, ValueError, KeyError) as error:
                    log.info("rebuilding the match index: %s", error)
                    self.rebuild()
        return self

    def rebuild(self) -> None:
        """Fit both libraries from the published records and save the result."""
        with self._lock, self.session_factory() as session:
            last = session.scalar(select(IndexChange.id).order_by(IndexChange.id.desc()).limit(1)) or 0
            achievements, demands = open_docs(session, self.today())
            matcher = Matcher(weights=self.weights, known_fields=known_fields(session))
            matcher.fit(achievements, demands)
            attach_vectors(session, matcher, v.Library.ACHIEVEMENTS, achievements)
            attach_vectors(session, matcher, v.Library.DEMANDS, demands)
            self._follow(matcher, last)
            self.builds += 1
        if self.autosave:
            self.save()

    def save(self) -> None:
        """Write both indexes and the replay position into one directory, swapped in atomically."""
        saved_matcher.save(self)

    def _load(self) -> None:
        matcher, last_change_id = saved_matcher.load(self)
        self._follow(matcher, last_change_id)
        self.loads += 1

    def _follow(self, matcher: Matcher | None, last_change_id: int) -> None:
        """Take a matcher that holds the change log up to `last_change_id`, and replay from there."""
        self.matcher: Matcher | None = matcher
        self.last_change_id = last_change_id
        self._forget_rankings()
        self._recent: dict[int, dt.datetime] = {}   # change id → when, for LATE_COMMIT_GRACE
        self._gaps: dict[int, dt.datetime] = {}     # id skipped → when first skipped
        # Until then every change logged within the grace is read: ids taken before this matcher was made may still
        # commit.
        self._window_until = dt.datetime.now(dt.UTC) + LATE_COMMIT_GRACE
        self._fresh = freshness.Freshness()   # when requests may answer without reading the log (freshness.py)

    # ------------------------------------------------------------------ keeping current
    def sync(self) -> int:
        """Apply the changes other transactions committed since the last sync; returns how many."""
        self.start()
        with self._lock, self.session_factory() as session:
            committed = freshness.committed_changes()
            now = dt.datetime.now(dt.UTC)
            self._gaps = {i: seen for i, seen in self._gaps.items() if seen >= now - LATE_COMMIT_GRACE}
            # Only what may be new: ids above the last applied and the gaps below it. Reading every change of the
            # grace window instead cost each match request a row per recent write (5 ms a request for 10 s after a
            # province world's start-up expiries).
            if now < self._window_until:
                late = IndexChange.at >= now - LATE_COMMIT_GRACE
            else:
                late = IndexChange.id.in_(sorted(self._gaps)) if self._gaps else None
            newer = IndexChange.id > self.last_change_id
            # Sorted here, not by ORDER BY id: with it SQLite walks the whole log in id order (80 ms a request at
            # 340,000 changes) instead of answering each side of the OR from its index (under 0.1 ms).
            changes = sorted(session.execute(
                select(IndexChange.id, IndexChange.library, IndexChange.record_id, IndexChange.at)
                .where(newer if late is None else or_(newer, late))
            ).all(), key=lambda change: change.id)
            fresh = [c for c in changes if c.id not in self._recent]
            if fresh:
                self._apply(session, fresh)
            self._remember(fresh, now)
            self._fresh.mark(committed)
        if self.autosave and self._unsaved >= SAVE_EVERY:
            self.save()
        return len(fresh)

    def _apply(self, session: Session, changes: list) -> None:
        for library in v.Library:
            ids = sorted({c.record_id for c in changes if c.library == library.value})
            if not ids:
                continue
            found = records.docs_by_id(session, library, ids, self.today())
            for record_id in ids:
                if record_id not in found:  # deleted: drop it like a withdrawn record
                    self._remove(library, record_id)
            # One vectorising call and one query for stored sentence vectors per library, not one per record.
            docs = [found[record_id] for record_id in ids if record_id in found]
            self._upsert(library, docs)
            if self.semantic:
                for doc in docs:
                    self.matcher.set_vector(library.value, doc.id, None)
                attach_vectors(session, self.matcher, library, docs)
        self._unsaved += len(changes)
        self._forget_rankings()

    def _upsert(self, library: v.Library, docs: list) -> None:
        try:
            self.matcher.upsert_many(library.value, docs)
        except RuntimeError:  # the library was empty at fit time, so it has no vocabulary yet
            self.rebuild()

    def _remove(self, library: v.Library, record_id: int) -> None:
        index = self.matcher.achievement_index if library is v.Library.ACHIEVEMENTS else self.matcher.demand_index
        index.remove(record_id)
        self.matcher.set_vector(library.value, record_id, None)
        self._forget_rankings()

    def _forget_rankings(self) -> None:
        """The index changed (or is new): no kept ranking, nor the rows shown for one, may answer again."""
        self._ranked = Kept(self.settings.kept_rankings)   # ranking key → matches
        self.presented = Kept(self.settings.kept_rankings * impressions.POOL)   # their rows (presenting.py)

    def _remember(self, changes: list, now: dt.datetime) -> None:
        previous = self.last_change_id
        for change in changes:
            self._recent[change.id] = change.at
            self._gaps.pop(change.id, None)
            self.last_change_id = max(self.last_change_id, change.id)
        newer = {change.id for change in changes if change.id > previous}
        skipped = self.last_change_id - previous - len(newer)
        if skipped > MAX_GAPS - len(self._gaps):
            self._window_until = now + LATE_COMMIT_GRACE
        elif skipped:
            self._gaps.update(dict.fromkeys(set(range(previous + 1, self.last_change_id)) - newer, now))
        cutoff = now - 2 * LATE_COMMIT_GRACE
        self._recent = {i: at for i, at in self._recent.items() if _aware(at) >= cutoff}

    @property
    def ranker(self) -> str:
        """Which ranker answers: TF-IDF alone, or fused with sentence vectors (the `semantic` extra)."""
        return FUSED if self.semantic and self.weights.semantic > 0 else TFIDF

    # ------------------------------------------------------------------ answering
    def achievements_for(self, demand: Demand, *, k: int = 10, filters: MatchFilters = MatchFilters(),
                         explain: int | None = None) -> list[Match]:
        """Best published achievements for a demand row, with explanations (shared words for the first `explain`;
        default all)."""
        return self._rank(v.Library.ACHIEVEMENTS, demand_doc(demand), k, filters, explain=explain)

    def achievement_scores_for_many(self, demands: list[Demand], *, k: int) -> Iterator[list[tuple[str, float]]]:
        """The ids and scores of `achievements_for` each demand, unfiltered and without a sync (the simulator syncs
        once a month and ranks a month's demands at once: its brokers act on scores, so no words are computed),
        ranked together where that is cheaper, on several cores when there are many (forked.py); the same matches,
        in the demands' order, each as soon as it is ranked. The service is held until the iterator ends, so no other
        thread's sync changes the matcher underneath it.
        Pairs, not matches, come back from the ranking processes: unpickling matches was 2% of a national run."""
        def top(docs):
            return [[(m.id, m.score) for m in matches]
                    for matches in self.matcher.rank_achievements_many(docs, k, explain=0)]

        with self._lock:
            yield from forked.rank_many(top, [demand_doc(d) for d in demands],
                                        forked.usable_cores(self.settings.rank_processes))

    def demands_for(self, achievement: Achievement, *, k: int = 10, filters: MatchFilters = MatchFilters()) -> list[Match]:
        """Best published demands for an achievement row, with explanations."""
        return self._rank(v.Library.DEMANDS, achievement_doc(achievement), k, filters)

    def _rank(self, target: v.Library, query_doc, k: int, filters: MatchFilters, sync: bool = True,
              weights: ScoreWeights | None = None, explain: int | None = None) -> list[Match]:
        _check_filters(k, filters)
        if sync and self._fresh.due():   # a matcher not yet made or loaded is due too (a new Freshness)
            self.sync()
        with self._lock:
            if filters.fields:   # the field list is read only when a filter names fields
                with self.session_factory() as session:
                    self.matcher.known_fields = known_fields(session)
                unknown = sorted(set(filters.fields) - self.matcher.known_fields)
                if unknown:
                    reason = f"没有这个技术领域：{'、'.join(unknown)}；请从列表中选择技术领域"
                    raise DomainError.on("field", reason)
            trl = None if filters.trl_min is None and filters.trl_max is None else (filters.trl_min or 1, filters.trl_max or 9)
            # A ranking depends only on the query's document, the arguments and the index, so it is kept until a
            # change reaches the index (`_apply`, `_remove`, a new matcher): a demand's matches are looked at again
            # and again (its firm, each broker, its page after every action) between two postings.
            key = (target, query_doc, k, filters, trl, explain, weights or self.matcher.weights)
            found = self._ranked.get(key)
            if found is not None:
                return list(found)
            rank = self.matcher.rank_achievements if target is v.Library.ACHIEVEMENTS else self.matcher.rank_demands
            shipped = self.matcher.weights
            if weights is not None:
                self.matcher.weights = weights
            try:
                matches = rank(query_doc, k, field_codes=filters.fields, region_code=filters.region, trl_range=trl,
                               explain=explain)
            finally:
                self.matcher.weights = shipped
            self._ranked.put(key, tuple(matches))
            return matches

    def show(self, session: Session, *, record, target: v.Library, k: int, surface: v.Surface, user_id: int | None,
             filters: MatchFilters = MatchFilters()) -> list[Match]:
        """Matches as a person is shown them: ranked, explored or interleaved, and logged (impressions.py)."""
        doc = demand_doc(record) if target is v.Library.ACHIEVEMENTS else achievement_doc(record)
        pool = self._rank(target, doc, max(k, impressions.POOL), filters, explain=k)
        candidate = self._candidate_weights()
        if candidate is not None:
            other = self._rank(target, doc, max(k, impressions.POOL), filters, sync=False, weights=candidate, explain=k)
            slate = impressions.team_draft(pool, other, k, self._rng)
        else:
            slate = impressions.explore(pool, k, self.settings.exploration, self._rng)
        with self._lock:   # a candidate shown from beyond the explained top k gets its words now
            shown = [m if m.explanation.shared_terms or not m.explanation.relevance.text_similarity
                     else self.matcher.with_words(target.value, doc, m) for m in slate.shown]
        slate = dataclasses.replace(slate, shown=shown)
        rows = impressions.slate_rows(slate, pool, user_id=user_id, surface=surface, direction=target,
                                      query_id=record.id, k=k,
                                      exploration=0.0 if candidate else self.settings.exploration,
                                      ranker=self.ranker_version(self.matcher.weights))
        if self.impressions_behind is not None:
            self.impressions_behind.add(rows)
        else:
            impressions.write_rows(session, rows)
        return slate.shown

    def ranker_version(self, weights: ScoreWeights) -> str:
        """A ranker's name in the impression log: which signals and which knobs."""
        knobs = ",".join(f"{name}={value:g}" for name, value in asdict(weights).items())
        return f"{FUSED if self.semantic and weights.semantic > 0 else TFIDF}/{knobs}"

    def _candidate_weights(self) -> ScoreWeights | None:
        spec = self.settings.interleave
        if not spec:
            return None
        if spec == TFIDF:
            return dataclasses.replace(self.weights, semantic=0.0)
        return ScoreWeights(**json.loads(Path(spec).read_text(encoding="utf-8"))["weights"])


def _check_filters(k: int, filters: MatchFilters) -> None:
    problems = []
    if not 1 <= k <= MAX_K:
        problems.append(FieldProblem("k", f"条数须在 1 到 {MAX_K} 之间"))
    if filters.region is not None and not regions.CODE.match(filters.region):
        problems.append(FieldProblem("region", regions.malformed_region(filters.region)))
    for name in ("trl_min", "trl_max"):
        value = getattr(filters, name)
        if value is not None and not 1 <= value <= 9:
            problems.append(FieldProblem(name, "技术成熟度须在 1 到 9 级之间"))
    if problems:
        raise DomainError("；".join(p.reason for p in problems), problems=problems)
    if filters.trl_min and filters.trl_max and filters.trl_min > filters.trl_max:   # well-formed, contradictory: 422
        raise InvalidInput.on("trl_min", "最低技术成熟度不能高于最高技术成熟度，请调换或修改")


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # SQLite hands back naive datetimes


_SERVICE_LOCK = threading.Lock()


def matching_service(state) -> MatchingService:
    """The app's MatchingService, created on first use and kept on app.state."""
    with _SERVICE_LOCK:
        service = state.get("matching")
        if service is None:
            every = state.settings.impressions_every
            service = MatchingService(state.settings, state.session_factory, impressions_behind=(
                impressions.ImpressionWriter(state.session_factory, every) if every > 0 else None))
            state.matching = service
        return service.start()


def close_matching(state) -> None:
    """At shutdown: write the impression rows still waiting."""
    service = state.get("matching")
    if service is not None and service.impressions_behind is not None:
        service.impressions_behind.close()


def rebuild_index(settings: Settings) -> MatchingService:
    """Rebuild and save the match index from the database (for a CLI command or a deploy step)."""
    from matchmaker.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        service = MatchingService(settings, make_session_factory(engine))
        started = time.perf_counter()
        service.rebuild()
        log.info("rebuilt the match index in %.1f s", time.perf_counter() - started)
        return service
    finally:
        engine.dispose()
