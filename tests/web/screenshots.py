"""Screenshots of each main page for docs/screenshots/ (run: python tests/web/screenshots.py).

Builds a demo world with a year of simulated market activity (so the dashboard, board and contracts have
rows), four stored simulation runs, the demo users and a few deals of the demo broker, then drives
headless Chromium through the pages of every role.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))
from web_world import CHROMIUM, CHROMIUM_ARGS, login, running_server

from matchmaker import migrate
from matchmaker.brokerage.pipelines import claim_pipeline, move_pipeline
from matchmaker.config import Settings
from matchmaker.db import make_engine, make_session_factory, transaction
from matchmaker.identity.services import actor_of
from matchmaker.matching.service import MatchingService
from matchmaker.models import Demand, SimulationRun, User
from matchmaker.simulation.runs import run_scenario
from matchmaker.simulation.scenarios import load_scenario
from matchmaker.identity.demo import ensure_demo_users

OUT = Path(__file__).parents[2] / "docs" / "screenshots"
RUNS = [("baseline", 1), ("local_incentive", 1), ("baseline", 2), ("local_incentive", 2)]


def build_site(folder: Path) -> tuple[str, dict]:
    main_url = f"sqlite:///{folder / 'runs.db'}"
    migrate.upgrade(main_url)
    settings = Settings(database_url=main_url, index_dir=folder / "var" / "index", secret_key="screens")
    first = None
    for name, seed in RUNS:
        run = run_scenario(settings, load_scenario(name), seed=seed, months=12, scale="demo", world_seed=1,
                           keep_database=first is None)
        first = first or run
    site = folder / "site.db"
    shutil.copy(first.database_path, site)
    url = f"sqlite:///{site}"
    migrate.upgrade(url)
    main, served = make_engine(main_url), make_engine(url)
    with Session(main) as source, transaction(make_session_factory(served)) as target:
        for run in source.scalars(select(SimulationRun).order_by(SimulationRun.id)):
            source.expunge(run)
            run.id = None
            target.merge(run)
    with transaction(make_session_factory(served)) as session:
        users = {login_name.removeprefix("demo_"): (login_name, password) for _role, login_name, password, _ in ensure_demo_users(session)}
    _broker_deals(url, folder)
    main.dispose()
    served.dispose()
    return url, users


def _broker_deals(url: str, folder: Path) -> None:
    """The demo broker claims the best matches of six open demands and moves some along."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    matching = MatchingService(Settings(database_url=url, index_dir=folder / "shots-index"), factory).start()
    with transaction(factory) as session:
        broker = actor_of(session, session.scalar(select(User.id).where(User.login == "demo_broker")))
        today = dt.date.today()
        demands = session.scalars(select(Demand).where(Demand.status == "published", (Demand.deadline.is_(None))
                                                       | (Demand.deadline > today)).order_by(Demand.id.desc()).limit(30))
        claimed = 0
        for demand in demands:
            for match in matching.achievements_for(demand, k=5):
                try:
                    with session.begin_nested():
                        pipeline = claim_pipeline(session, actor=broker, demand_id=demand.id,
                                                  achievement_id=match.id, score=match.score)
                except Exception:  # noqa: BLE001 - taken by a simulated broker: try the next match
                    continue
                for stage in ("contacted", "negotiating")[: claimed % 3]:
                    move_pipeline(session, actor=broker, pipeline_id=pipeline.id, to_stage=stage)
                claimed += 1
                break
            if claimed >= 7:
                break
    engine.dispose()


def shoot(base: str, users: dict) -> list[str]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    taken = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def as_role(role):
            page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860}).new_page()
            login(page, base, users[role])
            return page

        def save(page, name, full=False, height=None):
            if height:  # the top of a long page: enough to show it, small enough for the docs (< 300 KB)
                page.screenshot(path=str(OUT / f"{name}.png"), clip={"x": 0, "y": 0, "width": 1280, "height": height},
                                full_page=True)
            else:
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
            taken.append(name)

        firm = as_role("firm")
        firm.goto(f"{base}/web/demands/new")
        firm.get_by_label("需求名称").fill("动力电池正极材料循环寿命提升")
        firm.get_by_label("拟解决的技术难题").fill("高镍正极材料在高温循环中容量衰减快，需要改进包覆工艺和掺杂配方。")
        firm.get_by_label("预算下限（元）").fill("五十万")
        firm.get_by_label("预算上限（元）").fill("300000")
        firm.get_by_role("button", name="保存并提交审核").click()
        firm.locator("#form-problems a").first.click()  # the summary's link takes the focus to the field
        save(firm, "firm-demand-form-errors")
        firm.get_by_label("预算下限（元）").fill("200000")
        firm.get_by_label("技术领域").select_option("new_energy")
        firm.get_by_label("以“揭榜挂帅”方式发布（张榜招贤，谁能解决谁揭榜）").check()
        firm.get_by_label("悬赏金额（元）").fill("500000")
        firm.get_by_role("button", name="保存并提交审核").click()
        demand_url = firm.url

        analyst = as_role("analyst")
        analyst.goto(f"{base}/web/review?library=demands&order=newest")
        save(analyst, "analyst-review-queue")
        analyst.locator("article.review-item").first.get_by_role("button", name="通过并发布").click()
        analyst.goto(f"{base}/web/analyst")
        save(analyst, "analyst-dashboard", full=True)
        analyst.goto(f"{base}/web/simulations")
        save(analyst, "analyst-simulation-runs", full=True)
        analyst.goto(f"{base}/web/search?library=achievements&q=%E7%94%B5%E6%B1%A0&region=210000")
        save(analyst, "search")

        firm.goto(demand_url)
        firm.locator("details.explanation").first.locator("summary").click()
        save(firm, "firm-demand-matches", height=1500)

        office = as_role("office")
        office.goto(f"{base}/web/office")
        save(office, "office-home")
        office.locator("table.list a").first.click()
        office.locator("details.explanation").first.locator("summary").click()
        save(office, "office-achievement-matches")

        broker = as_role("broker")
        broker.goto(f"{base}/web/broker/queue")
        broker.locator("details.explanation").first.locator("summary").click()
        save(broker, "broker-queue")
        broker.goto(f"{base}/web/pipelines")
        save(broker, "broker-pipeline-board")
        broker.get_by_role("link", name="签约并登记合同").first.click()
        broker.get_by_label("合同成交额（元）").fill("1200000")
        broker.get_by_label("核定技术交易额（元）").fill("1000000")
        broker.get_by_label("支付方式").select_option("use_first_pay_later")
        broker.get_by_role("button", name="签约并登记").click()  # no trial end date: refused next to the field
        save(broker, "broker-contract-form", full=True)
        broker.get_by_label("试用期截止日期").fill((dt.date.today() + dt.timedelta(days=90)).isoformat())
        broker.get_by_role("button", name="签约并登记").click()
        save(broker, "broker-contract")
        browser.close()
    return taken


def main() -> None:
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    folder = Path(tempfile.mkdtemp(prefix="mm-screens-"))
    url, users = build_site(folder)
    with running_server(url, folder) as server:
        names = shoot(server.base_url, users)
    for name in names:
        size = (OUT / f"{name}.png").stat().st_size
        print(f"docs/screenshots/{name}.png  {size // 1024} KB")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
