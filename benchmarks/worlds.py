"""A generated world in a throwaway SQLite file, loaded as the matcher's documents and latent truth."""

from __future__ import annotations

import tempfile
from pathlib import Path

from matchmaker import migrate
from matchmaker.db import make_engine
from matchmaker.matching.world_eval import WorldData, load_world
from matchmaker.reference import sync_reference_data
from matchmaker.simulation.world import generate_world


def generated_world(scale: str, seed: int, max_demands: int) -> WorldData:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'world.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        sync_reference_data(engine)
        generate_world(engine, scale=scale, seed=seed)
        world = load_world(engine, max_demands=max_demands)
        engine.dispose()
    return world
