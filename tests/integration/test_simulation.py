"""The market simulator: reproducible runs, scenario levers, stored runs and reports."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from matchmaker.config import Settings
from matchmaker.db import make_engine
from matchmaker.simulation.report import interval, write_report
from matchmaker.simulation.runs import run_scenario, world_file
from matchmaker.simulation.scenarios import load_scenario


@pytest.fixture
def settings(simulation_settings) -> Settings:
    return simulation_settings


@pytest.fixture
def own_settings(tmp_path, templates) -> Settings:
    """Worlds of this test's own: it watches a world's matcher being built."""
    url = templates.copy_into("migrated", f"sqlite:///{tmp_path / 'main.db'}")
    return Settings(database_url=url, index_dir=tmp_path / "var" / "index")


def test_same_world_scenario_and_seed_give_identical_figures(own_settings):
    settings = own_settings
    baseline = load_scenario("baseline")
    kept = world_file(settings, "demo", 1).with_suffix(".matcher") / "state.json"
    assert not kept.exists()
    first = run_scenario(settings, baseline, seed=3, months=3, scale="demo", world_seed=1, keep_database=False)
    # The first run built the world's matcher and kept it beside the world; the second loads a copy of it.
    built = kept.stat().st_mtime_ns
    second = run_scenario(settings, baseline, seed=3, months=3, scale="demo", world_seed=1, keep_database=False)
    assert kept.stat().st_mtime_ns == built
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
    from matchmaker.models import Achievement, Contract, Demand, Notice, Pipeline, PipelineEvent

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
        # Issue 17: contracts behave like real ones. A transfer (or an exclusive licence) takes the achievement off
        # offer; a licence has a scope; events fall on many days of the month, not the 25th alone.
        for contract in contracts:
            status = session.get(Achievement, contract.achievement_id).status
            if contract.contract_type == "transfer" or contract.licence_scope == "exclusive":
                assert status == "transferred", contract.id
            assert (contract.licence_scope is not None) == (contract.contract_type == "licence")
        assert len({c.signed_on.day for c in contracts}) > 3
        # No broker takes on more new pairings in a month than the cap.
        cap = load_scenario("baseline").get("brokers", "monthly_claim_cap")
        busiest = session.execute(select(func.count()).select_from(Pipeline)
                                  .group_by(Pipeline.broker_id, func.strftime("%Y-%m", Pipeline.created_at))
                                  .order_by(func.count().desc()).limit(1)).scalar()
        assert 0 < busiest <= cap
        # The run's claims and moves wait for one flush a month (flush=False): none is lost on the way — every
        # pipeline's stage is its last event's, and every stage notice names an event that was written.
        events = session.execute(select(PipelineEvent.pipeline_id, PipelineEvent.to_stage, Pipeline.demand_id,
                                        Pipeline.achievement_id, Pipeline.created_at)
                                 .join(Pipeline, Pipeline.id == PipelineEvent.pipeline_id)
                                 .order_by(PipelineEvent.pipeline_id, PipelineEvent.at, PipelineEvent.id)).all()
        last = {e.pipeline_id: e.to_stage for e in events}
        stages = dict(session.execute(select(Pipeline.id, Pipeline.stage)).all())
        assert last == stages and any(stage in ("declined", "lapsed") for stage in stages.values())
        assert {e.pipeline_id for e in events if e.to_stage == "claimed"} == set(stages)
        told = set(session.scalars(select(Notice.event).where(Notice.event.like("stage:%"))))
        written = {f"stage:{e.demand_id}:{e.achievement_id}:{e.created_at:%Y%m%d%H%M%S%f}:{e.to_stage}" for e in events}
        assert told and told <= written
        assert any(key.endswith((":contacted", ":lapsed", ":declined")) for key in told)
    engine.dispose()
    # Money is written as exact decimal strings, never floats.
    assert isinstance(run.summary["turnover_yuan"], str) and all(isinstance(m["turnover_yuan"], str) for m in run.monthly)
    assert sum(Decimal(m["turnover_yuan"]) for m in run.monthly) == Decimal(run.summary["turnover_yuan"])


def test_common_random_numbers_give_two_scenarios_the_same_dice(settings):
    """Issue 17: a scenario that changes no lever gives the baseline's figures seed for seed, because every agent and
    deal draws from a stream keyed by the seed and what it is for, not by the scenario; without common random
    numbers the same levers give other figures (the noise the paired comparison removes)."""
    from matchmaker.simulation.runs import simulate
    from matchmaker.simulation.scenarios import Scenario

    baseline = load_scenario("baseline")
    twin = Scenario("twin", "同基准", baseline.levers)
    runs = {(scenario.name, crn): simulate(settings, scenario, seed=5, months=2, scale="demo", world_seed=1,
                                           keep_database=False, common_random_numbers=crn)
            for scenario in (baseline, twin) for crn in (True, False)}
    assert runs[("baseline", True)]["summary"] == runs[("twin", True)]["summary"]
    assert runs[("baseline", True)]["monthly"] == runs[("twin", True)]["monthly"]
    assert runs[("baseline", False)]["summary"] != runs[("twin", False)]["summary"]


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
    """Issue 17: the minimal detectable effect for the seeds used, and the seeds a 10% effect would need — paired
    when the scenarios ran on the baseline's seeds (common random numbers), two samples when they did not."""
    from matchmaker.models import SimulationRun
    from matchmaker.simulation.report import detectable_effects, differences

    engine = make_engine(settings.database_url)
    runs = {("baseline", 1): 10, ("baseline", 2): 12, ("baseline", 3): 14,
            ("auctions", 1): 11, ("auctions", 2): 14, ("auctions", 3): 14,     # differences 1, 2, 0
            ("fairs", 4): 11, ("fairs", 5): 13, ("fairs", 6): 15}               # other seeds: nothing to pair
    with Session(engine) as session, session.begin():
        for (scenario, seed), value in runs.items():
            session.add(SimulationRun(scenario=scenario, seed=seed, world_scale="demo", world_seed=1, months=12,
                                      version="t", levers={}, monthly=[], seconds=1.0, summary={"contracts": value}))
    with Session(engine) as session:
        (paired,) = detectable_effects(session, world_scale="demo", world_seed=1, months=12, scenarios={"auctions"})
        (independent,) = detectable_effects(session, world_scale="demo", world_seed=1, months=12, scenarios={"fairs"})
        versus = differences(session, world_scale="demo", world_seed=1, months=12, scenarios={"auctions", "fairs"})
    engine.dispose()
    # Paired: the differences' sd is 1 over 3 seeds (df 2): (t.975 + t.80) × 1/√3 = (4.303 + 1.061) × 0.577 = 3.10.
    assert (paired.figure, paired.seeds, paired.design) == ("contracts", 3, "paired")
    assert math.isclose(paired.effect, 3.0965 / 12, rel_tol=0.01)
    assert paired.seeds_for_target == 8   # the first n with (t.975 + t.80, df n-1) / √n ≤ 1.2
    # Independent: pooled sd 2, 3 seeds a side (df 4): (2.776 + 0.941) × 2 × √(2/3) = 6.07 of a mean of 12.
    assert independent.design == "independent"
    assert math.isclose(independent.effect, 6.070 / 12, rel_tol=0.01)
    assert 40 <= independent.seeds_for_target <= 50
    # The seed-by-seed difference: mean 1, t interval 1 ± 4.303 × 1/√3; fairs shares no seed with the baseline.
    difference = versus["auctions"]["contracts"]
    assert math.isclose(difference.mean, 1.0) and math.isclose(difference.high - difference.mean, 4.303 / 3 ** 0.5,
                                                                 rel_tol=0.01)
    assert "fairs" not in versus


