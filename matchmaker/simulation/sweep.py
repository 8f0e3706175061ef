"""Sweeps: many scenarios × seeds at once, on the cores of one machine or on a cluster, through Dask distributed.

One code path: the runs are tasks submitted to a Dask client — a LocalCluster of N single-threaded worker processes
for `--parallel N`, or the scheduler at `--cluster ADDRESS` — and a serial sweep runs the same task function in
this process. Dask was chosen over Ray because it installs from PyPI as plain Python (no native runtime), starts
a local cluster in about a second, and its scheduler retries a failed task (`retries`) while the others' results
stand. Each run is a pure function of (world, scenario, seed, months): it simulates on its own copy of the world and
returns its figures as plain data; the driver stores each as it completes, so a sweep that fails half-way keeps
what finished. The world is made once by the driver before any task starts; workers on other hosts make their
own copy of it (the generator is deterministic).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from matchmaker.config import Settings
from matchmaker.models import SimulationRun
from matchmaker.simulation.runs import simulate, store_run, world_file
from matchmaker.simulation.scenarios import Scenario

RETRIES = 2   # a task that fails (a worker lost, a disk hiccup) is run again up to twice


@dataclass
class SweepResult:
    runs: list[SimulationRun] = field(default_factory=list)
    failed: list[tuple[str, int, str]] = field(default_factory=list)   # (scenario, seed, error)


def run_one(settings: Settings, scenario: Scenario, seed: int, months: int, scale: str, world_seed: int) -> dict:
    """The task: one run, its figures as plain data (the database copy is not kept)."""
    return simulate(settings, scenario, seed=seed, months=months, scale=scale, world_seed=world_seed,
                    keep_database=False)


def sweep(settings: Settings, scenarios: list[Scenario], seeds: list[int], *, months: int, scale: str,
          world_seed: int, parallel: int = 1, cluster: str | None = None,
          done: Callable[[SimulationRun | None, str, int], None] | None = None) -> SweepResult:
    """Every (scenario, seed) run, stored as it completes; `done(run or None, scenario, seed)` after each."""
    world_file(settings, scale, world_seed)
    result = SweepResult()
    tasks = [(scenario, seed) for scenario in scenarios for seed in seeds]

    def finish(scenario: Scenario, seed: int, columns: dict | None, error: BaseException | None) -> None:
        run = store_run(settings, columns) if columns is not None else None
        if run is not None:
            result.runs.append(run)
        else:
            result.failed.append((scenario.name, seed, f"{type(error).__name__}: {error}"))
        if done:
            done(run, scenario.name, seed)

    if parallel <= 1 and cluster is None:
        for scenario, seed in tasks:
            try:
                columns = run_one(settings, scenario, seed, months, scale, world_seed)
            except Exception as error:  # noqa: BLE001 — a failed run is reported, the sweep goes on
                finish(scenario, seed, None, error)
            else:
                finish(scenario, seed, columns, None)
        return result

    from distributed import as_completed

    with _client(parallel, cluster) as client:
        futures = {client.submit(run_one, settings, scenario, seed, months, scale, world_seed, retries=RETRIES,
                                 pure=False, key=f"run-{scenario.name}-{seed}-{months}-{scale}{world_seed}"):
                   (scenario, seed) for scenario, seed in tasks}
        for future in as_completed(futures):
            scenario, seed = futures[future]
            try:
                columns = future.result()
            except Exception as error:  # noqa: BLE001 — after its retries; the other runs stand
                finish(scenario, seed, None, error)
            else:
                finish(scenario, seed, columns, None)
    return result


@contextmanager
def _client(parallel: int, cluster: str | None):
    from distributed import Client, LocalCluster

    if cluster is not None:
        with Client(cluster) as client:
            yield client
        return
    # One thread per worker process: a run is CPU-bound Python, so threads would only share one GIL.
    with LocalCluster(n_workers=parallel, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            Client(local) as client:
        yield client
