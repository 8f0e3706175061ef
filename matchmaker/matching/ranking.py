"""The Matcher: ranks achievements for a demand (and demands for an achievement) by relevance, with explanations."""
from __future__ import annotations

import dataclasses
import heapq
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from matchmaker import vocabulary as v
from matchmaker.matching import terms
from matchmaker.matching.documents import AchievementDoc, DemandDoc, IndexedDocs, attribute_columns
from matchmaker.matching.index import TextIndex
from matchmaker.matching.scoring import (
    CALIBRATIONS,
    FACTORS,
    ScoreWeights,
    multiplier,
    tier,
    violations,
)
from matchmaker.matching.semantic import VectorStore
from matchmaker.matching.text_model import TextModel
from matchmaker.regions import Level, RegionCode

PUBLISHED = v.AchievementStatus.PUBLISHED.value   # the same value for demands

# The text model the evaluation chose (benchmarks/experiments/README.md): character 1-2-grams, sublinear
# TF-IDF, cosine, the query's title counted twice against its body.
DEFAULT_TEXT_PARAMS = dict(char_ngram_range=(1, 2), sublinear_tf=True, title_weight=2.0)

# Candidates fetched from each signal (text index, sentence vectors) before the final scoring. Constraints only
# demote, so the candidates need only reach past the 20 a shown list is drawn from.
CANDIDATES = 100

TFIDF = "tfidf"
FUSED = "tfidf+semantic"


@dataclass(frozen=True)
class Factor:
    """One structured factor of a pair: how far the constraint is broken (None = unknown) and its multiplier."""

    name: str
    violation: float | None   # for locality: 1 same city, 0.5 same province, 0 elsewhere
    multiplier: float         # ≤ 1; 1 when met, unknown, or informative only (locality)


@dataclass(frozen=True)
class Relevance:
    """How the text decides: similarities, their standing in the library (z), and the calibrated relevance."""

    ranker: str                        # "tfidf" or "tfidf+semantic"
    text_similarity: float             # TF-IDF cosine
    text_z: float                      # (similarity − library mean) / library std
    semantic_similarity: float | None  # sentence-embedding cosine, None when either side has no vector
    semantic_z: float | None
    semantic_weight: float             # share of semantic_z in z
    z: float
    value: float                       # calibrated relevance in (0, 1)


@dataclass(frozen=True)
class Explanation:
    """Why a pair scored what it did; `total()` reproduces the score exactly: relevance × Π multipliers."""

    relevance: Relevance
    shared_terms: tuple[tuple[str, float], ...]   # words both postings use, weighted by their share of the TF-IDF
    factors: tuple[Factor, ...]

    def total(self) -> float:
        return self.relevance.value * math.prod(f.multiplier for f in self.factors)


@dataclass(frozen=True)
class Match:
    id: str
    score: float            # 匹配度 in (0, 1)
    explanation: Explanation

    @property
    def tier(self) -> str:
        return tier(self.score)


@dataclass
class Filters:
    """Hard filters; None means no restriction. Validated against what the matcher knows."""

    field_codes: frozenset[str] | None = None
    region_code: str | None = None            # province (xx0000), city (xxxx00) or county code
    trl_range: tuple[int, int] | None = None  # inclusive; on achievements' TRL / demands' min TRL


@dataclass
class _Side:
    """One library as the matcher holds it: records, their text index and their sentence vectors."""

    docs: dict
    index: TextIndex
    vectors: VectorStore = field(default_factory=VectorStore)


