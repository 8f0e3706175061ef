"""Response shapes for ranked, explained matches.

The parts of a match row are kept for as long as the ranking they belong to (matching/kept.py), by the tens of
thousands per worker: `gc=False` leaves them out of the collector's passes (they hold strings, numbers and each
other, never a cycle), which otherwise walk every kept object."""

from __future__ import annotations

from typing import Literal

import msgspec


class SharedTerm(msgspec.Struct, gc=False):
    term: str       # a word or phrase both postings use (never a single character or a bare number)
    weight: float   # its share of the text similarity


class RelevanceOut(msgspec.Struct, gc=False):
    """How the text decides; value = 1 / (1 + exp(−(slope·z + intercept))), see the matcher's docs."""

    ranker: Literal["tfidf", "tfidf+semantic"]
    text_similarity: float
    text_z: float
    semantic_similarity: float | None
    semantic_z: float | None
    semantic_weight: float
    z: float
    value: float    # calibrated relevance in (0, 1)
    note: str       # the same in Chinese


class FactorOut(msgspec.Struct, gc=False):
    name: Literal["field", "trl", "price", "mode", "locality"]
    state: Literal["met", "violated", "unknown", "info"]
    violation: float | None   # levels of TRL missing, ln(price / budget), 1 = no shared mode / other field; None unknown
    multiplier: float         # ≤ 1; the score is relevance × the product of multipliers
    note: str                 # what it means, in Chinese


class ExplanationOut(msgspec.Struct, gc=False):
    """score = relevance.value × Π factors.multiplier"""

    relevance: RelevanceOut
    shared_terms: list[SharedTerm]
    factors: list[FactorOut]


class MatchOut(msgspec.Struct, gc=False):
    id: int
    title: str
    organisation_id: int | None
    field: str | None
    region: str | None
    trl: int | None  # the achievement's TRL, or the demand's minimum TRL
    score: float     # 匹配度, 0–1
    tier: Literal["strong", "possible", "weak"]
    summary: str     # 匹配度 and tier in Chinese, with the main shared words
    explanation: ExplanationOut


class MatchList(msgspec.Struct):
    source_id: int
    ranker: Literal["tfidf", "tfidf+semantic"]
    meaning: str                 # what 匹配度 means, in Chinese
    strong_matches: int          # how many of the items are 高度匹配
    notice: str | None           # e.g. 暂无高度匹配的成果, when none is
    items: list[MatchOut]
