"""Metrics and run/qrels I/O on hand-computed tiny cases."""
import math

import pytest

from matchmaker.matching.evaluate import (
    evaluate_run, mrr_at_10, ndcg_at_10, read_jsonl, read_qrels, read_run, recall_at_10, write_run,
)


def test_ndcg_hand_computed():
    judged = {"a": 4, "b": 2, "c": 1}
    # ranking b, x, a: DCG = 1/log2(2) + 0 + 3/log2(4) = 2.5 ; ideal a, b: 3 + 1/log2(3)
    assert ndcg_at_10(["b", "x", "a"], judged) == pytest.approx(2.5 / (3 + 1 / math.log2(3)))
    assert ndcg_at_10(["a", "b"], judged) == pytest.approx(1.0)
    assert ndcg_at_10([], judged) == 0.0
    assert ndcg_at_10(["a"], {"a": 1}) == 0.0  # no gain anywhere


def test_ndcg_ideal_uses_all_judged_pairs_not_only_retrieved():
    judged = {f"r{i}": 4 for i in range(12)}
    ranked = [f"r{i}" for i in range(10)]
    assert ndcg_at_10(ranked, judged) == pytest.approx(1.0)
    assert ndcg_at_10(ranked[:5], judged) < 1.0


def test_recall_and_mrr_count_level_three_and_above():
    judged = {"a": 3, "b": 4, "c": 2}
    assert recall_at_10(["c", "a"], judged) == pytest.approx(0.5)
    assert mrr_at_10(["c", "x", "b"], judged) == pytest.approx(1 / 3)
    assert mrr_at_10(["c"], judged) == 0.0
    assert recall_at_10(["c"], {"c": 2}) is None
    assert mrr_at_10(["c"], {"c": 2}) is None


def test_only_top_ten_count():
    judged = {"z": 4}
    ranked = [f"x{i}" for i in range(10)] + ["z"]
    assert recall_at_10(ranked, judged) == 0.0
    assert mrr_at_10(ranked, judged) == 0.0
    assert ndcg_at_10(ranked, judged) == 0.0


def test_evaluate_run_means_skip_demands_without_relevant():
    qrels = {"q1": {"a": 4}, "q2": {"b": 2}}
    run = {"q1": [("a", 1.0)], "q2": [("x", 1.0), ("b", 0.5)]}
    r = evaluate_run(run, qrels)
    assert r["ndcg@10"] == pytest.approx((1.0 + 1 / math.log2(3)) / 2)
    assert r["recall@10"] == pytest.approx(1.0)  # q2 left out
    assert r["mrr@10"] == pytest.approx(1.0)
    assert r["demands"] == 2
    assert evaluate_run({}, qrels)["ndcg@10"] == 0.0  # missing demands score as empty rankings


def test_io_round_trip(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "1", "title": "锂电池"}\n\n{"id": 2, "description": null}\n', encoding="utf-8")
    records = read_jsonl(tmp_path / "a.jsonl")
    assert [(r.id, r.title, r.body) for r in records] == [("1", "锂电池", ""), ("2", "", "")]
    (tmp_path / "q.tsv").write_text("q1\ta\t3\nq1\tb\t1\n", encoding="utf-8")
    assert read_qrels(tmp_path / "q.tsv") == {"q1": {"a": 3, "b": 1}}
    run = {"q1": [("a", 0.9), ("b", 0.5)]}
    write_run(run, tmp_path / "run.tsv")
    assert (tmp_path / "run.tsv").read_text().splitlines()[0] == "q1 Q0 a 1 0.900000 matchmaker"
    assert read_run(tmp_path / "run.tsv") == run


def test_read_jsonl_requires_id(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"title": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="without an id"):
        read_jsonl(tmp_path / "bad.jsonl")
