"""Validation of the simulated market against published figures (issue 17): contract sizes, the local rate at the
level each figure is at, and deals per agency. Backs world.postings.BUDGET_SIGMA and the [contracts] levers.

    python -m benchmarks.calibration.contract_sizes --scale demo --seeds 1,2,3 --months 12

Targets (docs/simulation.md, "Calibration", says where each comes from):
- Contracts whose seller is not a firm (universities, institutes, others): 2020 H1 national 快报 (科技日报,
  2020-08-21): 136,434 contracts, 7,707.2 亿元; firms output 94,243 of them and 89.5% of the amount, so the other
  42,191 contracts carry 10.5% = 809.3 亿元: a mean of 1.92 million yuan. The platform's sellers are universities and
  institutes, so this, not the national mean, is the size to meet.
- All contracts, 2023 (issue 17): about 950,000 contracts for 6.15 trillion yuan, a mean near 6.5 million: firms'
  own large contracts, shown for context.
- 哈尔滨 科技大市场 (seed 004): 39 agencies, 30 deals for 2.5 亿元 in 2023: 0.77 deals per agency, 8.3 million each.
- 大连 科技成果本地转化率 42% (seed 001): a city's rate, set beside the simulated Dalian-seller contracts with a
  Dalian buyer and the province-level reading.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks.common import scratch_settings
from matchmaker import migrate
from matchmaker.db import make_engine
from matchmaker.models import Achievement, Contract, Organisation
from matchmaker.simulation.runs import simulate, world_file
from matchmaker.simulation.scenarios import load_scenario

NON_FIRM_SELLER_MEAN = 809.3e8 / 42_191     # yuan, 2020 H1 快报
NATIONAL_MEAN_2023 = 6.15e12 / 950_000
HARBIN_MEAN, HARBIN_PER_AGENCY = 2.5e8 / 30, 30 / 39
DALIAN_LOCAL = 0.42
DALIAN = "2102"


def one_run(folder: str, scale: str, seed: int, months: int) -> dict:
    settings = scratch_settings(folder)
    run = simulate(settings, load_scenario("baseline"), seed=seed, months=months, scale=scale, world_seed=1)
    engine = make_engine(f"sqlite:///{run['database_path']}")
    with Session(engine) as session:
        contracts = session.execute(select(Contract.amount, Contract.contract_type, Contract.seller_region_code,
                                           Contract.buyer_region_code, Contract.licence_scope,
                                           Achievement.status)
                                    .join(Achievement, Achievement.id == Contract.achievement_id)).all()
        agencies = session.scalar(select(func.count()).select_from(Organisation).where(Organisation.kind == "agency"))
    engine.dispose()
    Path(run["database_path"]).unlink(missing_ok=True)
    return {"seed": seed, "home": run["summary"]["home_province"], "agencies": agencies,
            "contracts": [(Decimal(a), t, s or "", b or "", scope, status) for a, t, s, b, scope, status in contracts]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        settings = scratch_settings(folder)
        migrate.upgrade(settings.database_url)
        world_file(settings, args.scale, 1)  # once
        with ProcessPoolExecutor(args.parallel) as pool:
            runs = list(pool.map(one_run, [folder] * len(seeds), [args.scale] * len(seeds), seeds,
                                 [args.months] * len(seeds)))
    rows = [c for r in runs for c in r["contracts"]]
    amounts = [float(c[0]) for c in rows]
    home = runs[0]["home"][:2]
    print(f"baseline, {args.scale} world, {args.months} months, seeds {args.seeds}: {len(rows)} contracts; "
          f"{time.perf_counter() - started:.0f}s\n")
    print("## Contract sizes (yuan)\n")
    print("| | simulated | target | source |\n|---|---:|---:|---|")
    per_seed = [statistics.fmean([float(c[0]) for c in r["contracts"]]) for r in runs if r["contracts"]]
    spread = f" (seeds {min(per_seed):,.0f}–{max(per_seed):,.0f})" if len(per_seed) > 1 else ""
    print(f"| mean | {statistics.fmean(amounts):,.0f}{spread} | {NON_FIRM_SELLER_MEAN:,.0f} | sellers not firms, 2020 H1 快报 |")
    print(f"| median | {statistics.median(amounts):,.0f} | ≈ 400,000 | assumption (no published median) |")
    print(f"| mean, all sellers | | {NATIONAL_MEAN_2023:,.0f} | national 2023 (firms' contracts included) |")
    print(f"| mean, 哈尔滨 科技大市场 | | {HARBIN_MEAN:,.0f} | seed 004 (30 deals) |")
    print("\n| contract type | contracts | share | mean amount |\n|---|---:|---:|---:|")
    for kind in ("development", "transfer", "licence", "consulting", "service"):
        of = [float(c[0]) for c in rows if c[1] == kind]
        if of:
            print(f"| {kind} | {len(of)} | {len(of) / len(rows):.1%} | {statistics.fmean(of):,.0f} |")
    deciles = statistics.quantiles(amounts, n=10)
    print("\ndeciles: " + ", ".join(f"{d:,.0f}" for d in deciles))
    print("\n## Contracts that behave like real ones\n")
    transfers = [c for c in rows if c[1] == "transfer" or c[4] == "exclusive"]
    print(f"- transfers and exclusive licences whose achievement is off offer: "
          f"{sum(c[5] == 'transferred' for c in transfers)}/{len(transfers)}")
    licences = [c for c in rows if c[1] == "licence"]
    scopes = {s: sum(c[4] == s for c in licences) for s in ("exclusive", "sole", "ordinary")}
    print(f"- licence scopes: {scopes}")
    print("\n## Where the money stays\n")
    dalian = [c for c in rows if c[2].startswith(DALIAN)]
    in_city = sum(c[3].startswith(DALIAN) for c in dalian)
    provincial = [c for c in rows if c[2][:2] == home]
    in_province = sum(c[3][:2] == home for c in provincial)
    agencies = statistics.fmean(r["agencies"] for r in runs)
    yearly = len(rows) / len(runs) * 12 / args.months
    print("| figure | simulated | seed figure |\n|---|---:|---:|")
    print(f"| Dalian sellers' contracts with a Dalian buyer (city level) | {in_city}/{len(dalian)} = "
          f"{in_city / max(len(dalian), 1):.1%} | 42% (大连, seed 001) |")
    print(f"| home-province sellers' contracts with a home-province buyer | {in_province}/{len(provincial)} = "
          f"{in_province / max(len(provincial), 1):.1%} | (the 42% read at province level) |")
    print(f"| deals per agency per year | {yearly / agencies:.2f} ({yearly:.0f} / {agencies:.0f} agencies) | "
          f"{HARBIN_PER_AGENCY:.2f} (哈尔滨 科技大市场, seed 004) |")


if __name__ == "__main__":
    main()
