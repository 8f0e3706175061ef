"""Chinese-aware text analysis: normalisation, boilerplate stripping, tokenisers and the TextModel."""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

# Texts longer than this are cut before analysis: a demand's signal sits in its
# first paragraphs, and jieba on megabytes of text would stall a request.
MAX_CHARS = 20_000

_HAN = re.compile(r"[\u4e00-\u9fff]")
_HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")
_NON_TEXT = re.compile(r"[^\w]+", re.UNICODE)

# Section labels firms paste into demand forms; they carry no topic.
BOILERPLATE_LABELS = (
    "需求内容", "需求描述", "需求简介", "需求背景", "需求概述", "项目简介", "预期目标", "预期效果",
    "现有工作基础", "现有基础", "工作基础", "拟解决的技术难题", "拟解决的技术问题", "拟解决的关键技术",
    "主要技术指标", "技术指标", "技术难题", "解决方案", "合作方式", "其他说明",
)
# Sentences containing these describe the company or the deal, not the technology.
SELF_INTRODUCTION_MARKERS = (
    "公司成立于", "成立于", "注册资本", "拟出资", "万元", "有限公司是", "有限公司成立", "公司位于",
    "公司坐落", "占地面积", "员工", "职工", "年产值", "年销售", "销售收入", "营业收入", "高新技术企业",
    "合作伙伴", "研究成果归", "知识产权归", "共同拥有", "寻求", "联系人", "联系电话",
)
_SENTENCE_SPLIT = re.compile(r"(?<=[。！？；;!?\n])")
_LABEL_RE = re.compile("|".join(map(re.escape, sorted(BOILERPLATE_LABELS, key=len, reverse=True))) + r"\s*[:：]?")


def normalise(text: str | None) -> str:
    """NFKC (full-width → half-width), lower-case, cut to MAX_CHARS."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", str(text)[:MAX_CHARS]).lower()


def strip_boilerplate(text: str) -> str:
    """Drop form labels and company self-introduction / deal sentences from a demand text."""
    if not text:
        return ""
    kept = [s for s in _SENTENCE_SPLIT.split(text) if s and not any(m in s for m in SELF_INTRODUCTION_MARKERS)]
    return _LABEL_RE.sub(" ", "".join(kept))


def char_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside runs of letters/digits/Han (no grams across punctuation)."""
    lo, hi = ngram_range
    grams: list[str] = []
    for run in _NON_TEXT.split(text):
        if not run:
            continue
        for n in range(lo, hi + 1):
            grams.extend(run[i:i + n] for i in range(len(run) - n + 1))
    return grams


_JIEBA = None
_JIEBA_DICT_KEY: tuple = ()


def _jieba(user_terms: tuple[str, ...] = ()):
    """Lazily initialised jieba tokenizer, with the domain dictionary added once."""
    global _JIEBA, _JIEBA_DICT_KEY
    if _JIEBA is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _JIEBA = jieba.Tokenizer()
    if user_terms and user_terms != _JIEBA_DICT_KEY:
        for term in user_terms:
            _JIEBA.add_word(term, freq=None)
        _JIEBA_DICT_KEY = user_terms
    return _JIEBA


def words(text: str, *, mode: str = "search", han_only: bool = False, user_terms: tuple[str, ...] = ()) -> list[str]:
    """jieba words; han_only keeps only tokens of ≥2 Han characters (the contest's achievement filter)."""
    if not text:
        return []
    tk = _jieba(user_terms)
    toks = tk.cut_for_search(text) if mode == "search" else tk.cut(text)
    out = []
    for t in toks:
        t = t.strip()
        if not t or not any(c.isalnum() for c in t):
            continue
        if han_only and not _HAN_WORD.match(t):
            continue
        out.append(t)
    return out


def filter_like_achievements(text: str, user_terms: tuple[str, ...] = ()) -> str:
    """Re-join the ≥2-Han-char jieba tokens, as the ccf achievement titles were built."""
    return "".join(words(text, mode="precise", han_only=True, user_terms=user_terms))


