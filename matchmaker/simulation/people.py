"""Simulated firms reading their matches: the verdicts the impression log learns from, on a generated world.

A firm's user looks at the list shown for its demand and reacts to each match by the world's latent truth (how well
the achievement answers the demand) and one stated preference: a result less mature than the demand asked for
draws half the interest. Interest is a 感兴趣 verdict; some uninterested matches get a 不相关 verdict with a reason;
the rest get none. Everything goes through the platform's services, as a person's clicks would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.brokerage.feedback import give_feedback
from matchmaker.identity.services import Actor, create_user
from matchmaker.matching.ranking import Match
from matchmaker.matching.service import MatchingService
from matchmaker.models import Achievement, Demand, LatentFit

INTEREST_BY_LEVEL = {4: 0.8, 3: 0.5, 2: 0.15, 1: 0.03}   # unjudged pairs count as level 1
TOO_EARLY_FACTOR = 0.5
SAYS_NOT_RELEVANT = 0.3


@dataclass
class Reaction:
    demand_id: int
    achievement_id: int
    interested: bool
    said: bool    # whether a verdict was recorded


def interest_probability(level: int, trl: int | None, min_trl: int | None) -> float:
    p = INTEREST_BY_LEVEL.get(level, INTEREST_BY_LEVEL[1])
    if trl is not None and min_trl is not None and trl < min_trl:
        p *= TOO_EARLY_FACTOR
    return p


class SimulatedFirms:
    """One user per firm, viewing its demands' matches on the page and judging them."""

    def __init__(self, session: Session, rng: random.Random) -> None:
        self.rng = rng
        self.actors: dict[int, Actor] = {}
        self.levels = {(d, a): level for d, a, level in session.execute(
            select(LatentFit.demand_id, LatentFit.achievement_id, LatentFit.level))}

    def actor(self, session: Session, organisation_id: int) -> Actor:
        if organisation_id not in self.actors:
            user, _ = create_user(session, role=v.Role.FIRM.value, organisation_id=organisation_id,
                                  name=f"模拟企业用户{organisation_id}")
            self.actors[organisation_id] = Actor(user.id, v.Role.FIRM, organisation_id)
        return self.actors[organisation_id]

    def view(self, session: Session, matching: MatchingService, demand: Demand, k: int = 10) -> list[Reaction]:
        """The firm opens its demand's page (a logged slate) and reacts to what it is shown."""
        actor = self.actor(session, demand.organisation_id)
        shown = matching.show(session, record=demand, target=v.Library.ACHIEVEMENTS, k=k, surface=v.Surface.PAGE,
                              user_id=actor.user_id)
        return [self._react(session, actor, demand, match) for match in shown]

    def true_interest(self, session: Session, demand: Demand, achievement_id: int) -> float:
        trl = session.scalar(select(Achievement.trl).where(Achievement.id == achievement_id))
        return interest_probability(self.levels.get((demand.id, achievement_id), 1), trl, demand.min_trl)

    def _react(self, session: Session, actor: Actor, demand: Demand, match: Match) -> Reaction:
        p = self.true_interest(session, demand, int(match.id))
        interested = self.rng.random() < p
        said = interested or self.rng.random() < SAYS_NOT_RELEVANT
        if said:
            trl = session.scalar(select(Achievement.trl).where(Achievement.id == int(match.id)))
            too_early = trl is not None and demand.min_trl is not None and trl < demand.min_trl
            give_feedback(session, actor=actor, demand_id=demand.id, achievement_id=int(match.id),
                          relevant=interested,
                          reason=None if interested else ("too_early_stage" if too_early else "field_mismatch"))
        return Reaction(demand.id, int(match.id), interested, said)


def true_rate(session: Session, firms: SimulatedFirms, slates, ranker, k: int = 10) -> float:
    """The interest a candidate ranker would truly earn on the logged pools (the world knows the truth)."""
    from matchmaker.matching.counterfactual import scorer

    score = scorer(ranker)
    rates = []
    for slate in slates:
        if not slate.items or any(i.team for i in slate.items):
            continue
        demand = session.get(Demand, slate.items[0].demand_id)
        top = sorted(slate.items, key=lambda i: (-score(i.features), i.pool_rank))[:k]
        rates.append(sum(firms.true_interest(session, demand, i.achievement_id) for i in top) / len(top))
    return sum(rates) / len(rates) if rates else 0.0


def study(factory, settings, *, demands: int, candidates: dict, interleave_with: str | None = None,
          seed: int = 1, k: int = 10) -> dict:
    """Simulated firms view their demands' matches (logged with exploration); then, for each candidate ranker, the
    IPS / SNIPS estimate from the log next to its true interest rate; learn-weights on the log; and, when
    `interleave_with` names a weights file, a second round of team-draft interleaved views and its report."""
    import dataclasses

    from matchmaker.matching.counterfactual import interest_rate, interleaving_report, logged_slates
    from matchmaker.matching.learning import NotEnoughFeedback, examples_from_log, fit_weights

    rng = random.Random(seed)
    matching = MatchingService(settings, factory, random.Random(seed)).start()
    with factory() as session:
        firms = SimulatedFirms(session, rng)
        open_demands = list(session.scalars(select(Demand.id).where(
            Demand.status == v.DemandStatus.PUBLISHED, Demand.organisation_id.is_not(None)).order_by(Demand.id)))
    chosen = open_demands[:: max(1, len(open_demands) // demands)][:demands]

    def view_all(service: MatchingService) -> None:
        for demand_id in chosen:
            with factory() as session, session.begin():
                firms.view(session, service, session.get(Demand, demand_id), k)

    view_all(matching)
    with factory() as session:
        slates = logged_slates(session)
        out: dict = {"slates": len(slates), "shown": sum(s.k for s in slates), "candidates": {}}
        for name, weights in candidates.items():
            estimate = interest_rate(slates, weights, k)
            out["candidates"][name] = {"ips": estimate.ips, "snips": estimate.snips, "log_covers": estimate.matched,
                                       "true": true_rate(session, firms, slates, weights, k)}
        try:
            learned = fit_weights(examples_from_log(slates), slates, matching.weights)
            out["learned"] = {"weights": dataclasses.asdict(learned.weights), "better": learned.better,
                              "cv_pair_accuracy": (learned.cv_pair_accuracy_current, learned.cv_pair_accuracy),
                              "true": true_rate(session, firms, slates, learned.weights, k),
                              "true_before": true_rate(session, firms, slates, matching.weights, k)}
        except NotEnoughFeedback as error:
            out["learned"] = {"error": str(error)}
    if interleave_with:
        view_all(MatchingService(dataclasses.replace(settings, interleave=interleave_with, exploration=0.0), factory,
                                 random.Random(seed + 1)).start())
        with factory() as session:
            out["interleaving"] = dataclasses.asdict(interleaving_report(logged_slates(session)))
    return out
