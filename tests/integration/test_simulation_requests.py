"""Simulations launched from the analyst pages (issue 17): the analyst picks scenarios, seeds and months; the job
worker claims the request and runs the sweep; the page shows the progress and then the runs to compare."""

from __future__ import annotations

import re

import pytest
from page_client import log_in, token
from sqlalchemy import select

from matchmaker.config import Settings
from matchmaker.db import transaction
from matchmaker.models import SimulationRequest, SimulationRun
from matchmaker.simulation.requests import run_requested

pytestmark = pytest.mark.slow


def test_an_analyst_launches_a_sweep_and_sees_it_run(pages, tmp_path):
    log_in(pages, "demo_firm")
    refused = pages.post("/web/simulations/requests", data={
        "scenario_baseline": "on", "seeds": "1", "months": "1", "scale": "demo",
        "_csrf_token": token(pages, "/web/firm")}, follow_redirects=True)
    assert "只有科技管理部门的分析人员可以运行政策模拟" in refused.text

    log_in(pages, "demo_analyst")
    page = pages.get("/web/simulations").text
    assert "运行新的模拟" in page and "还没有模拟任务" in page
    wrong = pages.post("/web/simulations/requests", data={
        "seeds": "2", "months": "1", "scale": "demo", "_csrf_token": token(pages, "/web/simulations")},
        follow_redirects=True)
    assert "请至少选择一个政策情景" in wrong.text
    asked = pages.post("/web/simulations/requests", data={
        "scenario_baseline": "on", "scenario_listed_trading": "on", "seeds": "1", "months": "1", "scale": "demo",
        "_csrf_token": token(pages, "/web/simulations")}, follow_redirects=True)
    assert "模拟已排队：共 2 次运行" in asked.text, re.findall(r"未完成[^<]*", asked.text)
    assert "排队中" in pages.get("/web/simulations/requests").text

    # The worker's job, as `matchmaker worker` runs it (the page's own worker is not started in tests).
    url = str(pages.factory.kw["bind"].url.render_as_string(hide_password=False))
    assert run_requested(Settings(database_url=url, index_dir=tmp_path / "var" / "index"), pages.factory) == 1
    with transaction(pages.factory) as session:
        request = session.scalar(select(SimulationRequest))
        assert (request.status, request.done_runs, request.total_runs) == ("done", 2, 2)
        assert sorted(session.scalars(select(SimulationRun.scenario))) == ["baseline", "listed_trading"]
    progress = pages.get("/web/simulations/requests").text
    assert "已完成 2 次运行" in progress and "hx-trigger" not in progress   # nothing left to poll for
    assert "挂牌交易" in pages.get("/web/simulations").text


def test_a_poll_between_the_post_and_its_page_leaves_the_note_for_the_page(pages):
    """A page that polls a fragment (the sweep's progress, an auction's board every second) must not eat the note
    a form left for the next page: a poll landing between the POST and the page after its redirect took it (a
    bidder under load saw no "出价已接受")."""
    log_in(pages, "demo_analyst")
    asked = pages.post("/web/simulations/requests", data={
        "scenario_baseline": "on", "seeds": "1", "months": "1", "scale": "demo",
        "_csrf_token": token(pages, "/web/simulations")}, follow_redirects=False)
    assert asked.status_code == 303
    assert "排队中" in pages.get("/web/simulations/requests").text   # the poll
    assert "模拟已排队：共 1 次运行" in pages.get(asked.headers["location"]).text
