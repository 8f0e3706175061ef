"""Unit tests for the TextIndex search engine on tiny hand-made achievement texts."""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from matchmaker.matching.index import IndexVersionError, TextIndex
from matchmaker.matching.text_model import TextModel

DOCS = [
    ("a1", "锂离子电池正极材料", "高镍三元正极材料制备工艺，提高锂离子电池能量密度。"),
    ("a2", "固态电池电解质", "硫化物固态电解质，用于固态锂电池，安全性高。"),
    ("a3", "污水处理膜分离技术", "反渗透膜分离用于工业污水处理与中水回用。"),
    ("a4", "工业机器人视觉检测", "基于深度学习的机器视觉检测系统，用于工业机器人分拣。"),
    ("a5", "石墨烯导热膜", "石墨烯复合材料导热膜，用于电子器件散热。"),
    ("a6", "钠离子电池负极", "硬碳负极材料，用于钠离子电池储能。"),
]
FIELD = np.array([1, 1, 2, 3, 4, 1])
REGION = np.array(["330106", "320500", "330200", "440300", "110108", "330782"])
TRL = np.array([5.0, 7.0, 4.0, 8.0, 6.0, 3.0])


def make_index(**params) -> TextIndex:
    ids, titles, bodies = zip(*DOCS)
    return TextIndex(TextModel(), **params).fit(list(ids), titles, bodies,
                                                {"field": FIELD, "region": REGION, "trl": TRL})


def ids_of(results):
    return [doc_id for doc_id, _ in results]


def test_top_k_order_best_first():
    index = make_index()
    results = index.search("锂电池正极材料", "需要高镍正极材料提高电池能量密度", k=3)
    assert ids_of(results)[0] == "a1"
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    assert len(results) <= 3


def test_scores_equal_dot_product_even_with_pruned_postings():
    # posting_cap=1 truncates nearly every posting list; returned scores must still be exact. whole_segment=0: candidates
    # are generated even in a segment this small (which is otherwise scored whole).
    index = make_index(posting_cap=1, candidates=2, whole_segment=0)
    q = index.query_vector("电池材料", "钠离子电池负极材料")
    for doc_id, score in index.search_vector(q, k=3):
        assert score == pytest.approx(sum(w for _, w in index.explain(q, doc_id, top=10_000)), rel=1e-5)
    exact = index.search_vector(q, k=3, exact=True)
    assert ids_of(exact)[0] == "a6"


def test_mask_filters_by_attribute():
    index = make_index()
    only_field_1 = index.mask_equal("field", 1)
    results = index.search("电池", "电池材料", k=10, mask=only_field_1)
    assert results and set(ids_of(results)) <= {"a1", "a2", "a6"}
    zhejiang = index.mask_prefix("region", "33")
    assert set(np.asarray(index.ids())[zhejiang]) == {"a1", "a3", "a6"}
    mature = index.mask_range("trl", low=6)
    assert set(np.asarray(index.ids())[mature]) == {"a2", "a4", "a5"}
    assert index.search("电池", "电池", k=10, mask=zhejiang & mature) == []


def test_mask_prefix_on_integer_codes_and_mask_length_checks():
    index = make_index()
    index.add("a7", "电池回收", "动力电池回收", region=330102)
    with pytest.raises(ValueError):
        index.search("电池", "", mask=np.ones(index.n_rows + 1, dtype=bool))
    short = np.ones(index.n_rows - 1, dtype=bool)  # built before the last add: new rows excluded
    assert "a7" not in ids_of(index.search("电池回收", "", mask=short))


def test_add_is_searchable_immediately_and_attributes_follow():
    index = make_index()
    index.add("a7", "氢燃料电池催化剂", "低铂催化剂用于质子交换膜氢燃料电池。", field=5, region="310000", trl=4.0)
    assert ids_of(index.search("氢燃料电池", "催化剂", k=1)) == ["a7"]
    assert index.attribute("field")[index.row_of("a7")] == 5
    assert index.mask_prefix("region", "31").sum() == 1
    assert len(index) == 7


def test_add_existing_id_replaces_the_record():
    index = make_index()
    index.add("a3", "航空发动机叶片", "高温合金叶片精密铸造。")
    assert "a3" not in ids_of(index.search("污水处理", "膜分离", k=10))
    assert ids_of(index.search("航空发动机", "叶片", k=1)) == ["a3"]
    assert len(index) == len(DOCS)


