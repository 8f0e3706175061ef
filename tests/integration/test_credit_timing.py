"""The credit score cannot be gamed by timing (issue 15's audit): recording "negotiating" only on signing day, or
declining the day before a pair would lapse, scores no better than the honest record of the same deals; a quick
"no" at first contact costs little."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from matchmaker.analytics.league import broker_league
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.models import Achievement, Broker, Demand, Pipeline, PipelineEvent

START = dt.datetime(2019, 3, 1, 9, tzinfo=dt.UTC)


def _deal(session, broker_id, pair, moves) -> None:
    """A pipeline claimed at START, then each (day, from, to) move."""
    pipeline = Pipeline(demand_id=pair[0], achievement_id=pair[1], broker_id=broker_id, stage=moves[-1][2],
                        created_at=START, updated_at=START)
    session.add(pipeline)
    session.flush()
    for day, before, after in moves:
        session.add(PipelineEvent(pipeline_id=pipeline.id, from_stage=before, to_stage=after,
                                  at=START + dt.timedelta(days=day)))


HONEST = [  # the deals as they happened
    [(2, "claimed", "contacted"), (8, "contacted", "negotiating"), (20, "negotiating", "signed")],
    [(2, "claimed", "contacted"), (30, "contacted", "negotiating"), (100, "negotiating", "declined")],
    [(2, "claimed", "contacted"), (120, "contacted", "lapsed")],
]
GAMED = [   # the same deals, recorded to dodge: negotiating only on signing day; given up the day before the lapse
    [(2, "claimed", "contacted"), (20, "contacted", "negotiating"), (20, "negotiating", "signed")],
    [(2, "claimed", "contacted"), (100, "contacted", "declined")],
    [(2, "claimed", "contacted"), (119, "contacted", "declined")],
]
QUICK = [   # one deal signed, two firms said no at first contact
    [(2, "claimed", "contacted"), (8, "contacted", "negotiating"), (20, "negotiating", "signed")],
    [(1, "claimed", "declined")],
    [(2, "claimed", "contacted"), (3, "contacted", "declined")],
]


def test_timing_does_not_buy_credit(seeded_url):
    engine = make_engine(seeded_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        brokers = session.scalars(select(Broker.id).order_by(Broker.id).limit(3)).all()
        demands = session.scalars(select(Demand.id).order_by(Demand.id).limit(9)).all()
        achievements = session.scalars(select(Achievement.id).order_by(Achievement.id).limit(9)).all()
        pairs = iter(zip(demands, achievements, strict=True))
        for broker, deals in zip(brokers, (HONEST, GAMED, QUICK), strict=True):
            for moves in deals:
                _deal(session, broker, next(pairs), moves)
    with transaction(factory) as session:
        league = {s.broker_id: s for s in broker_league(session, date_from=dt.date(2019, 3, 1),
                                                        date_to=dt.date(2019, 3, 1))}
    honest, gamed, quick = (league[b] for b in brokers)
    assert gamed.credit_score <= honest.credit_score, (gamed, honest)
    assert quick.credit_score > honest.credit_score                  # a quick no is not a lapse
    assert gamed.declined_after_negotiating_share >= honest.declined_after_negotiating_share   # late declines count
    engine.dispose()
