"""The simulator signs a deal on a drawn day, and never while a price notice on the achievement runs — its own or
another buyer's: the platform refuses such a signing (trading.price_notices.check_signable), and the simulator once
crashed on it when days stopped being fixed."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from matchmaker.models import PriceNotice
from matchmaker.models.base import Base
from matchmaker.simulation.agents import Deal
from matchmaker.simulation.negotiation import Negotiation


def test_a_deal_signs_only_after_its_notice_and_outside_another_buyers():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([
            PriceNotice(achievement_id=1, seller_id=1, buyer_id=2, price=1, starts_on=dt.date(2026, 7, 5),
                        ends_on=dt.date(2026, 7, 20)),     # this deal's own notice
            PriceNotice(achievement_id=1, seller_id=1, buyer_id=3, price=1, starts_on=dt.date(2026, 7, 18),
                        ends_on=dt.date(2026, 8, 2)),      # another buyer's, running past the month's end
        ])
        session.flush()
        for seed in range(40):
            deal = Deal(1, 10, 1, broker=None, last_at=dt.datetime(2026, 7, 5, 10, tzinfo=dt.UTC),
                        rng=random.Random(seed), notice_ends_on=dt.date(2026, 7, 20))
            # July has no day after the own notice that the other buyer's notice leaves free: sign next month.
            assert Negotiation._signing_moment(session, deal, dt.date(2026, 7, 1)) is None
            at = Negotiation._signing_moment(session, deal, dt.date(2026, 8, 1))
            assert at is not None and dt.date(2026, 8, 2) <= at.date() <= dt.date(2026, 8, 31)
    engine.dispose()