def test_add_many_equals_adding_one_by_one():
    """The batch path (one vectorising call, the counting kernel's at 32 texts or more) indexes exactly what
    `add` does record by record: same scores for every query, same attributes, a replaced id replaced."""
    words = ["锂电池", "正极材料", "污水处理", "膜分离", "机器视觉", "石墨烯", "导热", "钠离子", "储能", "催化剂"]
    new = [(f"n{i}", f"{words[i % 10]}{words[(i * 3) % 10]}技术", f"用于{words[(i * 7) % 10]}的{words[i % 10]}方法。")
           for i in range(40)] + [("a3", "航空发动机叶片", "高温合金叶片精密铸造。")]
    fields = [i % 5 for i in range(len(new))]
    one_by_one, batched = make_index(), make_index()
    for (doc_id, title, body), field in zip(new, fields):
        one_by_one.add(doc_id, title, body, field=field)
    batched.add_many([d for d, _, _ in new], [t for _, t, _ in new], [b for _, _, b in new], {"field": fields})
    assert len(batched) == len(one_by_one) == len(DOCS) + 40
    for title, body in [("锂电池正极材料", "储能"), ("污水处理", "膜分离"), ("航空发动机", "叶片"), ("石墨烯", "")]:
        expected, got = one_by_one.search(title, body, k=20), batched.search(title, body, k=20)
        assert ids_of(got) == ids_of(expected)
        assert np.allclose([s for _, s in got], [s for _, s in expected])
    for doc_id, _, _ in new:
        assert batched.attribute("field")[batched.row_of(doc_id)] == one_by_one.attribute("field")[one_by_one.row_of(doc_id)]
    assert "a3" not in ids_of(batched.search("污水处理", "膜分离", k=50))


def test_remove_is_never_returned():
    index = make_index()
    assert index.remove("a1") is True
    assert index.remove("a1") is False
    assert index.remove("no-such-id") is False
    assert "a1" not in ids_of(index.search("锂离子电池正极材料", "高镍三元正极材料", k=10))
    assert len(index) == len(DOCS) - 1


def test_delta_sealing_and_segment_merging_match_exhaustive_search():
    index = make_index(delta_limit=2)
    for i in range(9):
        index.add(f"n{i}", f"电池材料{i}号", "正极材料与负极材料" * (i + 1))
    assert len(index._segments) >= 2
    q = index.query_vector("电池", "负极材料")
    assert index.search_vector(q, k=5) == index.search_vector(q, k=5, exact=True)


def test_a_small_segment_scored_whole_gives_the_exact_top_k_where_pruned_candidates_miss():
    whole, pruned = make_index(posting_cap=1, candidates=1), make_index(posting_cap=1, candidates=1, whole_segment=0)
    q = whole.query_vector("电池材料", "锂电池与钠离子电池的负极材料和正极材料")
    exact = whole.search_vector(q, k=4, exact=True)
    assert whole.search_vector(q, k=4) == exact
    assert pruned.search_vector(q, k=4) != exact   # what the whole scoring saves a small library from


def test_a_segment_scored_whole_from_its_columns_equals_the_mat_vec_to_the_bit():
    # Ranking ties and the simulator's figures depend on the last bit: the columns must add each row's products in
    # the mat-vec's order (terms ascending); in the query's weight order the float32 sums differ.
    import scipy.sparse as sp

    from matchmaker.matching.index_segments import seal

    rng = np.random.default_rng(3)
    matrix = sp.random(400, 600, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    segment = seal(0, matrix)
    terms = np.sort(rng.choice(600, 150, replace=False))
    weights = rng.random(150, dtype=np.float32)
    dense = np.zeros(600, dtype=np.float32)
    dense[terms] = weights
    assert np.array_equal(segment.all_scores(terms, weights), matrix @ dense)
    shuffled = rng.permutation(150)
    assert not np.array_equal(segment.all_scores(terms[shuffled], weights[shuffled]), matrix @ dense)


def test_library_statistics_follow_the_index_through_adds_removals_and_a_refit():
    # The sample's rows are stacked once and kept: every change to the rows must show in the statistics.
    index = make_index(delta_limit=2)
    q = index.query_vector("电池材料", "锂电池与钠离子电池的负极材料和正极材料")

    def from_scratch():
        scores = index.scores_of(q, index.sample_rows())
        return float(scores.mean()), float(scores.std())

    assert index.library_stats(q) == from_scratch()
    for step in range(4):
        index.add(f"n{step}", "电池负极材料", "钠离子电池硬碳负极材料" * (step + 1))
        assert index.library_stats(q) == from_scratch() == index.library_stats_many(q)[0]
    before = index.library_stats(q)
    index.refit()   # as many rows, none dead, so the same sample; new words and weights: the kept rows must go
    q = index.query_vector("电池材料", "锂电池与钠离子电池的负极材料和正极材料")
    assert index.library_stats(q) == from_scratch() != before
    index.remove("a1")
    assert index.library_stats(q) == from_scratch()


def test_refit_keeps_results_consistent():
    index = make_index()
    index.add("a7", "氢燃料电池催化剂", "低铂催化剂用于质子交换膜氢燃料电池。", field=5)
    index.remove("a3")
    before = ids_of(index.search("氢燃料电池", "催化剂", k=3))
    index.refit()
    assert index.n_rows == len(index) == len(DOCS)
    assert ids_of(index.search("氢燃料电池", "催化剂", k=3))[0] == before[0] == "a7"
    assert "a3" not in index
    assert index.attribute("field")[index.row_of("a7")] == 5
    assert index.text("a7") == ("氢燃料电池催化剂", "低铂催化剂用于质子交换膜氢燃料电池。")


def test_save_load_round_trip_gives_identical_results(tmp_path):
    index = make_index()
    index.add("a7", "氢燃料电池催化剂", "低铂催化剂。", field=5)
    index.remove("a2")
    path = tmp_path / "index"
    index.save(path)
    index.save(path)  # overwriting an existing index is atomic and allowed
    loaded = TextIndex.load(path)
    for title, body in [("电池", "正极材料"), ("污水", "膜分离"), ("催化剂", "")]:
        assert loaded.search(title, body, k=5) == index.search(title, body, k=5)
    assert len(loaded) == len(index)
    assert np.array_equal(loaded.attribute("trl"), index.attribute("trl"), equal_nan=True)
    assert loaded.text("a7") == index.text("a7")
    loaded.add("a8", "电池", "电池")  # a loaded index stays writable
    assert "a8" in ids_of(loaded.search("电池", "", k=10))
    mapped = TextIndex.load(path, mmap=True)
    assert mapped.search("电池", "正极材料") == index.search("电池", "正极材料")
    # What the service does with its mapped index: read texts, add and remove, and save over the mapped files.
    assert mapped.text("a7") == index.text("a7")
    mapped.remove("a7")
    # Its writable arrays are mapped copy-on-write: what it changes is its own until it saves.
    untouched = TextIndex.load(path, mmap=True)
    assert "a7" in untouched and untouched.attribute("field")[untouched.row_of("a7")] == 5
    mapped.add("a9", "电池", "电池 正极材料")
    mapped.save(path)
    reloaded = TextIndex.load(path, mmap=True)
    assert "a9" in ids_of(reloaded.search("电池", "", k=10)) and "a7" not in ids_of(reloaded.search("电池", "", k=10))
    assert reloaded.text("a9") == ("电池", "电池 正极材料") and mapped.text("a9") == reloaded.text("a9")


@pytest.mark.parametrize("field, value", [("numpy_version", "0.0.1"), ("format_version", 999), ("format_version", 1),
                                          ("index_format", "another-index")])
def test_version_mismatch_raises_index_version_error(tmp_path, field, value):
    make_index().save(tmp_path / "index")
    manifest_file = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest[field] = value
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionError, match="rebuild"):
        TextIndex.load(tmp_path / "index")


