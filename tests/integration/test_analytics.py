"""Analytics on a small hand-built market, with every expected figure worked out by hand below."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from decimal import Decimal
from types import SimpleNamespace

import pytest
from live_server import build_deal_world
from sqlalchemy import event, insert, update

from matchmaker.analytics.funnel import funnel
from matchmaker.analytics.league import broker_league
from matchmaker.analytics.local_conversion import local_conversion
from matchmaker.analytics.tables import to_csv
from matchmaker.analytics.turnover import turnover
from matchmaker.db import make_engine, make_session_factory
from matchmaker.errors import InvalidInput
from matchmaker.models import (
    Achievement,
    Broker,
    Contract,
    Demand,
    InboxEntry,
    Organisation,
    Pipeline,
    PipelineEvent,
)
from matchmaker.simulation.figures import summarise

NEW_ENERGY, BIO = "test_new_energy", "test_biomedicine"  # from tests/integration/conftest.py TEST_FIELDS
T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)

# id, name, kind, region: 大连 210200 (中山区 210202), 沈阳 210100 in 辽宁 210000; 西安 610100 in 陕西 610000.
ORGANISATIONS = [
    (1, "大连理工大学", "university", "210202"),
    (2, "东北大学", "university", "210100"),
    (3, "西安交通大学", "university", "610100"),
    (11, "大连储能科技有限公司", "enterprise", "210200"),
    (12, "沈阳机床有限公司", "enterprise", "210100"),
    (13, "西安光电有限公司", "enterprise", "610100"),
    (21, "大连技术转移中心", "agency", "210200"),
    (31, "辽宁省科学技术厅", "government", "210000"),
]
# id, owner, field: A4 has no field (unclassified).
ACHIEVEMENTS = [(1, 1, NEW_ENERGY), (2, 2, BIO), (3, 3, NEW_ENERGY), (4, 1, None)]

# Contracts: id, seller, seller region, buyer, buyer region, amount, certified, type, signed on, achievement.
CONTRACTS = [
    (1, 1, "210202", 11, "210200", "1000000.00", "800000.00", "transfer", dt.date(2024, 1, 15), 1),  # same city
    (2, 1, "210202", 12, "210100", "2000000.00", "2000000.00", "licence", dt.date(2024, 2, 10), 4),  # same province
    (3, 2, "210100", 13, "610100", "500000.00", None, "development", dt.date(2024, 2, 20), 2),  # across provinces
    (4, 3, "610100", 13, "610100", "3000000.00", "2500000.00", "transfer", dt.date(2024, 4, 5), 3),  # same city
    (5, 3, "610100", 11, "210200", "1500000.50", "1000000.00", "service", dt.date(2024, 4, 30), None),  # across
]

# Brokers and their pipelines. A path is the days spent at each stage before the next event, then the end.
BROKERS = [(1, "王强", "senior"), (2, "李新", "junior"), (3, "赵慢", "intermediate"), (4, "钱争", "intermediate"),
           (5, "孙新手", "junior")]
SIGNED = ((2, 5, 10), "signed")  # claim→contacted 2 days, →negotiating 5, →signed 10: 17 days to sign
PIPELINES = (
    [(1, SIGNED)] * 10 + [(1, ((3,), "declined"))] * 2  # 王强: 10 of 12, two declined while claimed
    + [(2, ((1, 1, 1), "signed"))]  # 李新: one deal, signed in 3 days
    + [(3, ((10, 20, 30), "signed")), (3, ((30,), "lapsed")), (3, ((10, 30), "lapsed")),
       (3, ((10, 20, 30), "lapsed"))]  # 赵慢: slow, lapsed from claimed, contacted and negotiating
    + [(4, SIGNED), (4, ((2, 5, 4), "declined")), (4, ((2, 5, 6), "declined"))]  # 钱争: two declined in negotiation
    + [(5, ((), None)), (5, ((2,), None))]  # 孙新手: still open, at claimed and at contacted
)
STAGES = ("claimed", "contacted", "negotiating", "signed")
# Contract → pipeline: 王强's first two deals, 李新's deal, 钱争's deal; C5 was registered without a pipeline.
CONTRACT_PIPELINE = {1: 1, 4: 2, 3: 13, 2: 18}


def _broker_of(pipeline_id: int | None) -> int | None:
    return PIPELINES[pipeline_id - 1][0] if pipeline_id else None


def _pairs() -> list[tuple[int, int]]:
    """(demand, achievement) of each pipeline: 赵慢 works on A2 (biomedicine), everyone else on A1 then A3."""
    pairs, others, zhao = [], 0, 0
    for broker_id, _ in PIPELINES:
        if broker_id == 3:
            zhao += 1
            pairs.append((zhao, 2))
        else:
            pairs.append((others % 10 + 1, 1 if others < 10 else 3))
            others += 1
    return pairs


def _events(pipeline_id: int, claimed_at: dt.datetime, gaps: tuple[int, ...], end: str | None) -> list[dict]:
    rows = [{"pipeline_id": pipeline_id, "from_stage": None, "to_stage": "claimed", "at": claimed_at}]
    at, stage = claimed_at, "claimed"
    for i, gap in enumerate(gaps):
        at += dt.timedelta(days=gap)
        nxt = STAGES[i + 1] if i + 1 < len(gaps) or end is None or end == "signed" else end
        rows.append({"pipeline_id": pipeline_id, "from_stage": stage, "to_stage": nxt, "at": at})
        stage = nxt
    return rows


def build_market(engine) -> None:
    """Insert the market above with SQLAlchemy Core (the brokerage services are not needed to read it)."""
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [{"id": i, "name": n, "kind": k, "region_code": r}
                                            for i, n, k, r in ORGANISATIONS])
        conn.execute(insert(Achievement), [{"id": i, "title": f"成果{i}", "organisation_id": o, "field_code": f,
                                            "status": "published"} for i, o, f in ACHIEVEMENTS])
        conn.execute(insert(Demand), [{"id": i, "title": f"需求{i}", "organisation_id": 11 + i % 3,
                                       "status": "published"} for i in range(1, 11)])
        conn.execute(insert(Broker), [{"id": i, "name": n, "level": lv, "agency_id": 21} for i, n, lv in BROKERS])
        pipelines, events = [], []
        for index, ((broker_id, (gaps, end)), (demand_id, achievement_id)) in enumerate(zip(PIPELINES, _pairs())):
            pid = index + 1
            claimed_at = T0 + dt.timedelta(hours=index)
            rows = _events(pid, claimed_at, gaps, end)
            pipelines.append({"id": pid, "demand_id": demand_id, "achievement_id": achievement_id,
                              "broker_id": broker_id, "stage": rows[-1]["to_stage"], "created_at": claimed_at})
            events += rows
        conn.execute(insert(Pipeline), pipelines)
        conn.execute(insert(PipelineEvent), events)
        conn.execute(insert(Contract), [
            {"id": i, "seller_id": s, "seller_region_code": sr, "buyer_id": b, "buyer_region_code": br,
             "amount": Decimal(a), "certified_amount": Decimal(c) if c else None, "contract_type": t,
             "payment_mode": "lump_sum", "signed_on": on, "achievement_id": ach,
             "pipeline_id": CONTRACT_PIPELINE.get(i), "broker_id": _broker_of(CONTRACT_PIPELINE.get(i))}
            for i, s, sr, b, br, a, c, t, on, ach in CONTRACTS])
        # Pushed matches: three pairs also claimed, five pairs on A4 only pushed, one of them to two organisations.
        pushed = [(11, 1, 1), (12, 2, 1), (13, 3, 1)] + [(11 + d % 3, d, 4) for d in range(1, 6)] + [(1, 1, 4)]
        conn.execute(insert(InboxEntry), [{"organisation_id": o, "demand_id": d, "achievement_id": a, "score": 0.5,
                                           "created_at": T0 + dt.timedelta(days=1)} for o, d, a in pushed])


@pytest.fixture
def session(catalog_engine):
    build_market(catalog_engine)
    with make_session_factory(catalog_engine)() as session:
        yield session


def _yuan(text: str) -> Decimal:
    return Decimal(text)


def test_turnover_by_period_region_field_and_type(session):
    by_month = turnover(session).rows
    assert [(r.period, r.contracts, r.amount, r.certified_amount) for r in by_month] == [
        ("2024-01", 1, _yuan("1000000.00"), _yuan("800000.00")),
        ("2024-02", 2, _yuan("2500000.00"), _yuan("2000000.00")),  # C3 is not certified yet: adds nothing
        ("2024-04", 2, _yuan("4500000.50"), _yuan("3500000.00")),
    ]
    by_quarter = turnover(session, period="quarter").rows
    assert [(r.period, r.contracts, r.amount) for r in by_quarter] == [
        ("2024-Q1", 3, _yuan("3500000.00")), ("2024-Q2", 2, _yuan("4500000.50"))]
    assert [(r.period, r.contracts) for r in turnover(session, period="year").rows] == [("2024", 5)]

    sellers = turnover(session, by=["region"]).rows  # 技术输出 by province
    assert [(r.region_code, r.region_name, r.contracts, r.amount, r.certified_amount) for r in sellers] == [
        ("210000", "辽宁省", 3, _yuan("3500000.00"), _yuan("2800000.00")),
        ("610000", "陕西省", 2, _yuan("4500000.50"), _yuan("3500000.00")),
    ]
    buyers = turnover(session, by=["region"], side="buyer").rows  # 技术吸纳
    assert [(r.region_code, r.amount, r.certified_amount) for r in buyers] == [
        ("210000", _yuan("4500000.50"), _yuan("3800000.00")), ("610000", _yuan("3500000.00"), _yuan("2500000.00"))]
    cities = turnover(session, by=["region"], region_level="city").rows
    assert [(r.region_code, r.region_name, r.contracts, r.amount) for r in cities] == [
        ("210100", "沈阳市", 1, _yuan("500000.00")), ("210200", "大连市", 2, _yuan("3000000.00")),
        ("610100", "西安市", 2, _yuan("4500000.50"))]

    fields = {r.field_code: (r.contracts, r.amount) for r in turnover(session, by=["field"]).rows}
    assert fields == {NEW_ENERGY: (2, _yuan("4000000.00")), BIO: (1, _yuan("500000.00")),
                      "unclassified": (2, _yuan("3500000.50"))}  # C2's achievement has no field, C5 has none
    types = {r.contract_type: r.amount for r in turnover(session, by=["type"]).rows}
    assert types == {"transfer": _yuan("4000000.00"), "licence": _yuan("2000000.00"),
                     "development": _yuan("500000.00"), "service": _yuan("1500000.50")}

    two_ways = turnover(session, by=["period", "type"], period="quarter").rows
    assert [(r.period, r.contract_type, r.contracts) for r in two_ways] == [
        ("2024-Q1", "development", 1), ("2024-Q1", "licence", 1), ("2024-Q1", "transfer", 1),
        ("2024-Q2", "service", 1), ("2024-Q2", "transfer", 1)]

    dalian = turnover(session, region="210200", by=["type"]).rows  # sellers in Dalian: C1, C2
    assert {r.contract_type: r.contracts for r in dalian} == {"transfer": 1, "licence": 1}
    assert [r.contracts for r in turnover(session, field=NEW_ENERGY, period="year").rows] == [2]
    assert [r.contracts for r in turnover(session, field="unclassified", period="year").rows] == [2]
    feb_mar = turnover(session, date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 3, 31)).rows
    assert [(r.period, r.contracts) for r in feb_mar] == [("2024-02", 2)]

    for kwargs, parameter in [({"by": ["colour"]}, "by"), ({"period": "week"}, "period"), ({"side": "both"}, "side"),
                              ({"region": "210202"}, "region"), ({"field": "no_such_field"}, "field"),
                              ({"date_from": dt.date(2024, 5, 1), "date_to": dt.date(2024, 1, 1)}, "date_from")]:
        with pytest.raises(InvalidInput) as caught:
            turnover(session, **kwargs)
        assert caught.value.problems[0].field == parameter


def test_local_conversion_by_province_and_city(session):
    provinces = local_conversion(session)
    assert provinces.level == "province"
    rows = {r.region_code: r for r in provinces.rows}
    liaoning, shaanxi = rows["210000"], rows["610000"]
    # 辽宁 sold C1 (大连→大连), C2 (大连→沈阳), C3 (沈阳→西安): two stayed in the province.
    assert (liaoning.contracts, liaoning.local_contracts, liaoning.rate_by_count) == (3, 2, 0.6667)
    assert (liaoning.amount, liaoning.local_amount, liaoning.rate_by_amount) == (
        _yuan("3500000.00"), _yuan("3000000.00"), 0.8571)
    # 陕西 sold C4 (西安→西安) and C5 (西安→大连).
    assert (shaanxi.contracts, shaanxi.local_contracts, shaanxi.rate_by_count, shaanxi.rate_by_amount) == (
        2, 1, 0.5, 0.6667)
    assert (provinces.overall.contracts, provinces.overall.local_contracts, provinces.overall.rate_by_count,
            provinces.overall.rate_by_amount) == (5, 3, 0.6, 0.75)  # 6,000,000 / 8,000,000.50

    # The simulator's summary reads the same figures: its home province's rate, and the share over all contracts.
    summary = summarise(session, SimpleNamespace(brokers=0, agency_rewards_yuan=Decimal(0)), home_province="210000")
    assert (summary["local_conversion_rate"], summary["same_province_share_all_contracts"]) == (0.6667, 0.6)

    cities = local_conversion(session, level="city")
    assert [(r.region_code, r.region_name, r.contracts, r.local_contracts, r.rate_by_count, r.rate_by_amount)
            for r in cities.rows] == [
        ("210100", "沈阳市", 1, 0, 0.0, 0.0),
        ("210200", "大连市", 2, 1, 0.5, 0.3333),  # C2 crossed to 沈阳: local for the province, not the city
        ("610100", "西安市", 2, 1, 0.5, 0.6667),
    ]
    assert (cities.overall.local_contracts, cities.overall.rate_by_count, cities.overall.rate_by_amount) == (
        2, 0.4, 0.5)

    liaoning_cities = local_conversion(session, region="210000", level="city")
    assert [r.region_code for r in liaoning_cities.rows] == ["210100", "210200"]
    dalian = local_conversion(session, region="210200")
    assert dalian.level == "city" and [(r.region_code, r.rate_by_count) for r in dalian.rows] == [("210200", 0.5)]
    spring = local_conversion(session, date_from=dt.date(2024, 4, 1))
    assert [(r.region_code, r.contracts) for r in spring.rows] == [("610000", 2)]
    with pytest.raises(InvalidInput) as caught:
        local_conversion(session, region="210200", level="province")
    assert caught.value.problems[0].field == "level"


def test_funnel_counts_rates_medians_and_exits(session):
    result = funnel(session)
    steps = {s.stage: s for s in result.steps}
    # 22 claimed pairs + 5 pairs only pushed (one pushed to two organisations, three pushes on claimed pairs).
    assert [(s.stage, s.count) for s in result.steps] == [
        ("match", 27), ("claimed", 22), ("contacted", 18), ("negotiating", 16), ("signed", 13)]
    assert [s.conversion_from_previous for s in result.steps] == [None, 0.8148, 0.8182, 0.8889, 0.8125]
    assert result.match_to_signed == 0.4815
    # claim→contacted: fourteen 2-day waits, one 1-day, three 10-day → median 2; and so on.
    assert [s.median_days_from_previous for s in result.steps] == [None, None, 2.0, 5.0, 10.0]
    assert result.median_days_claim_to_signed == 17.0
    assert (steps["claimed"].declined_here, steps["claimed"].lapsed_here) == (2, 1)
    assert (steps["contacted"].declined_here, steps["contacted"].lapsed_here) == (0, 1)
    assert (steps["negotiating"].declined_here, steps["negotiating"].lapsed_here) == (2, 1)

    slow = funnel(session, broker_id=3)
    assert [s.count for s in slow.steps] == [4, 4, 3, 2, 1]  # with a broker, the matches are its claims
    assert [s.median_days_from_previous for s in slow.steps[2:]] == [10.0, 20.0, 30.0]
    assert slow.median_days_claim_to_signed == 60.0
    biomedicine = funnel(session, field=BIO)  # only 赵慢 works on A2; no pushes on it
    assert [s.count for s in biomedicine.steps] == [4, 4, 3, 2, 1]
    unclassified = funnel(session, field="unclassified")  # the five pairs on A4, all only pushed
    assert [s.count for s in unclassified.steps] == [5, 0, 0, 0, 0]
    assert unclassified.steps[1].conversion_from_previous == 0.0
    before = funnel(session, date_to=dt.date(2024, 2, 29))
    assert [s.count for s in before.steps] == [0, 0, 0, 0, 0] and before.match_to_signed is None


def test_broker_league_and_credit_score(session):
    league = broker_league(session)
    # Market: 13 signed of 20 closed (m = 0.65, so the average broker stands at M = 65); broker medians to sign
    # 3, 17, 17, 60 → the median broker's 17. Score = 65 + c · (raw − 65); ranked from 3 closed pipelines.
    assert [(s.rank, s.name, s.credit_score) for s in league] == [
        (1, "王强", 74.0),  # 10 of 12: raw 100·(10 + 3.25)/17 = 77.94, on time, less the two quick declines'
                           # hold (30 · Σ min(1, days/120) / 12, about 0.1 point); c = 12/17 → 65 + 9.0
        (2, "钱争", 49.8),  # 1 of 3, two declined after negotiating: raw 53.13 − 26.67 = 26.46, less their hold
                           # (30 · Σ min(1, days/120) / 3, about 1.9 points); c = 3/8 → 65 − 15.2
        (3, "赵慢", 42.7),  # 1 of 4, three lapsed, 60 days: raw 47.22 − 10 − 22.5 = 14.72; c = 4/9 → 65 − 22.35
        (None, "李新", 67.3),  # 1 of 1, fast: raw 70.83 + 8.24 = 79.07; c = 1/6 → 65 + 2.34; too few to rank
        (None, "孙新手", 65.0),  # nothing closed yet: the market's average broker, not 50
    ]
    wang, qian, zhao, li, sun = league
    assert (wang.claimed, wang.signed, wang.declined, wang.lapsed, wang.open) == (12, 10, 2, 0, 0)
    assert (wang.win_rate, wang.lapsed_share, wang.median_days_to_sign) == (0.8333, 0.0, 17.0)
    assert (wang.signed_amount, li.signed_amount, qian.signed_amount, zhao.signed_amount) == (
        _yuan("4000000.00"), _yuan("500000.00"), _yuan("2000000.00"), _yuan("0.00"))
    assert (zhao.lapsed_share, zhao.median_days_to_sign) == (0.75, 60.0)
    assert qian.declined_after_negotiating_share == 0.6667
    assert (sun.claimed, sun.open, sun.win_rate, sun.median_days_to_sign) == (2, 2, None, None)
    assert li.credit_score < wang.credit_score  # one lucky deal does not beat ten of twelve
    assert [s.name for s in broker_league(session, limit=2)] == ["王强", "钱争"]
    assert [s.name for s in broker_league(session, field=BIO)] == ["赵慢"]
    assert broker_league(session, date_to=dt.date(2024, 2, 1)) == []


def test_a_regional_report_totals_its_region_and_a_province_only_party_is_no_city(session):
    liaoning = local_conversion(session, region="210000")          # sellers in 辽宁: contracts 1, 2, 3; 1 and 2 local
    assert (liaoning.overall.region_code, liaoning.overall.contracts, liaoning.overall.local_contracts) == ("210000", 3, 2)
    assert liaoning.overall.region_name == "辽宁省"
    session.add(Contract(id=6, seller_id=31, seller_region_code="210000", buyer_id=11, buyer_region_code="210200",
                         amount=Decimal("100.00"), contract_type="service", payment_mode="lump_sum",
                         signed_on=dt.date(2024, 5, 1)))
    session.flush()
    cities = {row.region_code: row.region_name for row in local_conversion(session, level="city", region="210000").rows}
    assert cities["210000"] == "辽宁省（未细分到市）" and cities["210200"] == "大连市"


def test_csv_has_a_header_and_one_line_per_row(session):
    text = to_csv(turnover(session, by=["region"]))
    assert text.startswith("\ufeff")                     # Excel reads it as UTF-8
    by_region = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert by_region[0] == ["期间（period）", "地区代码（region_code）", "地区（region_name）", "技术领域代码（field_code）",
                            "技术领域（field_name）", "合同类型（contract_type）", "合同数（contracts）", "成交额（元）（amount）",
                            "技术交易额（元）（certified_amount）"]
    assert by_region[1] == ["", "210000", "辽宁省", "", "", "", "3", "3500000.00", "2800000.00"]
    conversion = list(csv.reader(io.StringIO(to_csv(local_conversion(session)))))
    assert conversion[0][1:3] == ["地区（region_name）", "合同数（contracts）"] and conversion[-1][0] == "all"
    steps = list(csv.reader(io.StringIO(to_csv(funnel(session)))))
    assert [row[0] for row in steps] == ["\ufeff环节（stage）", "match", "claimed", "contacted", "negotiating", "signed",
                                         "match_to_signed"]   # the whole path, as the JSON has it (issue 15)
    league = list(csv.reader(io.StringIO(to_csv(broker_league(session)))))
    assert league[0][-1] == "信用积分（credit_score）" and league[1][2] == "王强" and len(league) == 6


@pytest.fixture
def client(catalog_engine, migrated_url, tmp_path):
    from litestar.testing import TestClient

    from matchmaker.app import create_app
    from matchmaker.config import Settings

    build_market(catalog_engine)
    app = create_app(Settings(database_url=migrated_url, index_dir=tmp_path / "index"))
    with TestClient(app) as test_client:
        yield test_client


def _headers(engine, role: str, organisation_id: int) -> dict[str, str]:
    from matchmaker.db import transaction
    from matchmaker.identity.services import create_user

    with transaction(make_session_factory(engine)) as s:
        _, token = create_user(s, role=role, organisation_id=organisation_id, name=f"{role}-{organisation_id}")
    return {"Authorization": f"Bearer {token}"}


BAD_FILTERS = [
    ("/analytics/turnover?period=week", "period", 400),
    ("/analytics/turnover?region=210202", "region", 400),
    ("/analytics/turnover?date_from=2024-13-01", "date_from", 400),
    ("/analytics/turnover?by=colour", "by", 422),
    ("/analytics/funnel?format=xml", "format", 400),
    ("/analytics/brokers?limit=0", "limit", 400),
    ("/analytics/local-conversion?region=210200&level=province", "level", 422),
    ("/analytics/turnover?date_from=2024-05-01&date_to=2024-01-01", "date_from", 422),
]


def test_api_for_analysts_only_json_csv_and_bad_filters(client, catalog_engine):
    analyst, firm = _headers(catalog_engine, "analyst", 31), _headers(catalog_engine, "firm", 11)
    for path in ("turnover", "local-conversion", "funnel", "brokers"):
        assert client.get(f"/analytics/{path}", headers=firm).status_code == 403
        assert client.get(f"/analytics/{path}", headers=analyst).status_code == 200

    body = client.get("/analytics/turnover?by=region&region_level=city&side=buyer", headers=analyst).json()
    assert [(r["region_code"], r["amount"]) for r in body["rows"]] == [
        ("210100", "2000000.00"), ("210200", "2500000.50"), ("610100", "3500000.00")]
    conversion = client.get("/analytics/local-conversion?region=210000&level=city", headers=analyst).json()
    assert [r["region_code"] for r in conversion["rows"]] == ["210100", "210200"]
    funnel = client.get("/analytics/funnel?broker_id=2", headers=analyst).json()
    assert [s["count"] for s in funnel["steps"]] == [1, 1, 1, 1, 1]
    league = client.get("/analytics/brokers?limit=1&date_from=2024-03-01", headers=analyst).json()
    assert [(s["name"], s["credit_score"]) for s in league] == [("王强", 74.0)]

    response = client.get("/analytics/turnover?format=csv&period=quarter", headers=analyst)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("期间（period）,地区代码（region_code）") and lines[1].startswith("2024-Q1,")
    brokers_csv = client.get("/analytics/brokers?format=csv", headers=analyst).content.decode("utf-8")
    assert "王强" in brokers_csv.splitlines()[1]

    admin = _headers(catalog_engine, "admin", 31)
    for query, parameter, status in BAD_FILTERS:
        response = client.get(query, headers=admin)
        assert response.status_code == status, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert parameter in {e["field"] for e in response.json().get("errors", [])}, (query, response.json())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_broker_league_reads_more_ended_pipelines_than_a_statement_may_name(migrated_url):
    """A national year ended 272,107 pipelines, and the league named them all in one IN (…): past SQLite's 32,766
    parameters a statement, the run's figures were lost. Here the limit is lowered to 100 and 300 pipelines end."""
    build_deal_world(migrated_url, brokers=2, deals_per_broker=150)
    engine = make_engine(migrated_url)
    with engine.begin() as conn:
        conn.execute(update(Pipeline).values(stage="lapsed"))
    engine.dispose()
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100))
    with make_session_factory(engine)() as session:
        league = broker_league(session)
    engine.dispose()
    assert sorted((b.lapsed, b.claimed) for b in league) == [(150, 150), (150, 150)]
