"""Sweeps on Dask (issue 17): the same runs serially and on a local cluster of two worker processes give identical
figures; a run that fails is retried, reported, and the others' results are kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.config import Settings
from matchmaker.db import make_engine
from matchmaker.models import SimulationRun
from matchmaker.simulation.scenarios import Scenario, load_scenario
from matchmaker.simulation.sweep import sweep

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(simulation_settings) -> Settings:
    return simulation_settings


def _figures(result) -> dict:
    return {(r.scenario, r.seed): (r.summary, r.monthly) for r in result.runs}


def test_a_local_cluster_gives_the_serial_figures_and_a_failed_run_loses_nothing(settings):
    # Two months, so contracts are signed and the figures have something in them to differ on.
    scenarios = [load_scenario("baseline"), load_scenario("listed_trading")]
    serial = sweep(settings, scenarios, [1], months=2, scale="demo", world_seed=1)
    broken = Scenario("broken", "a scenario whose levers are missing", {"market": {}})
    seen = []
    parallel = sweep(settings, [*scenarios, broken], [1], months=2, scale="demo", world_seed=1, parallel=2,
                     done=lambda run, scenario, seed: seen.append((scenario, seed, run is not None)))
    assert len(serial.runs) == 2 and not serial.failed
    assert any(r.summary["funnel"]["claimed"]["count"] for r in serial.runs)
    assert _figures(parallel) == _figures(serial)
    assert [(s, n) for s, n, _ in parallel.failed] == [("broken", 1)]
    assert sorted(seen) == sorted([(s.name, 1, s.name != "broken") for s in [*scenarios, broken]])
    engine = make_engine(settings.database_url)
    with Session(engine) as session:   # every finished run was stored, the failed ones not
        stored = session.scalars(select(SimulationRun.scenario)).all()
    engine.dispose()
    assert sorted(stored) == sorted(["baseline", "listed_trading"] * 2)
