"""Metrics and run/qrels I/O on hand-computed tiny cases."""
import math

import pytest

from matchmaker.matching.evaluate import evaluate_run, per_demand, read_jsonl, read_qrels, read_run, write_run


def _one(ranked, judged, metric):
    return per_demand({"q": [(d, 1.0) for d in ranked]}, {"q": judged})["q"][metric]


def test_ndcg_hand_computed():
    judged = {"a": 4, "b": 2, "c": 1}
    # ranking b, x, a: DCG = 1/log2(2) + 0 + 3/log2(4) = 2.5 ; ideal a, b: 3 + 1/log2(3)
    assert _one(["b", "x", "a"], judged, "ndcg@10") == pytest.approx(2.5 / (3 + 1 / math.log2(3)))
    assert _one(["a", "b"], judged, "ndcg@10") == pytest.approx(1.0)
    assert _one([], judged, "ndcg@10") == 0.0
    assert _one(["a"], {"a": 1}, "ndcg@10") is None  # no gain anywhere: left out of the mean (0/0)


def test_ndcg_ideal_uses_all_judged_pairs_not_only_retrieved():
    judged = {f"r{i}": 4 for i in range(12)}
    ranked = [f"r{i}" for i in range(10)]
    assert _one(ranked, judged, "ndcg@10") == pytest.approx(1.0)
    assert _one(ranked[:5], judged, "ndcg@10") < 1.0


def test_recall_and_mrr_count_level_three_and_above():
    judged = {"a": 3, "b": 4, "c": 2}
    assert _one(["c", "a"], judged, "recall@10") == pytest.approx(0.5)
    assert _one(["c", "x", "b"], judged, "mrr@10") == pytest.approx(1 / 3)
    assert _one(["c"], judged, "mrr@10") == 0.0
    assert _one(["c"], {"c": 2}, "recall@10") is None
    assert _one(["c"], {"c": 2}, "mrr@10") is None


def test_only_top_ten_count():
    judged = {"z": 4}
    ranked = [f"x{i}" for i in range(10)] + ["z"]
    assert _one(ranked, judged, "recall@10") == 0.0
    assert _one(ranked, judged, "mrr@10") == 0.0
    assert _one(ranked, judged, "ndcg@10") == 0.0


def test_judged_share_and_condensed_ndcg():
    judged = {"a": 4, "b": 1}
    # x and y were never judged for this demand: 2 of 4 judged; condensed nDCG drops them, so a leads
    assert _one(["x", "y", "a", "b"], judged, "judged@10") == pytest.approx(0.5)
    assert _one(["x", "y", "a", "b"], judged, "condensed_ndcg@10") == pytest.approx(1.0)
    assert _one(["x", "y", "a", "b"], judged, "ndcg@10") == pytest.approx(1 / math.log2(4))


def test_run_order_is_kept_whatever_the_scores():
    # trec_eval sorts by score; evaluate must score the run's own order (ties were broken upstream, by id)
    r = per_demand({"q": [("b", 0.5), ("a", 0.5)]}, {"q": {"a": 4, "b": 1}})
    assert r["q"]["mrr@10"] == pytest.approx(0.5)


def test_evaluate_run_means_skip_demands_without_relevant():
    qrels = {"q1": {"a": 4}, "q2": {"b": 2}, "q3": {"c": 1}}
    run = {"q1": [("a", 1.0)], "q2": [("x", 1.0), ("b", 0.5)]}
    r = evaluate_run(run, qrels)
    assert r["ndcg@10"] == pytest.approx((1.0 + 1 / math.log2(3)) / 2)  # q3 has no gain: left out
    assert r["recall@10"] == pytest.approx(1.0)  # q2 and q3 left out
    assert r["mrr@10"] == pytest.approx(1.0)
    assert r["demands"] == 3
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


def test_structured_fields_are_read_through_the_import_schemas(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"id": "a1", "title": "锂电池", "trl": 6, "asking_price": "500000", "transfer_modes": ["licence"], '
        '"region": "210200", "field": "new_energy"}\n', encoding="utf-8")
    (a,) = read_jsonl(tmp_path / "a.jsonl", "achievements")
    assert a.fields == {"field_code": "new_energy", "trl": 6, "region_code": "210200", "asking_price": 500000.0,
                        "transfer_modes": frozenset({"licence"})}
    assert read_jsonl(tmp_path / "a.jsonl")[0].fields == {}   # without a library: text only
    (tmp_path / "d.jsonl").write_text('{"id": "d1", "title": "x", "min_trl": 12}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="d.jsonl:1"):
        read_jsonl(tmp_path / "d.jsonl", "demands")
