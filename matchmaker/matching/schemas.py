"""Response shapes for ranked, explained matches."""

from __future__ import annotations

import msgspec


class SharedTerm(msgspec.Struct):
    term: str
    weight: float  # q_i · d_i: this term's share of the text score


class FactorOut(msgspec.Struct):
    name: str  # field, trl, price, mode, locality
    value: float  # -1 … 1; 0 = unknown
    weight: float
    contribution: float  # value · weight


class ExplanationOut(msgspec.Struct):
    """score = text_weight · (Σ shared_terms.weight + other_terms) + Σ factors.contribution"""

    text_score: float
    text_weight: float
    shared_terms: list[SharedTerm]
    other_terms: float
    factors: list[FactorOut]


class MatchOut(msgspec.Struct):
    id: int
    title: str
    organisation_id: int | None
    field: str | None
    region: str | None
    trl: int | None  # the achievement's TRL, or the demand's minimum TRL
    score: float
    explanation: ExplanationOut


class MatchList(msgspec.Struct):
    source_id: int
    items: list[MatchOut]
