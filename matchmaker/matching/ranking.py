"""The Matcher: ranks achievements for a demand (and demands for an achievement) with explanations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from matchmaker.matching.index import TextIndex
from matchmaker.matching.scoring import (
    FACTORS, ScoreWeights, check_region_code, city_of, province_of, structured_factors,
)
from matchmaker.matching.text import TextModel

PUBLISHED = "published"

# The text model the evaluation chose (see benchmarks/README.md, "Matching quality"): character
# 1-2-grams, sublinear TF-IDF, cosine, the query's title counted twice against its body.
DEFAULT_TEXT_PARAMS = dict(char_ngram_range=(1, 2), sublinear_tf=True, title_weight=2.0)

# Candidates fetched from the text index before structured re-scoring: wide enough that a
# structured bonus (≤ 0.2) can lift a textually weaker record into the top 10.
CANDIDATES = 200


@dataclass(frozen=True)
class AchievementDoc:
    """A 科技成果 as the matcher sees it (plain data; no ORM)."""

    id: str
    title: str
    body: str
    field_code: str | None = None
    trl: int | None = None
    region_code: str | None = None       # six-digit GB/T 2260
    asking_price: float | None = None    # same unit as demand budgets (万元)
    transfer_modes: frozenset = frozenset()
    status: str = PUBLISHED


@dataclass(frozen=True)
class DemandDoc:
    """A 企业技术需求 as the matcher sees it (plain data; no ORM)."""

    id: str
    title: str
    body: str
    field_code: str | None = None
    min_trl: int | None = None
    region_code: str | None = None
    budget_min: float | None = None
    budget_max: float | None = None
    cooperation_modes: frozenset = frozenset()
    status: str = PUBLISHED


@dataclass(frozen=True)
class FactorContribution:
    name: str
    value: float          # in [-1, 1]; 0 = unknown / neutral
    weight: float

    @property
    def contribution(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class Explanation:
    """Why a pair scored what it did; `total()` reproduces the score exactly.

    score = text_weight · (Σ shared_terms contributions + other_terms) + Σ factor contributions
    """

    text_score: float
    text_weight: float
    shared_terms: tuple[tuple[str, float], ...]   # the largest per-term products q_i · d_i
    other_terms: float                             # the rest of the text score (smaller shared terms)
    factors: tuple[FactorContribution, ...]

    def total(self) -> float:
        text = sum(c for _, c in self.shared_terms) + self.other_terms
        return self.text_weight * text + sum(f.contribution for f in self.factors)


@dataclass(frozen=True)
class Match:
    id: str
    score: float
    explanation: Explanation


@dataclass
class Filters:
    """Hard filters; None means no restriction. Validated against what the matcher knows."""

    field_codes: frozenset[str] | None = None
    region_code: str | None = None            # province (xx0000), city (xxxx00) or county code
    trl_range: tuple[int, int] | None = None  # inclusive; on achievements' TRL / demands' min TRL


def _as_float(value) -> float:
    return float("nan") if value is None else float(value)


class Matcher:
    """Two text indexes (achievements, demands) sharing one scoring rule, plus structured factors."""

    def __init__(self, text_params: dict | None = None, weights: ScoreWeights | None = None,
                 candidates: int = CANDIDATES, known_fields: Iterable[str] | None = None):
        self.text_params = dict(DEFAULT_TEXT_PARAMS if text_params is None else text_params)
        self.weights = weights or ScoreWeights()
        self.candidates = candidates
        self.known_fields = frozenset(known_fields) if known_fields is not None else None
        self.achievements: dict[str, AchievementDoc] = {}
        self.demands: dict[str, DemandDoc] = {}
        self.achievement_index = TextIndex(TextModel(**self.text_params))
        self.demand_index = TextIndex(TextModel(**self.text_params))

    # ------------------------------------------------------------------ building
    def fit(self, achievements: Sequence[AchievementDoc] = (), demands: Sequence[DemandDoc] = ()) -> "Matcher":
        """Index the published records of both libraries (others are dropped, never returned)."""
        self.achievements = {a.id: a for a in achievements if a.status == PUBLISHED}
        self.demands = {d.id: d for d in demands if d.status == PUBLISHED}
        self._fit_index(self.achievement_index, list(self.achievements.values()), "trl")
        self._fit_index(self.demand_index, list(self.demands.values()), "min_trl")
        return self

    def _fit_index(self, index: TextIndex, docs: list, trl_name: str) -> None:
        attributes = {name: np.array([v for v in values], dtype=dtype)
                      for name, (values, dtype) in _attribute_columns(docs, trl_name).items()}
        index.fit([d.id for d in docs], [d.title for d in docs], [d.body for d in docs], attributes)

    def upsert_achievement(self, doc: AchievementDoc) -> None:
        """Live update: published records are (re)indexed, any other status removes the record."""
        self._upsert(doc, self.achievements, self.achievement_index, "trl")

    def upsert_demand(self, doc: DemandDoc) -> None:
        self._upsert(doc, self.demands, self.demand_index, "min_trl")

    def _upsert(self, doc, store: dict, index: TextIndex, trl_name: str) -> None:
        if doc.status != PUBLISHED:
            store.pop(doc.id, None)
            index.remove(doc.id)
            return
        store[doc.id] = doc
        attributes = {name: values[0] for name, (values, _) in _attribute_columns([doc], trl_name).items()}
        index.add(doc.id, doc.title, doc.body, **attributes)

    def refit(self) -> None:
        """Re-learn vocabulary and IDF from the live records (live adds ignore terms unseen at fit time)."""
        for index in (self.achievement_index, self.demand_index):
            if index.n_rows:
                index.refit()

    # ------------------------------------------------------------------ ranking
    def rank_achievements(self, demand: DemandDoc, k: int = 10, *, field_codes: Iterable[str] | None = None,
                          region_code: str | None = None, trl_range: tuple[int, int] | None = None) -> list[Match]:
        """Best k published achievements for a demand, best first, each with its explanation."""
        filters = self._filters(field_codes, region_code, trl_range)
        hits = self._search(self.achievement_index, demand.title, demand.body, k, filters)
        return self._score(self.achievement_index, hits, k, lambda a_id: (self.achievements[a_id], demand),
                           self.achievements)

    def rank_demands(self, achievement: AchievementDoc, k: int = 10, *, field_codes: Iterable[str] | None = None,
                     region_code: str | None = None, trl_range: tuple[int, int] | None = None) -> list[Match]:
        """Best k published demands for an achievement (the symmetric direction)."""
        filters = self._filters(field_codes, region_code, trl_range)
        hits = self._search(self.demand_index, achievement.title, achievement.body, k, filters)
        return self._score(self.demand_index, hits, k, lambda d_id: (achievement, self.demands[d_id]), self.demands)

    def _search(self, index: TextIndex, title: str, body: str, k: int, filters: Filters):
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if index.n_rows == 0:
            return None, []
        mask = self._mask(index, filters)
        qvec = index.query_vector(title, body)
        return qvec, index.search_vector(qvec, k=max(k, self.candidates), mask=mask)

    def _score(self, index: TextIndex, found, k: int, pair_of, store: dict) -> list[Match]:
        qvec, hits = found
        w = self.weights
        scored = []
        for doc_id, text_score in hits:
            if doc_id not in store:    # defensive: the index and the record store must agree
                continue
            values = structured_factors(*pair_of(doc_id))
            factors = tuple(FactorContribution(f, values[f], w.of(f)) for f in FACTORS)
            score = w.text * text_score + sum(f.contribution for f in factors)
            scored.append((score, doc_id, text_score, factors))
        # Ties (e.g. duplicate listings) are broken by id, so the order never depends on insertion order.
        scored.sort(key=lambda s: (-s[0], str(s[1])))
        matches = []
        for score, doc_id, text_score, factors in scored[:k]:
            # the index's explanation ranks q_i·d_i and truncates; the remainder keeps the sum exact
            terms = tuple(index.explain(qvec, doc_id, top=8))
            other = text_score - sum(c for _, c in terms)
            explanation = Explanation(text_score, w.text, terms, other, factors)
            matches.append(Match(doc_id, explanation.total(), explanation))
        return matches

    def text_score(self, demand: DemandDoc, achievement: AchievementDoc) -> float:
        """The text similarity rank_achievements would give this pair (the achievement need not be indexed)."""
        index = self.achievement_index
        qvec = index.query_vector(demand.title, demand.body)
        return float((qvec @ index.doc_vector(achievement.title, achievement.body).T).toarray()[0, 0])

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
            check_region_code(region_code)
        if trl_range is not None:
            lo, hi = trl_range
            if not (1 <= lo <= hi <= 9):
                raise ValueError(f"TRL range must satisfy 1 <= low <= high <= 9, got {trl_range!r}")
        return Filters(fields, region_code, trl_range)

    def _fields_in_use(self) -> frozenset[str]:
        docs = list(self.achievements.values()) + list(self.demands.values())
        return frozenset(d.field_code for d in docs if d.field_code)

    @staticmethod
    def _mask(index: TextIndex, filters: Filters) -> np.ndarray | None:
        mask = None

        def narrow(m):
            nonlocal mask
            mask = m if mask is None else mask & m

        if filters.field_codes is not None:
            narrow(np.isin(index.attribute("field"), sorted(filters.field_codes)))
        if filters.region_code is not None:
            code = filters.region_code
            if code.endswith("0000"):
                narrow(index.attribute("province") == province_of(code))
            elif code.endswith("00"):
                narrow(index.attribute("city") == city_of(code))
            else:
                narrow(index.attribute("region") == code)
        if filters.trl_range is not None:
            lo, hi = filters.trl_range
            trl = index.attribute("trl")
            narrow((trl >= lo) & (trl <= hi))   # NaN (unknown TRL) never passes a TRL filter
        return mask


def _attribute_columns(docs: list, trl_name: str) -> dict[str, tuple[list, object]]:
    """Filterable attributes per record: field, region at three levels, TRL (NaN when unknown)."""
    regions = [d.region_code or "" for d in docs]
    for r in regions:
        if r:
            check_region_code(r)
    return {
        "field": ([d.field_code or "" for d in docs], str),
        "region": (regions, "U6"),
        "province": ([province_of(r) if r else "" for r in regions], "U6"),
        "city": ([city_of(r) if r else "" for r in regions], "U6"),
        "trl": ([_as_float(getattr(d, trl_name)) for d in docs], np.float64),
    }
