"""The broker credit score (信用积分) moves the right way as outcomes change."""

from __future__ import annotations

from matchmaker.analytics.league import credit_score

MARKET = {"market_win_rate": 0.5, "market_median_days": 20.0}


def score(signed=0, declined=0, lapsed=0, disputed=0, median_days=20.0) -> float:
    closed = signed + declined + lapsed + disputed
    return credit_score(signed=signed, closed=closed, lapsed=lapsed, disputed=disputed,
                        median_days=median_days if signed else None, **MARKET)


def test_no_outcomes_is_the_market_average_broker():
    assert score() == 50.0   # here the market wins half its closed pipelines
    low_market = {"market_win_rate": 0.068, "market_median_days": 20.0}   # the audit's market: 6.8% of claims signed
    nothing = credit_score(signed=0, closed=0, lapsed=0, disputed=0, median_days=None, **low_market)
    half = credit_score(signed=20, closed=40, lapsed=0, disputed=0, median_days=20.0, **low_market)
    one_decline = credit_score(signed=0, closed=1, lapsed=0, disputed=0, median_days=None, **low_market)
    assert nothing == 6.8 and half > 40 > nothing > one_decline   # a record of signing beats having none


def test_more_wins_raise_the_score():
    values = [score(signed=n, declined=2) for n in range(15)]
    assert values == sorted(values) and values[0] < values[-1]


def test_more_lapses_lower_the_score():
    values = [score(signed=5, lapsed=n) for n in range(10)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


def test_disputes_cost_more_than_plain_declines():
    assert score(signed=5, disputed=3) < score(signed=5, declined=3)


def test_one_lucky_deal_is_below_ten_of_twelve():
    assert score(signed=1) < score(signed=10, declined=2)
    assert score(signed=1) < 60


def test_faster_signing_scores_higher_and_timeliness_is_bounded():
    assert score(signed=5, median_days=5) > score(signed=5, median_days=20) > score(signed=5, median_days=40)
    assert score(signed=5, median_days=60) == score(signed=5, median_days=600)  # the malus stops at -10 points


def test_the_score_stays_within_0_and_100():
    assert 0 <= score(lapsed=200) <= score(signed=200, median_days=0.1) <= 100
