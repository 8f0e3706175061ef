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
_NON_TEXT_CHAR = re.compile(r"[^\w]", re.UNICODE)   # one match per break character (same class as _NON_TEXT)

# Vectorised char-n-gram counting (TextModel._counts_fast): batches smaller than this go the
# per-text way (a single query is faster in pure Python); chunks bound the arrays' memory.
_FAST_MIN_TEXTS = 32
_FAST_CHUNK_CHARS = 1_000_000
_FAST_PACKED = True   # value-sort path when (doc, dense n-gram, occurrence) fits in 63 bits
_FAST_CHUNK_TEXTS = 1 << 20
_CP_BITS = 21
_CP_MASK = (1 << _CP_BITS) - 1

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
            if isinstance(v, list):   # lists of strings; `subjects` (tables) repeat list terms and are skipped
                terms.update(x.strip() for x in v if isinstance(x, str) and x.strip())
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

    # "auto": vectorised counting for char-only models on batches of >= _FAST_MIN_TEXTS texts;
    # True / False force it on / off (tests compare both; they give identical matrices).
    _fast_path = "auto"

    def _fast_applicable(self) -> bool:
        p = self.params
        if [b for b, _ in self._blocks()] != ["c"]:
            return False
        lo, hi = p["char_ngram_range"]
        return 1 <= lo <= hi <= 3

    def _counts(self, texts: Sequence[str], as_query: bool, grow: bool) -> sp.csr_matrix:
        """Sparse term-frequency matrix over the full vocabulary (all blocks)."""
        mode = self._fast_path
        if mode and self._fast_applicable() and (mode is True or len(texts) >= _FAST_MIN_TEXTS):
            keyed = self._key_index()
            if keyed is not None:
                return self._counts_fast(texts, as_query, grow, keyed)
        return self._counts_slow(texts, as_query, grow)

    def _counts_slow(self, texts: Sequence[str], as_query: bool, grow: bool) -> sp.csr_matrix:
        """Per-text reference implementation of _counts."""
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

    def _key_index(self):
        """(sorted int keys, their columns) of the vocabulary for the fast path, cached; None if a token has no key."""
        vocab = self.vocabulary_
        cache = self.__dict__.get("_key_cache")
        if cache is not None and cache[0] is vocab and cache[1] == len(vocab):
            return cache[2], cache[3]
        keys = np.empty(len(vocab), np.int64)
        cols = np.empty(len(vocab), np.int64)
        for i, (tok, j) in enumerate(vocab.items()):
            if not isinstance(tok, str) or not 1 <= len(tok) <= 3:
                return None
            k = 0
            for c in tok:
                k = (k << _CP_BITS) | ord(c)
            keys[i], cols[i] = k, j
        order = np.argsort(keys, kind="stable")
        keys, cols = keys[order], cols[order]
        self._key_cache = (vocab, len(vocab), keys, cols)
        return keys, cols

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_key_cache", None)
        return state

    def _counts_fast(self, texts: Sequence[str], as_query: bool, grow: bool, keyed) -> sp.csr_matrix:
        """Vectorised _counts for char-only models: same matrix, same vocabulary growth order, same index order."""
        vocab = self.vocabulary_
        keys_sorted, cols_sorted = keyed
        prepared = [self._prepare(t, as_query) for t in texts]
        lens = np.fromiter(map(len, prepared), dtype=np.int64, count=len(prepared)) + 1
        ends = np.cumsum(lens)
        row_nnz = np.zeros(len(prepared), np.int64)
        indices_parts, data_parts = [], []
        start = 0
        while start < len(prepared):
            base = ends[start - 1] if start else 0
            end = int(np.searchsorted(ends, base + _FAST_CHUNK_CHARS, side="right"))
            end = min(max(end, start + 1), start + _FAST_CHUNK_TEXTS, len(prepared))
            doc, cols, counts, keys_sorted, cols_sorted = self._chunk_counts(
                prepared[start:end], lens[start:end], grow, vocab, keys_sorted, cols_sorted)
            row_nnz[start:end] = np.bincount(doc, minlength=end - start)
            indices_parts.append(cols)
            data_parts.append(counts)
            start = end
        if grow:
            self._key_cache = (vocab, len(vocab), keys_sorted, cols_sorted)
        indptr = np.zeros(len(prepared) + 1, np.int64)
        np.cumsum(row_nnz, out=indptr[1:])
        indices = np.concatenate(indices_parts) if indices_parts else np.zeros(0, np.int64)
        data = np.concatenate(data_parts).astype(np.float64) if data_parts else np.zeros(0, np.float64)
        return sp.csr_matrix((data, indices, indptr), shape=(len(texts), len(vocab)))

    def _chunk_counts(self, texts, lens, grow, vocab, keys_sorted, cols_sorted):
        """(row, column, count) of one chunk, rows in order and columns in first-seen order within a row."""
        lo, hi = self.params["char_ngram_range"]
        k = hi - lo + 1
        joined = "\x00".join(texts) + "\x00"
        # Break characters (exactly _NON_TEXT's class, applied by the regex itself) become 0.
        cp = np.frombuffer(_NON_TEXT_CHAR.sub("\x00", joined).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        n_pos = len(cp)
        is_text = cp != 0
        prev = np.concatenate(([False], is_text[:-1]))
        run_first = is_text & ~prev
        run_starts = np.flatnonzero(run_first)
        run_id = np.cumsum(run_first) - 1
        nxt = np.concatenate((is_text[1:], [False]))
        run_lens = np.flatnonzero(is_text & ~nxt) + 1 - run_starts
        doc_of_pos = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
        # Occurrences are laid out in char_ngrams' enumeration order: run by run, n by n, position by position.
        slot_key = np.zeros(k * n_pos, np.int64)
        slot_doc = np.zeros(k * n_pos, np.int64)
        for n in range(lo, hi + 1):
            m = n_pos - n + 1
            if m <= 0:
                continue
            ok = is_text[:m].copy()
            key = cp[:m].copy()
            for j in range(1, n):
                ok &= is_text[j:j + m]
                key = (key << _CP_BITS) | cp[j:j + m]
            pos = np.flatnonzero(ok)
            r = run_id[pos]
            rs = run_starts[r]
            slot = k * rs + (n - lo) * run_lens[r] + (pos - rs)
            slot_key[slot] = key[pos]
            slot_doc[slot] = doc_of_pos[pos]
        used = slot_key != 0
        occ_key = slot_key[used]
        occ_doc = slot_doc[used]
        del slot_key, slot_doc, used
        packed = _packed_pairs(cp, is_text, occ_key, occ_doc, len(texts), hi) if _FAST_PACKED else None
        if packed is not None:
            pdoc, kidx, counts, ukeys, first_app = packed
        elif hi <= 2:
            pair = (occ_doc << (2 * _CP_BITS)) | occ_key
            upair, first, counts = _unique_first(pair)
            pdoc = upair >> (2 * _CP_BITS)
            ukeys, kidx = np.unique(upair & ((1 << (2 * _CP_BITS)) - 1), return_inverse=True)
        else:
            ukeys, inv = np.unique(occ_key, return_inverse=True)
            nu = max(len(ukeys), 1)
            upair, first, counts = _unique_first(occ_doc * nu + inv.ravel())
            pdoc, kidx = upair // nu, upair % nu
        if packed is None:
            kidx = kidx.ravel()
            order = np.argsort(first, kind="stable")
            pdoc, kidx, counts = pdoc[order], kidx[order], counts[order]
            first_app = None
        # Map the chunk's distinct keys to columns.
        at = np.searchsorted(keys_sorted, ukeys)
        found = at < len(keys_sorted)
        found[found] = keys_sorted[at[found]] == ukeys[found]
        ucol = np.full(len(ukeys), -1, np.int64)
        ucol[found] = cols_sorted[at[found]]
        if grow and not found.all():
            if first_app is None:
                first_app = np.full(len(ukeys), len(kidx), np.int64)
                np.minimum.at(first_app, kidx, np.arange(len(kidx), dtype=np.int64))
            new = np.flatnonzero(~found)
            new = new[np.argsort(first_app[new], kind="stable")]
            base = len(vocab)
            ucol[new] = np.arange(base, base + len(new), dtype=np.int64)
            nk = ukeys[new]
            chars = np.stack([(nk >> (2 * _CP_BITS)) & _CP_MASK, (nk >> _CP_BITS) & _CP_MASK, nk & _CP_MASK], axis=1)
            flat = chars.astype("<u4").tobytes().decode("utf-32-le")
            for i in range(len(new)):
                vocab[flat[3 * i:3 * i + 3].lstrip("\x00")] = base + i
            ins = np.argsort(nk, kind="stable")
            where = np.searchsorted(keys_sorted, nk[ins])
            keys_sorted = np.insert(keys_sorted, where, nk[ins])
            cols_sorted = np.insert(cols_sorted, where, ucol[new][ins])
        cols = ucol[kidx]
        keep = cols >= 0
        return pdoc[keep], cols[keep], counts[keep], keys_sorted, cols_sorted

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
        cache, grown = self.__dict__.pop("_key_cache", None), self.vocabulary_
        self.vocabulary_ = {tok: j for j, tok in enumerate(names)}
        if cache is not None and cache[0] is grown and cache[1] == len(grown):
            new_col = np.cumsum(keep) - 1
            kept = keep[cache[3]]
            self._key_cache = (self.vocabulary_, len(self.vocabulary_), cache[2][kept], new_col[cache[3][kept]])
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


def _packed_pairs(cp, is_text, occ_key, occ_doc, n_docs, hi):
    """Distinct (doc, n-gram) pairs of a chunk without argsort, or None if the packing does not fit 63 bits.

    Occurrences arrive in enumeration order. Code points get dense ids (mixed radix n_cp + 1) so that
    (doc, dense n-gram, occurrence index) packs into one int64; sorting it groups the pairs with their
    first occurrence first. Returns the pairs in first-seen order (rows ascending), their key index,
    counts, the distinct real keys and each key's first appearance (a rank comparable between keys).
    """
    m = len(occ_key)
    if m == 0:
        z = np.zeros(0, np.int64)
        return z, z, z, z, z
    present = np.zeros(_CP_MASK + 1, bool)
    present[cp[is_text]] = True
    cps = np.flatnonzero(present)
    base = len(cps) + 1
    span = base ** hi
    be = int(m - 1).bit_length() or 1
    if int(max(n_docs, 1) * span - 1).bit_length() + be > 63:
        return None
    dense = np.zeros(_CP_MASK + 1, np.int64)
    dense[cps] = np.arange(1, base, dtype=np.int64)
    kd = np.zeros(m, np.int64)
    for shift in range((hi - 1) * _CP_BITS, -1, -_CP_BITS):
        kd = kd * base + dense[(occ_key >> shift) & _CP_MASK]
    emask = (1 << be) - 1
    v = ((occ_doc * span + kd) << be) | np.arange(m, dtype=np.int64)
    v.sort()
    g = v >> be
    starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
    counts_sorted = np.diff(np.append(starts, m))
    first_e = v[starts] & emask
    del v, g
    cnt_at = np.zeros(m, np.int64)
    cnt_at[first_e] = counts_sorted
    is_first = np.zeros(m, bool)
    is_first[first_e] = True
    fe = np.flatnonzero(is_first)   # first occurrences in enumeration order (no sort needed)
    counts = cnt_at[fe]
    pdoc = occ_doc[fe]
    pkd = kd[fe]
    del cnt_at, kd, is_first
    if span <= 1 << 24:
        seen = np.zeros(span, bool)
        seen[pkd] = True
        ukd = np.flatnonzero(seen)
        kid_tab = np.zeros(span, np.int64)
        kid_tab[ukd] = np.arange(len(ukd), dtype=np.int64)
        kidx = kid_tab[pkd]
        first_app = np.full(len(ukd), len(pkd), np.int64)
        np.minimum.at(first_app, kidx, np.arange(len(pkd), dtype=np.int64))
    else:
        w = (pkd << be) | fe
        w.sort()
        gk = w >> be
        flags = np.concatenate(([True], gk[1:] != gk[:-1]))
        kstarts = np.flatnonzero(flags)
        ukd = gk[kstarts]
        first_app = w[kstarts] & emask
        kid_at = np.zeros(m, np.int64)
        kid_at[w & emask] = np.cumsum(flags) - 1
        kidx = kid_at[fe]
    # dense n-gram -> real key (21 bits per code point, leading zeros for shorter grams)
    cpv = np.concatenate(([0], cps)).astype(np.int64)
    ukeys = np.zeros(len(ukd), np.int64)
    for d in range(hi - 1, -1, -1):
        ukeys = (ukeys << _CP_BITS) | cpv[(ukd // base ** d) % base]
    return pdoc, kidx, counts, ukeys, first_app


def _unique_first(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(a, return_index=True, return_counts=True) via an unstable argsort (first = min index per value)."""
    if len(a) == 0:
        return a[:0], np.zeros(0, np.int64), np.zeros(0, np.int64)
    perm = np.argsort(a)
    sa = a[perm]
    starts = np.flatnonzero(np.concatenate(([True], sa[1:] != sa[:-1])))
    counts = np.diff(np.append(starts, len(sa)))
    return sa[starts], np.minimum.reduceat(perm, starts), counts


def _l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ x