def test_saved_model_holds_no_scikit_learn_object(tmp_path):
    # Why the manifest's scikit-learn version is not checked: nothing of scikit-learn is in the pickle, so
    # another scikit-learn version loads it unchanged (TextModel follows the estimator protocol without inheriting).
    import pickle

    index = make_index()
    found = []

    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            found.append(module)
            return super().find_class(module, name)

    clone = Recording(io.BytesIO(pickle.dumps(index.model))).load()
    assert found and not [m for m in found if m.split(".")[0] == "sklearn"]
    assert "_sklearn_version" not in vars(clone)
    index.save(tmp_path / "index")
    assert b"sklearn" not in (tmp_path / "index" / "model.joblib").read_bytes()
    manifest_file = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest_file.write_text(json.dumps({**manifest, "scikit_learn_version": "0.0.1"}))
    assert TextIndex.load(tmp_path / "index").search("电池", "正极材料") == index.search("电池", "正极材料")


def test_tampered_model_and_missing_manifest_raise(tmp_path):
    make_index().save(tmp_path / "index")
    with open(tmp_path / "index" / "model.joblib", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(IndexVersionError):
        TextIndex.load(tmp_path / "index")
    os.makedirs(tmp_path / "empty")
    with pytest.raises(IndexVersionError):
        TextIndex.load(tmp_path / "empty")


def test_explain_terms_sum_to_score():
    index = make_index()
    q = index.query_vector("锂电池", "高镍正极材料")
    (doc_id, score), *_ = index.search_vector(q, k=1)
    terms = index.explain(q, doc_id, top=100_000)
    assert sum(w for _, w in terms) == pytest.approx(score, rel=1e-5)
    top = index.explain(q, doc_id, top=3)
    assert len(top) == 3 and [w for _, w in top] == sorted((w for _, w in top), reverse=True)


@pytest.mark.parametrize("title, body", [("", ""), ("，。！？", "…… ——"), (None, None), ("zzzz", "qqqq")])
def test_empty_or_unknown_query_gives_no_results(title, body):
    assert make_index().search(title, body) == []


def test_huge_query_is_safe():
    results = make_index().search("电池" * 10, "电池材料污水处理。" * 120_000)  # ~1 MB of text
    assert isinstance(results, list)


@pytest.mark.parametrize("k", [0, -1])
def test_non_positive_k_is_an_error(k):
    with pytest.raises(ValueError):
        make_index().search("电池", "电池", k=k)


def test_integer_ids_round_trip(tmp_path):
    ids, titles, bodies = zip(*DOCS)
    index = TextIndex(TextModel()).fit(list(range(len(DOCS))), titles, bodies)
    index.save(tmp_path / "ints")
    assert TextIndex.load(tmp_path / "ints").search("污水处理", "", k=1)[0][0] == 2