def test_a_rate_interval_holds_its_mean():
    zeros = interval([0.0, 0.0, 0.0], rate=True)
    assert zeros.low <= zeros.mean <= zeros.high
    skewed = interval([0.0, 0.0, 0.9], rate=True)
    assert 0 <= skewed.low <= skewed.mean <= skewed.high <= 1


def test_a_runs_matcher_reads_the_records_dates_against_the_simulated_month(settings, tmp_path):
    """What is open to match is judged on the simulated calendar, not on the day the run is made: with the real date,
    a run made in December left out every record lapsing between July and then (2,343 of the province world's
    16,723 published achievements), and a sweep crossing midnight gave other figures for the same seeds."""
    from sqlalchemy import func, or_, select

    from matchmaker.models import Achievement
    from matchmaker.simulation.market import SIM_START, Market
    from matchmaker.simulation.runs import copy_world, world_file

    world = tmp_path / "run.db"
    copy_world(world_file(settings, "demo", 1), world)
    engine = make_engine(f"sqlite:///{world}")
    try:
        market = Market(engine, load_scenario("baseline"), 1, index_dir=tmp_path / "index", home_province=None)
        market.matching.start()
        with Session(engine) as session:
            open_then = session.scalar(select(func.count()).where(
                Achievement.status == "published",
                or_(Achievement.expires_on.is_(None), Achievement.expires_on >= SIM_START)))
        assert open_then > 0 and len(market.matching.matcher.achievement_index) == open_then
    finally:
        engine.dispose()
