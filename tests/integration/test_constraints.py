"""The database itself refuses what the domain forbids, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from matchmaker.db import make_engine
from matchmaker.models import Achievement, Broker, Contract, Demand, IPRecord, Organisation, Pipeline


@pytest.fixture
def engine(migrated_url):
    engine = make_engine(migrated_url)
    with engine.begin() as conn:
        conn.execute(insert(Organisation), {"id": 1, "name": "大连理工大学", "kind": "university", "region_code": "210200"})
    yield engine
    engine.dispose()


def _achievement(**overrides) -> dict:
    return {"title": "一种高熵合金的制备方法", "organisation_id": 1, "region_code": "210200", "status": "published"} | overrides


def _demand(**overrides) -> dict:
    return {"title": "储能变流器效率提升", "status": "published"} | overrides


@pytest.mark.parametrize(
    ("model", "row"),
    [
        (Achievement, _achievement(trl=0)),
        (Achievement, _achievement(trl=10)),
        (Achievement, _achievement(asking_price=Decimal("-1"))),
        (Achievement, _achievement(status="lost")),
        (Achievement, _achievement(pricing_mode="barter")),
        (Achievement, _achievement(transfer_modes=64)),
        (Achievement, _achievement(region_code="999999")),
        (Achievement, _achievement(organisation_id=999)),
        (Achievement, _achievement(field_code="alchemy")),
        (Demand, _demand(min_trl=10)),
        (Demand, _demand(budget_min=Decimal("500000"), budget_max=Decimal("100000"))),
        (Demand, _demand(bounty=Decimal("-5"))),
        (Demand, _demand(status="published_maybe")),
        (Organisation, {"name": "某单位", "kind": "club"}),
    ],
    ids=["trl-0", "trl-10", "negative-price", "unknown-status", "unknown-pricing", "mode-mask", "unknown-region",
         "unknown-organisation", "unknown-field", "min-trl-10", "budget-min-over-max", "negative-bounty",
         "unknown-demand-status", "unknown-organisation-kind"],
)
def test_database_rejects_forbidden_rows(engine, model, row):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(model), row)


def test_money_keeps_its_cents_and_ip_records_cascade(engine):
    with engine.begin() as conn:
        achievement_id = conn.execute(
            insert(Achievement).returning(Achievement.id), _achievement(asking_price=Decimal("1234567.89"), trl=5)
        ).scalar_one()
        conn.execute(insert(IPRecord), {"achievement_id": achievement_id, "ip_type": "invention_patent", "number": "ZL1"})
    with engine.begin() as conn:
        price = conn.execute(Achievement.__table__.select()).one().asking_price
        assert price == Decimal("1234567.89")
        conn.execute(Achievement.__table__.delete())
        assert conn.execute(IPRecord.__table__.select()).all() == []


def test_one_live_pipeline_per_pair_but_ended_ones_may_repeat(engine):
    with engine.begin() as conn:
        a = conn.execute(insert(Achievement).returning(Achievement.id), _achievement()).scalar_one()
        d = conn.execute(insert(Demand).returning(Demand.id), _demand()).scalar_one()
        conn.execute(insert(Organisation), {"id": 2, "name": "某技术转移中心", "kind": "agency", "region_code": "210200"})
        b = conn.execute(insert(Broker).returning(Broker.id), {"name": "张经纪", "agency_id": 2, "level": "junior"}).scalar_one()
    pipeline = {"demand_id": d, "achievement_id": a, "broker_id": b, "version": 1}
    with engine.begin() as conn:
        conn.execute(insert(Pipeline), [pipeline | {"stage": "declined"}, pipeline | {"stage": "lapsed"},
                                        pipeline | {"stage": "claimed"}])
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Pipeline), pipeline | {"stage": "signed"})


def test_a_licence_scope_belongs_to_a_licence_contract(engine):
    with engine.begin() as conn:
        conn.execute(insert(Organisation), {"id": 3, "name": "某企业", "kind": "enterprise", "region_code": "210200"})
    row = {"contract_type": "transfer", "amount": Decimal("1000"), "payment_mode": "lump_sum", "signed_on": dt.date(2026, 11, 1),
           "buyer_id": 3, "buyer_region_code": "210200", "seller_id": 1, "seller_region_code": "210200"}
    for bad in ({"licence_scope": "exclusive"}, {"contract_type": "licence", "licence_scope": "worldwide"}):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(Contract), row | bad)
    with engine.begin() as conn:
        conn.execute(insert(Contract), row | {"contract_type": "licence", "licence_scope": "sole"})
