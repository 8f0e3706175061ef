"""The market simulator: reproducible runs, scenario levers, stored runs and reports."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session

from matchmaker import migrate
from matchmaker.config import Settings
from matchmaker.db import make_engine
from matchmaker.simulation.report import interval, write_report
from matchmaker.simulation.runs import run_scenario
from matchmaker.simulation.scenarios import load_scenario


@pytest.fixture
def settings(tmp_path) -> Settings:
    url = f"sqlite:///{tmp_path / 'main.db'}"
    migrate.upgrade(url)
    return Settings(database_url=url, index_dir=tmp_path / "var" / "index")


def test_same_world_scenario_and_seed_give_identical_figures(settings):
    baseline = load_scenario("baseline")
    first = run_scenario(settings, baseline, seed=3, months=3, scale="demo", world_seed=1, keep_database=False)
    second = run_scenario(settings, baseline, seed=3, months=3, scale="demo", world_seed=1, keep_database=False)
    assert first.summary == second.summary and first.monthly == second.monthly
    assert first.summary["funnel"]["claimed"]["count"] > 0
    other = run_scenario(settings, baseline, seed=4, months=3, scale="demo", world_seed=1, keep_database=False)
    assert other.monthly != first.monthly


def test_more_brokers_scenario_adds_brokers_and_claims(settings):
    base = run_scenario(settings, load_scenario("baseline"), seed=1, months=2, scale="demo", world_seed=1,
                        keep_database=False)
    more = run_scenario(settings, load_scenario("more_brokers"), seed=1, months=2, scale="demo", world_seed=1,
                        keep_database=False)
    assert more.summary["brokers"] == round(base.summary["brokers"] * 1.5)
    assert more.summary["funnel"]["claimed"]["count"] > base.summary["funnel"]["claimed"]["count"]


def test_report_has_charts_csvs_and_the_comparison(settings, tmp_path):
    for seed in (1, 2):
        run = run_scenario(settings, load_scenario("baseline"), seed=seed, months=2, scale="demo", world_seed=1,
                           keep_database=False)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        page = write_report(session, run.id, tmp_path / "report")
    engine.dispose()
    text = page.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 5 and "baseline" in text
    for name in ("monthly.csv", "funnel.csv", "brokers.csv", "comparison.csv"):
        data = (tmp_path / "report" / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") >= 2   # a BOM: Chinese Excel reads UTF-8
        assert b"nan" not in data.lower()          # a figure that cannot be computed is an empty cell


def test_scenario_files_are_checked(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario"):
        load_scenario("no_such_policy")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nbase = "baseline"\n[policy]\nmagic_wand = 2\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown lever policy.magic_wand"):
        load_scenario(str(bad))
    good = tmp_path / "good.toml"
    good.write_text('name = "good"\nbase = "baseline"\n[brokers]\nmonthly_claims = 5\n', encoding="utf-8")
    scenario = load_scenario(str(good))
    assert scenario.get("brokers", "monthly_claims") == 5
    assert scenario.get("negotiation", "sign") == load_scenario("baseline").get("negotiation", "sign")


def test_interval_is_a_student_t_interval():
    iv = interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and iv.n == 3
    assert math.isclose(iv.high - iv.mean, 4.302652729911275 * 1.0 / math.sqrt(3), rel_tol=1e-9)
    assert math.isnan(interval([5.0]).low)


def test_the_simulator_writes_the_registry_and_never_signs_a_closed_posting(settings):
    """Issue 15: simulated contracts are registered by a simulated registrar (numbers, certified amount at
    registration), so the simulator's figures and the registry's statistics read the same rows."""
    from sqlalchemy import func, select

    from matchmaker.analytics.registry_report import registry_report
    from matchmaker.models import Achievement, Contract, Demand

    run = run_scenario(settings, load_scenario("baseline"), seed=2, months=4, scale="demo", world_seed=1)
    engine = make_engine(f"sqlite:///{run.database_path}")
    with Session(engine) as session:
        contracts = session.scalars(select(Contract)).all()
        assert contracts and all(c.registration_number and c.registered_on > c.signed_on for c in contracts)
        assert all(c.certified_amount is not None and c.certified_amount <= c.amount for c in contracts)
        late = session.scalar(select(func.count(Contract.id)).join(Achievement, Achievement.id == Contract.achievement_id)
                              .join(Demand, Demand.id == Contract.demand_id)
                              .where((Contract.signed_on > Achievement.expires_on) | (Contract.signed_on > Demand.deadline)))
        assert late == 0
        assert registry_report(session).total.contracts == len(contracts)
    engine.dispose()


def test_listing_and_auction_pricing_modes(settings):
    """Issue 16: scenarios offer achievements by listing or auction; a listed achievement sells at its posted price
    and is recorded as listed; an auctioned one sells at no less than the reference; the baseline draws nothing."""
    import random
    from types import SimpleNamespace

    from sqlalchemy import select

    from matchmaker.models import Achievement, Contract
    from matchmaker.simulation.pricing import Pricing
    from matchmaker.simulation.scenarios import Overrides

    listed = Overrides({"pricing": {"listed_share": 1.0}}).apply(load_scenario("listed_trading"))
    run = run_scenario(settings, listed, seed=2, months=4, scale="demo", world_seed=1)
    engine = make_engine(f"sqlite:///{run.database_path}")
    with Session(engine) as session:
        sold = session.execute(select(Contract.amount, Achievement.asking_price, Achievement.pricing_mode)
                               .join(Achievement, Achievement.id == Contract.achievement_id)).all()
        assert sold and all(mode == "listed" for _, _, mode in sold)
        priced = [(amount, asking) for amount, asking, _ in sold if asking is not None]
        assert priced and all(amount == asking for amount, asking in priced)
    engine.dispose()

    baseline = load_scenario("baseline")

    class Probe(Pricing):
        def lever(self, section, key):
            return baseline.get(section, key)

    probe = Probe()
    probe.rng, probe.pricing = random.Random(7), {}
    before = probe.rng.getstate()
    achievement = SimpleNamespace(id=1, pricing_mode="negotiated", asking_price=None)
    assert probe.pricing_mode(achievement) == "negotiated" and probe.rng.getstate() == before


def test_rate_intervals_stay_inside_zero_and_one_and_need_three_seeds():
    """Issue 17: '40.4% [-36.8%, 117.5%]' and '44 [44, 44]' cannot be shown."""
    wide = interval([0.05, 0.9, 0.4], rate=True)
    assert 0 < wide.low < wide.mean < wide.high < 1
    assert interval([0.0, 0.0, 0.0], rate=True).low >= 0
    counts = interval([1.0, 30.0, 2.0])
    assert counts.low == 0.0 and counts.high > counts.mean
    two = interval([44.0, 44.0])
    assert two.mean == 44.0 and math.isnan(two.low) and two.text() == "44"


def test_the_comparison_says_what_effect_its_seeds_can_detect(settings):
    """Issue 17: the minimal detectable effect for the seeds used, and the seeds a 10% effect would need."""
    from matchmaker.models import SimulationRun
    from matchmaker.simulation.report import detectable_effects

    engine = make_engine(settings.database_url)
    with Session(engine) as session, session.begin():
        for scenario, values in (("baseline", (10, 12, 14)), ("auctions", (11, 13, 15))):
            for seed, value in enumerate(values, start=1):
                session.add(SimulationRun(scenario=scenario, seed=seed, world_scale="demo", world_seed=1, months=12,
                                          version="t", levers={}, monthly=[], seconds=1.0,
                                          summary={"contracts": value}))
    with Session(engine) as session:
        (found,) = detectable_effects(session, world_scale="demo", world_seed=1, months=12, scenarios={"auctions"})
    engine.dispose()
    # pooled sd 2, 3 seeds a side (df 4): (t.975 + t.80) × 2 × √(2/3) = (2.776 + 0.941) × 1.633 = 6.07 of a mean of 12
    assert found.figure == "contracts" and found.seeds == 3
    assert math.isclose(found.effect, 6.070 / 12, rel_tol=0.01)
    assert 40 <= found.seeds_for_target <= 50   # ≈ (2.8² × 2 × 2²) / 1.2² seeds per scenario for a 10% effect


def test_a_rate_interval_holds_its_mean():
    zeros = interval([0.0, 0.0, 0.0], rate=True)
    assert zeros.low <= zeros.mean <= zeros.high
    skewed = interval([0.0, 0.0, 0.9], rate=True)
    assert 0 <= skewed.low <= skewed.mean <= skewed.high <= 1