class Matcher:
    """Two libraries sharing one scoring rule: relevance from text (and meaning), demoted by broken constraints."""

    def __init__(self, text_params: dict | None = None, weights: ScoreWeights | None = None,
                 candidates: int = CANDIDATES, known_fields: Iterable[str] | None = None):
        self.text_params = dict(DEFAULT_TEXT_PARAMS if text_params is None else text_params)
        self.weights = weights or ScoreWeights()
        self.candidates = candidates
        self.known_fields = frozenset(known_fields) if known_fields is not None else None
        self.achievement_index = TextIndex(TextModel(**self.text_params))
        self.demand_index = TextIndex(TextModel(**self.text_params))
        self.achievement_vectors = VectorStore()
        self.demand_vectors = VectorStore()

    # ------------------------------------------------------------------ building
    def fit(self, achievements: Sequence[AchievementDoc] = (), demands: Sequence[DemandDoc] = ()) -> "Matcher":
        """Index the published records of both libraries (others are dropped, never returned)."""
        self._fit_index(self.achievement_index, [a for a in achievements if a.status == PUBLISHED], AchievementDoc)
        self._fit_index(self.demand_index, [d for d in demands if d.status == PUBLISHED], DemandDoc)
        return self

    @property
    def achievements(self) -> IndexedDocs:
        """The published achievements by id, read back from the index (which holds every field scoring needs)."""
        return IndexedDocs(self.achievement_index, AchievementDoc)

    @property
    def demands(self) -> IndexedDocs:
        return IndexedDocs(self.demand_index, DemandDoc)

    @staticmethod
    def _fit_index(index: TextIndex, docs: list, kind: type) -> None:
        attributes = {name: np.array(values, dtype=dtype)
                      for name, (values, dtype) in attribute_columns(docs, kind).items()}
        index.fit([d.id for d in docs], [d.title for d in docs], [d.body for d in docs], attributes)

    def upsert_achievement(self, doc: AchievementDoc) -> None:
        """Live update: published records are (re)indexed, any other status removes the record."""
        self.upsert_many("achievements", [doc])

    def upsert_demand(self, doc: DemandDoc) -> None:
        self.upsert_many("demands", [doc])

    def upsert_many(self, library: str, docs: list) -> None:
        """`upsert_achievement` / `upsert_demand` of many records, vectorised in one call."""
        if library == "achievements":
            self._upsert_all(docs, self.achievement_index, self.achievement_vectors)
        else:
            self._upsert_all(docs, self.demand_index, self.demand_vectors)

    @staticmethod
    def _upsert_all(docs: list, index: TextIndex, vectors: VectorStore) -> None:
        for doc in docs:
            if doc.status != PUBLISHED:
                index.remove(doc.id)
                vectors.remove(doc.id)
        shown = [doc for doc in docs if doc.status == PUBLISHED]
        if shown:
            attributes = {name: values for name, (values, _) in attribute_columns(shown, type(shown[0])).items()}
            index.add_many([d.id for d in shown], [d.title for d in shown], [d.body for d in shown], attributes)

    def set_vector(self, library: str, doc_id, vector: np.ndarray | None) -> None:
        """Store (or, with None, drop) a record's sentence vector; `library` is "achievements" or "demands"."""
        vectors = self.achievement_vectors if library == "achievements" else self.demand_vectors
        if vector is None:
            vectors.remove(doc_id)
        else:
            vectors.set(doc_id, vector)

    def refit(self) -> None:
        """Re-learn vocabulary and IDF from the live records (live adds ignore terms unseen at fit time)."""
        for index in (self.achievement_index, self.demand_index):
            if index.n_rows:
                index.refit()

    # ------------------------------------------------------------------ ranking
    def rank_achievements(self, demand: DemandDoc, k: int = 10, *, field_codes: Iterable[str] | None = None,
                          region_code: str | None = None, trl_range: tuple[int, int] | None = None,
                          query_vector: np.ndarray | None = None, explain: int | None = None) -> list[Match]:
        """Best k published achievements for a demand, best first, each with its explanation.

        The demand's sentence vector is the stored one, or `query_vector` for a demand that is not stored. Shared
        words are found for the first `explain` matches only (default all; see `with_words`).
        """
        side = _Side(self.achievements, self.achievement_index, self.achievement_vectors)
        qsem = query_vector if query_vector is not None else self.demand_vectors.get(demand.id)
        return self._rank(side, demand, qsem, k, self._filters(field_codes, region_code, trl_range),
                          lambda a: (a, demand), explain)

    def rank_achievements_many(self, demands: Sequence[DemandDoc], k: int = 10, *,
                               explain: int | None = None) -> list[list[Match]]:
        """`rank_achievements` of each demand (unfiltered, stored sentence vectors), the same matches: the query
        vectors and their library statistics are computed for all demands in one call each, the rest per demand."""
        side = _Side(self.achievements, self.achievement_index, self.achievement_vectors)
        filters = self._filters(None, None, None)
        prepared = [None] * len(demands)
        if side.index.n_rows and demands:
            qvecs = side.index.query_vectors([d.title for d in demands], [d.body for d in demands])
            prepared = list(zip((qvecs[i] for i in range(len(demands))), side.index.library_stats_many(qvecs)))
        return [self._rank(side, demand, self.demand_vectors.get(demand.id), k, filters,
                           lambda a, demand=demand: (a, demand), explain, prepared[i])
                for i, demand in enumerate(demands)]

    def rank_demands(self, achievement: AchievementDoc, k: int = 10, *, field_codes: Iterable[str] | None = None,
                     region_code: str | None = None, trl_range: tuple[int, int] | None = None,
                     query_vector: np.ndarray | None = None, explain: int | None = None) -> list[Match]:
        """Best k published demands for an achievement (the symmetric direction)."""
        side = _Side(self.demands, self.demand_index, self.demand_vectors)
        qsem = query_vector if query_vector is not None else self.achievement_vectors.get(achievement.id)
        return self._rank(side, achievement, qsem, k, self._filters(field_codes, region_code, trl_range),
                          lambda d: (achievement, d), explain)

    def semantic_ready(self, qsem) -> bool:
        return qsem is not None and self.weights.semantic > 0

    def _rank(self, side: _Side, query, qsem, k: int, filters: Filters, pair_of, explain: int | None = None,
              prepared: tuple | None = None) -> list[Match]:
        """`prepared`: the query's vector and library statistics when the caller computed them (for many queries)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        explain = k if explain is None else explain
        index = side.index
        if index.n_rows == 0:
            return []
        mask = self._mask(index, filters)
        qvec, stats = prepared or (index.query_vector(query.title, query.body), None)
        wanted = max(k, self.candidates)
        text_hits = dict(index.search_vector(qvec, k=wanted, mask=mask)) if qvec.nnz else {}
        use_semantic = self.semantic_ready(qsem) and len(side.vectors) > 0
        semantic_hits: dict = {}
        if use_semantic:
            allowed = None if mask is None else _allowed_ids(index, mask)
            semantic_hits = dict(side.vectors.top(qsem, wanted, allowed))
        ids = [i for i in dict.fromkeys([*text_hits, *semantic_hits]) if i in side.docs]
        if not ids:
            return []
        text = np.array([text_hits.get(i, np.nan) for i in ids], dtype=np.float64)
        missing = np.isnan(text)
        if missing.any():   # semantic candidates the text index did not return: score their text exactly
            rows = np.array([index.row_of(i) for i in np.array(ids, dtype=object)[missing]], dtype=np.int64)
            text[missing] = index.scores_of(qvec, rows)
        mean, std = stats or index.library_stats(qvec)
        text_z = (text - mean) / std if std > 0 else np.zeros_like(text)
        if use_semantic:
            sem = side.vectors.similarities(qsem, ids).astype(np.float64)
            s_mean, s_std = side.vectors.library_stats(qsem)
            sem_z = np.where(np.isnan(sem), 0.0, (sem - s_mean) / s_std if s_std > 0 else 0.0)  # no vector: neutral
            w = self.weights.semantic
            z = (1 - w) * text_z + w * sem_z
            ranker = FUSED
        else:
            sem = sem_z = None
            w, z, ranker = 0.0, text_z, TFIDF
        calibration = CALIBRATIONS[ranker]
        relevance = 1.0 / (1.0 + np.exp(-(calibration.slope * z + calibration.cosine * text + calibration.intercept)))
        keys = [str(i) for i in ids]
        # Constraints only demote (every multiplier ≤ 1), so candidates are visited by relevance and the visit stops
        # once the next relevance is below the k-th best score found: nothing further down can reach the top k.
        scored, best = [], []
        for n in sorted(range(len(ids)), key=lambda n: (-relevance[n], keys[n])):
            if len(best) >= k and relevance[n] < best[0]:
                break
            factors = tuple(Factor(f, value, multiplier(f, value, self.weights))
                            for f, value in violations(*pair_of(side.docs.without_text(ids[n]))).items())
            score = float(relevance[n]) * math.prod(f.multiplier for f in factors)
            scored.append((score, keys[n], n, factors))
            heapq.heappush(best, score)
            if len(best) > k:
                heapq.heappop(best)
        # Ties (e.g. duplicate listings) are broken by id, so the order never depends on insertion order.
        scored.sort(key=lambda s: (-s[0], s[1]))
        matches, query_words = [], None
        for rank, (score, _, n, factors) in enumerate(scored[:k]):
            doc_id = ids[n]
            value = Relevance(
                ranker, float(text[n]), float(text_z[n]),
                None if sem is None or np.isnan(sem[n]) else float(sem[n]),
                None if sem is None or np.isnan(sem[n]) else float(sem_z[n]), w, float(z[n]), float(relevance[n]))
            words = []
            if text[n] > 0 and rank < explain:   # segmenting the query (jieba) only when words are shown
                if query_words is None:
                    query_words = terms.segment(f"{query.title}\n{query.body}")
                words = self._shared_words(index, qvec, query_words, doc_id)
            explanation = Explanation(value, tuple(words), factors)
            matches.append(Match(doc_id, explanation.total(), explanation))
        return matches

    def with_words(self, library: str, query, match: Match) -> Match:
        """The match with its shared words filled in (for one ranked beyond `explain`)."""
        index = self.achievement_index if library == "achievements" else self.demand_index
        qvec = index.query_vector(query.title, query.body)
        words = self._shared_words(index, qvec, terms.segment(f"{query.title}\n{query.body}"), match.id)
        return dataclasses.replace(match, explanation=dataclasses.replace(match.explanation, shared_terms=tuple(words)))

    @staticmethod
    def _shared_words(index: TextIndex, qvec, query_words: frozenset[str], doc_id) -> list[tuple[str, float]]:
        title, body = index.text(doc_id)
        grams = index.explain(qvec, doc_id, top=qvec.nnz)
        return terms.shared_words(query_words, f"{title}\n{body}", grams)

    # ------------------------------------------------------------------ filters
    def _filters(self, field_codes, region_code, trl_range) -> Filters:
        fields = None
        if field_codes is not None:
            fields = frozenset([field_codes] if isinstance(field_codes, str) else field_codes)
            known = self.known_fields if self.known_fields is not None else self._fields_in_use()
            unknown = sorted(fields - known)
            if unknown:
                raise ValueError(f"unknown field code(s) {unknown}; known: {sorted(known)}")
        if region_code is not None:
            RegionCode(region_code)   # raises on anything but six digits
        if trl_range is not None:
            lo, hi = trl_range
            if not (1 <= lo <= hi <= 9):
                raise ValueError(f"TRL range must satisfy 1 <= low <= high <= 9, got {trl_range!r}")
        return Filters(fields, region_code, trl_range)

    def _fields_in_use(self) -> frozenset[str]:
        used = set()
        for index in (self.achievement_index, self.demand_index):
            if index.n_rows:
                used.update(index.attribute("field")[index.alive()].tolist())
        return frozenset(used - {""})

    @staticmethod
    def _mask(index: TextIndex, filters: Filters) -> np.ndarray | None:
        mask = None

        def narrow(m):
            nonlocal mask
            mask = m if mask is None else mask & m

        if filters.field_codes is not None:
            narrow(np.isin(index.attribute("field"), sorted(filters.field_codes)))
        if filters.region_code is not None:
            region = RegionCode(filters.region_code)
            if region.level is Level.PROVINCE:
                narrow(index.attribute("province") == region.province)
            elif region.level is Level.CITY:
                narrow(index.attribute("city") == region.city)
            else:
                narrow(index.attribute("region") == region.code)
        if filters.trl_range is not None:
            lo, hi = filters.trl_range
            trl = index.attribute("trl")
            narrow((trl >= lo) & (trl <= hi))   # NaN (unknown TRL) never passes a TRL filter
        return mask


def _allowed_ids(index: TextIndex, mask: np.ndarray) -> set:
    ids = index.ids()
    alive = index.alive()
    rows = np.flatnonzero(alive[: mask.size] & mask)
    return {ids[r] for r in rows}


__all__ = ["AchievementDoc", "DemandDoc", "Explanation", "Factor", "FACTORS", "Filters", "Match", "Matcher",
           "Relevance", "TFIDF", "FUSED"]
