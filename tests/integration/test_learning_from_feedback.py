"""Matches shown through the API (the impression log) and verdicts on them → `matchmaker learn-weights --apply` →
the matching service ranks with what was learned."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from matchmaker.config import Settings
from matchmaker.matching.service import MatchingService
from matchmaker.models import Demand, Organisation

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the rules live in Python


def test_verdicts_on_what_was_shown_teach_the_trl_strength_and_the_service_uses_it(api, seeded_url, tmp_path):
    from matchmaker.cli import app
    from matchmaker.db import make_session_factory

    with api.users.engine.connect() as conn:
        demands = conn.execute(select(Demand.id, Demand.min_trl).where(
            Demand.status == "published", Demand.min_trl.is_not(None)).order_by(Demand.id).limit(16)).all()
        agency = conn.scalar(select(Organisation.id).where(Organisation.kind == "agency").order_by(Organisation.id))
    broker = api.users.headers("broker", agency)
    # The broker's rule of thumb: among what the matcher showed, a result is relevant when it ranked in the top 10
    # and is at least as mature as the firm asked. Each pair is judged twice: the repeat replaces the first verdict.
    verdicts = 0
    for d in demands:
        shown = api.get(f"/demands/{d.id}/matches", params={"k": 20}, headers=broker)
        assert shown.status_code == 200
        for rank, item in enumerate(shown.json()["items"], 1):
            relevant = rank <= 10 and (item["trl"] is None or item["trl"] >= d.min_trl)
            verdict = {"demand_id": d.id, "achievement_id": item["id"], "relevant": relevant}
            if not relevant:
                verdict["reason"] = "too_early_stage"
            for _ in range(2):
                assert api.post("/feedback", json=verdict, headers=broker).status_code == 201
            verdicts += 1

    env = {"MATCHMAKER_DATABASE_URL": seeded_url, "MATCHMAKER_INDEX_DIR": str(tmp_path)}
    shown = CliRunner().invoke(app, ["learn-weights"], env=env)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.output[shown.output.index("{"):])
    assert report["examples"] == verdicts    # one per person and pair, not one per post
    assert report["learned"]["trl"] > 2 * report["current"]["trl"]
    assert report["cv_pair_accuracy_learned"] > report["cv_pair_accuracy_current"]
    assert not (tmp_path / "weights.json").exists()  # without --apply nothing changes

    applied = CliRunner().invoke(app, ["learn-weights", "--apply"], env=env)
    assert applied.exit_code == 0, applied.output
    service = MatchingService(Settings(database_url=seeded_url, index_dir=tmp_path),
                              make_session_factory(api.users.engine)).start()
    assert service.matcher.weights.trl == pytest.approx(report["learned"]["trl"], abs=1e-4)
    state = json.loads((tmp_path / "matcher" / "state.json").read_text())
    assert state["provenance"]["learned_from_feedback"]["examples"] == report["examples"]


def test_learning_without_enough_feedback_says_so_and_exits_1(seeded_url, tmp_path):
    from matchmaker.cli import app

    result = CliRunner().invoke(app, ["learn-weights", "--apply"],
                                env={"MATCHMAKER_DATABASE_URL": seeded_url, "MATCHMAKER_INDEX_DIR": str(tmp_path)})
    assert result.exit_code == 1 and "not learned" in result.output
    assert not (tmp_path / "weights.json").exists()
