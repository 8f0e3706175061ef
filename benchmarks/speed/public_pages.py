"""Server time of the public storefront pages (no login) on the province world, next to the authenticated JSON
listing in the same run; issue 14's target is a p95 of at most 100 ms.

    python -m benchmarks.speed.public_pages [--requests 40] [--warmup 3]

Generates the province world (seed 1: 20,000 achievements, 5,000 demands) into a temporary SQLite file with a few
signed contracts (benchmarks.speed.page_speed.prepare), then times each page with Litestar's TestClient in one
process. The home page's headline figures are cached for five minutes (web/storefront.py) and the sitemap for ten
(web/setup.py); the rows "recomputed" / "rebuilt" clear those caches before every request, so they show the cost a
visitor pays once per period.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import select

from benchmarks.speed.page_speed import p95, prepare, timed
from matchmaker.app import create_app
from matchmaker.config import Settings
from matchmaker.db import make_engine
from matchmaker.models import Achievement, Demand
from matchmaker.web import storefront

TARGET_MS = 100


def public_paths(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        achievement = conn.scalar(select(Achievement.id).where(Achievement.status == "published").order_by(Achievement.id))
        demand = conn.scalar(select(Demand.id).where(Demand.status == "published").order_by(Demand.id))
        owner = conn.scalar(select(Achievement.organisation_id).where(Achievement.id == achievement))
    engine.dispose()
    return [("home (storefront)", "/web/"),
            ("achievements, first page", "/web/market/achievements"),
            ("achievements, keyword 材料", "/web/market/achievements?q=%E6%9D%90%E6%96%99"),
            ("achievements, field + region + TRL", "/web/market/achievements?field=new_materials&region=210000&trl_min=3&trl_max=7"),
            ("achievements, page 50", "/web/market/achievements?page=50"),
            ("demands, first page", "/web/market/demands"),
            ("challenges", "/web/market/challenges"),
            ("one achievement", f"/web/market/achievements/{achievement}"),
            ("one demand", f"/web/market/demands/{demand}"),
            ("organisation page", f"/web/market/organisations/{owner}"),
            ("sitemap.xml (25,000 URLs, cached)", "/sitemap.xml")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mm-public-pages-"))
    url, _users, ids = prepare(folder)
    app = create_app(Settings(database_url=url, index_dir=folder / "index", secret_key="public-pages-benchmark",
                              semantic=False))
    rows = []
    with TestClient(app) as client:
        times = timed(client, "/achievements?limit=20", args.requests, args.warmup,
                      headers={"Authorization": f"Bearer {ids['token']}"})
        rows.append(("baseline: JSON `GET /achievements?limit=20` (logged in)", statistics.median(times), p95(times)))
        for name, path in public_paths(url):
            times = timed(client, path, args.requests, args.warmup)
            rows.append((f"{name} `{path.split('?')[0]}`", statistics.median(times), p95(times)))
            print(f"{name}: median {statistics.median(times):.1f} ms", file=sys.stderr)
        cold = []
        for _ in range(args.requests):
            storefront._figures.clear()   # noqa: SLF001 - the benchmark measures the uncached figures on purpose
            cold += timed(client, "/web/", 1, 0)
        rows.append(("home, figures recomputed every request `/web/`", statistics.median(cold), p95(cold)))
        cold = []
        for _ in range(max(5, args.requests // 4)):
            client.app.state.sitemap = None   # the sitemap is cached ten minutes too; this is its build
            cold += timed(client, "/sitemap.xml", 1, 0)
        rows.append(("sitemap.xml rebuilt every request `/sitemap.xml`", statistics.median(cold), p95(cold)))
    lines = [f"| page | median ms | p95 ms | p95 ≤ {TARGET_MS} ms |", "|---|---:|---:|:---:|"]
    lines += [f"| {name} | {median:.1f} | {high:.1f} | {'yes' if high <= TARGET_MS else '**no**'} |"
              for name, median, high in rows]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
