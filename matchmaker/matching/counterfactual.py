"""What people did after seeing matches, and what another ranker would have earned: the log joined to outcomes,
an off-policy (IPS / self-normalised IPS) estimate of a candidate ranker's interest rate, and the interleaving report.

Interest, for a shown pair, is a positive verdict by the person shown (感兴趣), or a broker's claim of the pair, or
a contract on it, after the slate was shown. A 不相关 verdict or a dismissed push counts as no interest.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.matching.scoring import CALIBRATIONS, CONSTRAINTS, ScoreWeights
from matchmaker.models import Contract, Feedback, Impression, Pipeline


@dataclass
class LoggedItem:
    demand_id: int
    achievement_id: int
    pool_rank: int
    shown_rank: int | None
    propensity: float
    team: str | None
    features: dict
    interest: bool | None = None    # None: shown but no reaction; pool rows not shown stay None


@dataclass
class LoggedSlate:
    slate: str
    user_id: int | None
    ranker: str
    items: list[LoggedItem] = field(default_factory=list)

    @property
    def k(self) -> int:
        return sum(1 for i in self.items if i.shown_rank is not None)


def logged_slates(session: Session, *, since=None) -> list[LoggedSlate]:
    """Every logged slate with the outcomes that followed it, joined pair by pair."""
    query = select(Impression).order_by(Impression.slate, Impression.pool_rank)
    if since is not None:
        query = query.where(Impression.shown_at >= since)
    rows = session.scalars(query).all()
    verdicts = {(f.user_id, f.demand_id, f.achievement_id): (f.relevant, f.updated_at or f.created_at)
                for f in session.scalars(select(Feedback))}
    claimed = defaultdict(list)
    for demand_id, achievement_id, at in session.execute(select(Pipeline.demand_id, Pipeline.achievement_id,
                                                                 Pipeline.created_at)):
        claimed[(demand_id, achievement_id)].append(at)
    for demand_id, achievement_id, at in session.execute(select(Contract.demand_id, Contract.achievement_id,
                                                                 Contract.created_at)):
        claimed[(demand_id, achievement_id)].append(at)
    slates: dict[str, LoggedSlate] = {}
    for row in rows:
        slate = slates.setdefault(row.slate, LoggedSlate(row.slate, row.user_id, row.ranker))
        item = LoggedItem(row.demand_id, row.achievement_id, row.pool_rank, row.shown_rank, row.propensity, row.team,
                          row.features)
        if row.shown_rank is not None:
            verdict = verdicts.get((row.user_id, row.demand_id, row.achievement_id))
            later = [at for at in claimed.get((row.demand_id, row.achievement_id), ()) if _after(at, row.shown_at)]
            if verdict is not None and _after(verdict[1], row.shown_at):
                item.interest = bool(verdict[0])
            elif later:
                item.interest = True
            else:
                item.interest = False
        slate.items.append(item)
    return list(slates.values())


def _after(at, shown_at) -> bool:
    if at is None or shown_at is None:
        return True
    strip = lambda t: t.replace(tzinfo=None) if t.tzinfo else t  # noqa: E731  SQLite hands back naive datetimes
    return strip(at) >= strip(shown_at)


def rescore(features: dict, weights: ScoreWeights) -> float:
    """A logged pair's 匹配度 under other weights: the same formula as the Matcher, from the logged features."""
    semantic_z = features.get("semantic_z")
    if semantic_z is not None and weights.semantic > 0:
        z, ranker = (1 - weights.semantic) * features["text_z"] + weights.semantic * semantic_z, "tfidf+semantic"
    else:
        z, ranker = features["text_z"], "tfidf"
    score = CALIBRATIONS[ranker].relevance(z, features.get("text_similarity", 0.0))
    for name in CONSTRAINTS:
        violation = features["violations"].get(name)
        if violation:
            score *= math.exp(-weights.of(name) * violation)
    return score


@dataclass(frozen=True)
class Estimate:
    ips: float            # interest per shown slot
    snips: float          # self-normalised: Σ w·c / Σ w
    slates: int
    matched: float        # share of the candidate's top-k slots the log can speak for (shown with propensity > 0)


def scorer(ranker: ScoreWeights | Callable[[dict], float]) -> Callable[[dict], float]:
    """A candidate ranker as a score of logged features: weights of the shipped formula, or any function."""
    if isinstance(ranker, ScoreWeights):
        return lambda features: rescore(features, ranker)
    return ranker


def interest_rate(slates: list[LoggedSlate], ranker: ScoreWeights | Callable[[dict], float],
                  k: int | None = None) -> Estimate:
    """Off-policy estimate of the interest rate a candidate ranker would have earned on the logged slates.

    The candidate re-orders each slate's logged pool; each of its top-k pairs that was shown contributes
    interest / propensity (Horvitz–Thompson). Pairs it would show that were never shown cannot be judged: their
    share is reported as 1 − matched, and the estimate needs the logging policy to have explored (propensity < 1).
    """
    score = scorer(ranker)
    total_w = total_wc = 0.0
    slots = covered = 0
    used = 0
    for slate in slates:
        if any(i.team for i in slate.items):   # interleaved slates are judged by the interleaving report
            continue
        size = k or slate.k
        if not size:
            continue
        used += 1
        top = sorted(slate.items, key=lambda i: (-score(i.features), i.pool_rank))[:size]
        for item in top:
            slots += 1
            if item.shown_rank is None or item.propensity <= 0:
                continue
            covered += 1
            w = 1.0 / item.propensity
            total_w += w
            total_wc += w * bool(item.interest)
    return Estimate(total_wc / slots if slots else 0.0, total_wc / total_w if total_w else 0.0, used,
                    covered / slots if slots else 0.0)


@dataclass(frozen=True)
class InterleavingReport:
    slates: int             # interleaved slates shown
    with_interest: int      # of which at least one item drew interest
    wins_a: int
    wins_b: int
    ties: int
    p_value: float          # two-sided sign test over the non-tied slates
    preference: float       # (wins_b − wins_a) / (wins_a + wins_b): > 0 means B is preferred


def interleaving_report(slates: list[LoggedSlate]) -> InterleavingReport:
    """Team-draft interleaving: credit each interested item to the ranker that placed it; count slate wins."""
    from scipy.stats import binomtest

    wins_a = wins_b = ties = shown = engaged = 0
    for slate in slates:
        teams = [i for i in slate.items if i.team]
        if not teams:
            continue
        shown += 1
        a = sum(1 for i in teams if i.team == "A" and i.interest)
        b = sum(1 for i in teams if i.team == "B" and i.interest)
        if a or b:
            engaged += 1
        if a > b:
            wins_a += 1
        elif b > a:
            wins_b += 1
        elif a or b:
            ties += 1
    decided = wins_a + wins_b
    p = float(binomtest(wins_b, decided, 0.5).pvalue) if decided else 1.0
    return InterleavingReport(shown, engaged, wins_a, wins_b, ties, p, (wins_b - wins_a) / decided if decided else 0.0)
