"""TextModel contract, normalisation, boilerplate stripping and robustness."""
import pickle

import numpy as np
import pytest

from matchmaker.matching.text import (
    MAX_CHARS, TextModel, char_ngrams, filter_like_achievements, load_field_terms, normalise, strip_boilerplate,
)

TITLES = ["锂离子电池正极材料制备", "光伏组件清洗机器人", "污水处理生物膜技术", "锂电池回收利用"]
BODIES = ["", "", "", ""]


def fitted(**params):
    return TextModel(**params).fit(TITLES, BODIES)


def test_normalise_full_width_and_case():
    assert normalise("ＡＢＣ１２３　锂电") == "abc123 锂电"
    assert normalise(None) == ""


def test_strip_boilerplate_drops_labels_and_self_introduction():
    text = "需求内容：锂电池回收。公司成立于2001年，注册资本500万元。预期目标：回收率达到95%。"
    out = strip_boilerplate(text)
    assert "锂电池回收" in out and "回收率" in out
    assert "需求内容" not in out and "注册资本" not in out and "成立于" not in out


def test_char_ngrams_do_not_cross_punctuation():
    assert char_ngrams("锂电,池", (1, 2)) == ["锂", "电", "锂电", "池"]


def test_filter_like_achievements_keeps_multi_char_han_words():
    out = filter_like_achievements("3D打印设备的研发")
    assert "3" not in out and "d" not in out.lower() and "打印" in out


def test_vectors_are_unit_rows_and_dot_is_similarity():
    m = fitted()
    docs = m.transform(TITLES, BODIES)
    assert docs.dtype == np.float32 and docs.shape == (4, len(m.feature_names()))
    assert np.allclose(np.sqrt(docs.multiply(docs).sum(axis=1)).A.ravel(), 1.0, atol=1e-5)
    q = m.transform(["锂电池"], ["需要电池回收技术"], as_query=True)
    scores = (q @ docs.T).toarray().ravel()
    assert scores.argmax() == 3 and scores[1] < scores[3]


@pytest.mark.parametrize("text", ["", "   ", "，。！？、", "!!!"])
def test_empty_and_punctuation_only_give_zero_rows(text):
    row = fitted().transform([text], [text], as_query=True)
    assert row.shape[0] == 1 and row.nnz == 0


def test_one_megabyte_text_is_truncated_not_fatal():
    big = "锂电池回收" * 200_000  # 1,000,000 characters
    m = fitted(word_mode="search", word_weight=0.5)
    row = m.transform(["大文本"], [big], as_query=True)
    assert row.nnz > 0
    assert len(normalise(big)) == MAX_CHARS


def test_word_block_names_are_prefixed_and_weighted():
    m = fitted(word_mode="search", word_weight=0.5)
    names = m.feature_names()
    assert any(str(n).startswith("w:") for n in names) and "锂" in set(names)


def test_params_round_trip_and_pickle():
    m = fitted(title_weight=3.0, strip_boilerplate=True)
    assert TextModel(**m.get_params()).get_params() == m.get_params()
    clone = pickle.loads(pickle.dumps(m))
    assert (clone.transform(TITLES, BODIES) != m.transform(TITLES, BODIES)).nnz == 0


def test_bad_params_raise():
    with pytest.raises(ValueError, match="unknown TextModel parameter"):
        TextModel(bogus=1)
    with pytest.raises(ValueError, match="word_mode"):
        TextModel(word_mode="fast")
    with pytest.raises(RuntimeError, match="before fit"):
        TextModel().transform(["a"], ["b"])