def load_field_terms(paths: Iterable[str]) -> tuple[str, ...]:
    """Terms from seeds/fields/*.toml [terms] lists (missing/invalid files are skipped)."""
    import tomllib

    terms: set[str] = set()
    for p in paths:
        try:
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        block = data.get("terms", {})
        values = block.values() if isinstance(block, dict) else [block]
        for v in values:
            if isinstance(v, list):
                terms.update(str(x).strip() for x in v if str(x).strip())
    return tuple(sorted(terms))


class TextModel:
    """Turns (title, body) pairs into sparse vectors whose dot product is the text similarity."""

    _DEFAULTS = dict(
        char_ngram_range=(1, 2),   # character n-grams; None disables the block
        char_weight=1.0,
        word_mode=None,            # None | "search" | "precise": jieba word block
        word_weight=0.0,
        word_han_only=True,        # keep only ≥2-Han-char words (matches ccf titles' vocabulary)
        sublinear_tf=True,
        max_df=1.0,                # drop features in more than this share of documents
        title_weight=2.0,          # query title tf multiplier relative to the body (measured: 2 ≈ 3 > 1)
        strip_boilerplate=False,   # query side: drop labels and company self-introduction
        query_filter=False,        # query side: keep only ≥2-Han-char jieba tokens, like ccf titles
        user_terms=(),             # domain dictionary for jieba
    )

    def __init__(self, **params):
        unknown = set(params) - set(self._DEFAULTS)
        if unknown:
            raise ValueError(f"unknown TextModel parameter(s): {sorted(unknown)}")
        self.params = {**self._DEFAULTS, **params}
        p = self.params
        if p["char_ngram_range"] is not None:
            p["char_ngram_range"] = tuple(p["char_ngram_range"])
        p["user_terms"] = tuple(p["user_terms"])
        if p["word_mode"] not in (None, "search", "precise"):
            raise ValueError(f"word_mode must be None, 'search' or 'precise', got {p['word_mode']!r}")

    def get_params(self) -> dict:
        return dict(self.params)

    # --- analysis -------------------------------------------------------------------------
    def _blocks(self) -> list[tuple[str, float]]:
        p = self.params
        blocks = []
        if p["char_ngram_range"] is not None and p["char_weight"] > 0:
            blocks.append(("c", p["char_weight"]))
        if p["word_mode"] and p["word_weight"] > 0:
            blocks.append(("w", p["word_weight"]))
        if not blocks:
            raise ValueError("TextModel needs at least one feature block with positive weight")
        return blocks

    def _analyse(self, block: str, text: str) -> list[str]:
        p = self.params
        if block == "c":
            return char_ngrams(text, p["char_ngram_range"])
        return ["w:" + w for w in words(text, mode=p["word_mode"], han_only=p["word_han_only"], user_terms=p["user_terms"])]

    def _prepare(self, text: str, as_query: bool) -> str:
        text = normalise(text)
        if as_query:
            if self.params["strip_boilerplate"]:
                text = strip_boilerplate(text)
            if self.params["query_filter"]:
                text = filter_like_achievements(text, self.params["user_terms"])
        return text

    def _counts(self, texts: Sequence[str], as_query: bool, grow: bool) -> sp.csr_matrix:
        """Sparse term-frequency matrix over the full vocabulary (all blocks)."""
        vocab = self.vocabulary_
        indptr, indices, data = [0], [], []
        blocks = self._blocks()
        for text in texts:
            text = self._prepare(text, as_query)
            counts: dict[int, int] = {}
            for block, _ in blocks:
                for tok in self._analyse(block, text):
                    j = vocab.get(tok)
                    if j is None:
                        if not grow:
                            continue
                        j = vocab[tok] = len(vocab)
                    counts[j] = counts.get(j, 0) + 1
            indices.extend(counts.keys())
            data.extend(counts.values())
            indptr.append(len(indices))
        return sp.csr_matrix((np.asarray(data, np.float64), np.asarray(indices, np.int64), indptr),
                             shape=(len(texts), len(vocab)))

    def _tf(self, titles, bodies, as_query: bool, grow: bool = False) -> sp.csr_matrix:
        t = self._counts(list(titles), as_query, grow)
        b = self._counts(list(bodies), as_query, grow)
        n = len(self.vocabulary_)
        t.resize((t.shape[0], n))
        b.resize((b.shape[0], n))
        if self.params["sublinear_tf"]:
            for m in (t, b):
                m.data = 1.0 + np.log(m.data)
        w = self.params["title_weight"] if as_query else 1.0
        return (w * t + b).tocsr()

    # --- public contract -------------------------------------------------------------------
    def fit(self, titles: Sequence[str], bodies: Sequence[str]) -> "TextModel":
        self._fit(titles, bodies)
        return self

    def _fit(self, titles: Sequence[str], bodies: Sequence[str]) -> sp.csr_matrix:
        """Learn vocabulary and IDF; return the documents' term frequencies over the kept vocabulary."""
        titles, bodies = list(titles), list(bodies)
        if len(titles) != len(bodies):
            raise ValueError("titles and bodies must have the same length")
        self.vocabulary_ = {}
        tf = self._tf(titles, bodies, as_query=False, grow=True)
        n_docs = max(tf.shape[0], 1)
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        keep = df <= self.params["max_df"] * n_docs if self.params["max_df"] < 1.0 else np.ones_like(df, bool)
        names = np.empty(len(self.vocabulary_), dtype=object)
        for tok, j in self.vocabulary_.items():
            names[j] = tok
        names = names[keep]
        self.vocabulary_ = {tok: j for j, tok in enumerate(names)}
        self.feature_names_ = names
        # smooth idf as sklearn: ln((1+n)/(1+df)) + 1
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df[keep])) + 1.0).astype(np.float64)
        self.block_of_ = np.array([1 if str(t).startswith("w:") else 0 for t in names], dtype=np.int8)
        self.n_docs_ = n_docs
        return tf[:, np.flatnonzero(keep)].tocsr()

    def fit_transform(self, titles: Sequence[str], bodies: Sequence[str]) -> sp.csr_matrix:
        """fit, then the documents' vectors (what TextIndex.fit needs), tokenising each document once."""
        return self._vectors(self._fit(titles, bodies))

    def transform(self, titles: Sequence[str], bodies: Sequence[str], *, as_query: bool = False) -> sp.csr_matrix:
        if not hasattr(self, "idf_"):
            raise RuntimeError("TextModel.transform called before fit")
        titles, bodies = list(titles), list(bodies)
        if len(titles) != len(bodies):
            raise ValueError("titles and bodies must have the same length")
        return self._vectors(self._tf(titles, bodies, as_query))

    def _vectors(self, tf: sp.csr_matrix) -> sp.csr_matrix:
        x = tf.multiply(self.idf_[None, :]).tocsr()
        x = self._weight_blocks(x)
        return _l2_rows(x).astype(np.float32)

    def _weight_blocks(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """L2-normalise each block per row, scale it by its weight (so weights mean shares of cosine)."""
        blocks = self._blocks()
        if len(blocks) == 1:
            return x
        parts = []
        for k, (block, weight) in enumerate(blocks):
            mask = sp.diags((self.block_of_ == (1 if block == "w" else 0)).astype(np.float64))
            parts.append(_l2_rows((x @ mask).tocsr()) * math.sqrt(weight))
        return sum(parts[1:], parts[0]).tocsr()

    def feature_names(self) -> np.ndarray:
        return self.feature_names_

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.params.items() if self._DEFAULTS.get(k) != v}
        return f"TextModel({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ x