def test_load_field_terms_reads_terms_lists(tmp_path):
    (tmp_path / "f.toml").write_text('[terms]\nmaterials = ["钙钛矿薄膜", "硅碳负极材料"]\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text("[terms\n", encoding="utf-8")
    assert load_field_terms([tmp_path / "f.toml", tmp_path / "broken.toml", tmp_path / "missing.toml"]) == (
        "硅碳负极材料", "钙钛矿薄膜")


# --- vectorised char-n-gram path (_counts_fast) must equal the per-text path exactly ---------------
_CCF = "/work/shared/eval/ccf2019-dev"


def _hand_made_texts():
    import random

    rng = random.Random(7)
    alphabet = list("锂离子电池正极材料abcXYZ0123４５６ＡＢＣ，。！？、；：“”（）【】 \t\n_-+=/\\'\"😀🚀é ñ Σσ٣३ⅷ²½\u00a0\u3000") + ["\x00"]
    texts = ["", " ", "，。！", "😀😀", "a", "ab", "abc", "锂", "锂电", "_", "__x__", "ＡＢＣ１２３　锂电", "Ⅻ ﬁ ß İ",
             "x" * (MAX_CHARS + 50), ("锂离子电池，" * 200_000)[:1_000_000], "\ud800 lone surrogate"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(300)]
    return texts


def _corpus():
    import json
    import os

    titles, bodies = [], []
    texts = _hand_made_texts()
    titles += texts
    bodies += texts[::-1]
    queries = (list(texts), list(reversed(texts)))
    if os.path.isdir(_CCF):
        for name, body_key in (("achievements", "description"), ("demands", "description")):
            with open(os.path.join(_CCF, name + ".jsonl"), encoding="utf-8") as fh:
                rows = [json.loads(line) for line in fh if line.strip()]
            titles += [r.get("title") or "" for r in rows]
            bodies += [r.get(body_key) or "" for r in rows]
            if name == "demands":
                queries = (queries[0] + [r.get("title") or "" for r in rows],
                           queries[1] + [r.get(body_key) or "" for r in rows])
    return titles, bodies, queries


def _by_token(model, matrix):
    names = model.feature_names()
    coo = matrix.tocoo()
    return {(int(r), str(names[c])): float(v) for r, c, v in zip(coo.row, coo.col, coo.data)}


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("params", [{}, {"char_ngram_range": (1, 3)}, {"char_ngram_range": (2, 2), "max_df": 0.5}])
def test_fast_char_path_equals_slow_path(params, packed, monkeypatch):
    import matchmaker.matching.text as text_module

    monkeypatch.setattr(text_module, "_FAST_PACKED", packed)
    titles, bodies, (qt, qb) = _corpus()
    slow, fast = TextModel(**params), TextModel(**params)
    slow._fast_path, fast._fast_path = False, True
    xs, xf = slow.fit_transform(titles, bodies), fast.fit_transform(titles, bodies)
    assert list(slow.feature_names()) == list(fast.feature_names())
    assert slow.vocabulary_ == fast.vocabulary_
    assert np.array_equal(slow.idf_, fast.idf_)
    for a, b in ((xs, xf), (slow.transform(qt, qb, as_query=True), fast.transform(qt, qb, as_query=True)),
                 (slow.transform(titles[:50], bodies[:50]), fast.transform(titles[:50], bodies[:50]))):
        assert a.shape == b.shape and a.dtype == b.dtype
        # identical layout, not only identical values
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert np.array_equal(a.data, b.data)
        assert _by_token(slow, a) == _by_token(fast, b)
    # raw counts too (titles then bodies grow the vocabulary in the same order)
    ts = slow._counts_slow(qt, True, False)
    tf = fast._counts(qt, True, False)
    assert (ts != tf).nnz == 0 and np.array_equal(ts.indices, tf.indices)
    # a pickled fast model (key cache dropped) rebuilds its key index and still agrees
    clone = pickle.loads(pickle.dumps(fast))
    assert "_key_cache" not in clone.__dict__
    a, b = slow.transform(qt, qb, as_query=True), clone.transform(qt, qb, as_query=True)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.data, b.data)


def test_fast_path_used_only_where_it_applies():
    m = TextModel(word_mode="search", word_weight=0.5)
    assert not m._fast_applicable()
    assert TextModel()._fast_applicable() and not TextModel(char_ngram_range=(1, 4))._fast_applicable()
