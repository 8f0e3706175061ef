"""TextModel: (title, body) pairs to sparse TF-IDF vectors whose dot product is the text similarity."""
from __future__ import annotations

import inspect
import math
from numbers import Integral, Real
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from matchmaker.matching import ngram_counts
from matchmaker.matching.text import (
    char_ngrams,
    filter_like_achievements,
    normalise,
    strip_boilerplate,
    words,
)

WORD_MODES = (None, "search", "precise")
# Rows vectorised at a time when fitting: bounds the build's temporaries (benchmarks/speed/build_memory.py).
VECTOR_CHUNK_ROWS = 100_000
COUNTING = ("auto", "vectorised", "per_text")


class TextModel:
    """Turns (title, body) pairs into sparse vectors whose dot product is the text similarity.

    A scikit-learn style estimator: the constructor only stores its parameters, `fit` checks them and learns
    the vocabulary and IDF (attributes ending in `_`), `get_params` / `set_params` / `clone` work as usual. It
    follows the estimator protocol without inheriting `sklearn.base.BaseEstimator`: importing that pulls in SciPy's
    statistics, 0.8 of the 1.8 s every server, worker and command takes to start, for three small methods
    (benchmarks/speed/README.md). scikit-learn's `clone` and its checks still work on it (tests/unit/test_text.py).

    Parameters
    ----------
    char_ngram_range : character n-gram lengths (min_n, max_n); None disables the character block.
    char_weight : share of the cosine given to the character block when there are two blocks.
    word_mode : None, "search" or "precise": a block of jieba words cut in that mode.
    word_weight : share of the cosine given to the word block.
    word_han_only : keep only words of ≥2 Han characters (matches the ccf titles' vocabulary).
    sublinear_tf : 1 + log(tf) instead of tf.
    max_df : drop terms found in more than this share of the fitted documents.
    title_weight : query title tf multiplier relative to the body (measured: 2 ≈ 3 > 1).
    strip_boilerplate : query side: drop form labels and company self-introduction.
    query_filter : query side: keep only ≥2-Han-char jieba tokens, like the ccf titles.
    user_terms : domain dictionary for jieba.
    counting : "auto" (vectorised for character-only models on batches of ≥ ngram_counts.MIN_TEXTS texts),
        "vectorised" (always; needs a character-only model with n ≤ 3) or "per_text" (the reference loop).
        Both ways give identical matrices; only speed differs.
    """

    def __init__(self, *, char_ngram_range=(1, 2), char_weight=1.0, word_mode=None, word_weight=0.0,
                 word_han_only=True, sublinear_tf=True, max_df=1.0, title_weight=2.0, strip_boilerplate=False,
                 query_filter=False, user_terms=(), counting="auto"):
        self.char_ngram_range = char_ngram_range
        self.char_weight = char_weight
        self.word_mode = word_mode
        self.word_weight = word_weight
        self.word_han_only = word_han_only
        self.sublinear_tf = sublinear_tf
        self.max_df = max_df
        self.title_weight = title_weight
        self.strip_boilerplate = strip_boilerplate
        self.query_filter = query_filter
        self.user_terms = user_terms
        self.counting = counting

    # --- parameters -------------------------------------------------------------------------
    @classmethod
    def _defaults(cls) -> dict:
        """The constructor's parameters and their defaults, by name (the estimator protocol's one source)."""
        return {name: p.default for name, p in sorted(inspect.signature(cls.__init__).parameters.items())
                if p.kind is p.KEYWORD_ONLY}

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters as set (none of them is an estimator, so `deep` changes nothing)."""
        return {name: getattr(self, name) for name in self._defaults()}

    def set_params(self, **params) -> TextModel:
        valid = list(self._defaults())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. Valid parameters are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        # As scikit-learn prints an estimator: the parameters that differ from their defaults.
        changed = [f"{name}={getattr(self, name)!r}" for name, default in self._defaults().items()
                   if getattr(self, name) != default]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _check_params(self) -> None:
        """Validate the parameters and set their normalised forms (ngram_range_, user_terms_, blocks_)."""
        r = self.char_ngram_range
        if r is not None:
            if (isinstance(r, (str, bytes)) or not hasattr(r, "__len__") or len(r) != 2
                    or not all(isinstance(n, Integral) and not isinstance(n, bool) for n in r) or not 1 <= r[0] <= r[1]):
                raise ValueError(f"char_ngram_range must be None or a pair (min_n, max_n) of integers with "
                                 f"1 <= min_n <= max_n, got {r!r}")
            r = (int(r[0]), int(r[1]))
        for name in ("char_weight", "word_weight", "title_weight"):
            _check_number(name, getattr(self, name))
        if self.word_mode not in WORD_MODES:
            raise ValueError(f"word_mode must be None, 'search' or 'precise', got {self.word_mode!r}")
        for name in ("word_han_only", "sublinear_tf", "strip_boilerplate", "query_filter"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        _check_number("max_df", self.max_df)
        if not 0 < self.max_df <= 1:
            raise ValueError(f"max_df must be a share of documents in (0, 1], got {self.max_df!r}")
        terms = self.user_terms
        if isinstance(terms, (str, bytes)) or not hasattr(terms, "__iter__") or not all(isinstance(t, str) for t in terms):
            raise ValueError(f"user_terms must be a sequence of strings (jieba's user dictionary), got {terms!r}")
        blocks = []
        if r is not None and self.char_weight > 0:
            blocks.append(("c", float(self.char_weight)))
        if self.word_mode and self.word_weight > 0:
            blocks.append(("w", float(self.word_weight)))
        if not blocks:
            raise ValueError("TextModel needs at least one feature block with positive weight: char_ngram_range "
                             "with char_weight > 0, or word_mode with word_weight > 0")
        if self.counting not in COUNTING:
            raise ValueError(f"counting must be one of {COUNTING}, got {self.counting!r}")
        if self.counting == "vectorised" and not (blocks == [("c", blocks[0][1])] and ngram_counts.supports(r)):
            raise ValueError(f"counting='vectorised' needs a character-only model with n-grams of at most "
                             f"{ngram_counts.MAX_N} characters (word_mode=None, char_ngram_range within (1, "
                             f"{ngram_counts.MAX_N})); use 'auto' or 'per_text'")
        self.ngram_range_ = r
        self.user_terms_ = tuple(terms)
        self.blocks_ = blocks

    # --- analysis ---------------------------------------------------------------------------
    def _analyse(self, block: str, text: str) -> list[str]:
        if block == "c":
            return char_ngrams(text, self.ngram_range_)
        return ["w:" + w for w in words(text, mode=self.word_mode, han_only=self.word_han_only, user_terms=self.user_terms_)]

    def _prepare(self, text: str, as_query: bool) -> str:
        text = normalise(text)
        if as_query:
            if self.strip_boilerplate:
                text = strip_boilerplate(text)
            if self.query_filter:
                text = filter_like_achievements(text, self.user_terms_)
        return text

    def _vectorised(self, n_texts: int) -> bool:
        if self.counting == "per_text":
            return False
        if not ([b for b, _ in self.blocks_] == ["c"] and ngram_counts.supports(self.ngram_range_)):
            return False
        return self.counting == "vectorised" or n_texts >= ngram_counts.MIN_TEXTS

    def _counts(self, texts: Sequence[str], as_query: bool, grow: bool) -> sp.csr_matrix:
        """Sparse term-frequency matrix over the full vocabulary (all blocks); grow=True adds unseen terms."""
        if self._vectorised(len(texts)):
            keyed = self._keys()
            if keyed is not None:
                prepared = [self._prepare(t, as_query) for t in texts]
                matrix, keyed = ngram_counts.count(prepared, self.ngram_range_, self.vocabulary_, keyed, grow=grow)
                self._key_cache = (self.vocabulary_, len(self.vocabulary_), keyed)
                return matrix
        return self._counts_per_text(texts, as_query, grow)

    def _counts_per_text(self, texts: Sequence[str], as_query: bool, grow: bool) -> sp.csr_matrix:
        """Reference implementation of _counts, one text at a time."""
        vocab = self.vocabulary_
        indptr, indices, data = [0], [], []
        for text in texts:
            text = self._prepare(text, as_query)
            counts: dict[int, int] = {}
            for block, _ in self.blocks_:
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

    def _keys(self) -> ngram_counts.Keyed | None:
        """The vocabulary's key index for vectorised counting, cached while the vocabulary is unchanged."""
        vocab = self.vocabulary_
        cache = self.__dict__.get("_key_cache")
        if cache is not None and cache[0] is vocab and cache[1] == len(vocab):
            return cache[2]
        keyed = ngram_counts.key_index(vocab)
        if keyed is not None:
            self._key_cache = (vocab, len(vocab), keyed)
        return keyed

    def __getstate__(self):
        # The key cache is rebuilt on demand; pickling it would double the saved model's size.
        state = dict(super().__getstate__())   # a copy: the default state may be the live __dict__
        state.pop("_key_cache", None)
        return state

    def _tf(self, titles, bodies, as_query: bool, grow: bool = False) -> sp.csr_matrix:
        t = self._counts(list(titles), as_query, grow)
        b = self._counts(list(bodies), as_query, grow)
        return self._combine(t, b, as_query)

    def _combine(self, t: sp.csr_matrix, b: sp.csr_matrix, as_query: bool) -> sp.csr_matrix:
        """Title and body counts over the whole vocabulary, sublinear if asked, the title weighted for a query."""
        n = len(self.vocabulary_)
        t.resize((t.shape[0], n))
        b.resize((b.shape[0], n))
        if self.sublinear_tf:
            for m in (t, b):
                m.data = 1.0 + np.log(m.data)
        w = self.title_weight if as_query else 1.0
        return (w * t + b).tocsr()

    # --- public contract -------------------------------------------------------------------
    def fit(self, titles: Sequence[str], bodies: Sequence[str]) -> "TextModel":
        """Check the parameters, learn vocabulary and IDF from the documents."""
        self._fit(titles, bodies)
        return self

    def _fit(self, titles: Sequence[str], bodies: Sequence[str]) -> list[sp.csr_matrix]:
        """Learn vocabulary and IDF; return the documents' term frequencies over the kept vocabulary, in row chunks
        (VECTOR_CHUNK_ROWS each), so no whole-corpus temporary is made past the counting itself."""
        self._check_params()
        titles, bodies = list(titles), list(bodies)
        if len(titles) != len(bodies):
            raise ValueError("titles and bodies must have the same length")
        self.__dict__.pop("_key_cache", None)
        self.vocabulary_ = {}
        chunks = self._tf_chunks(titles, bodies)
        n_docs = max(len(titles), 1)
        df = np.zeros(len(self.vocabulary_), np.int64)
        for chunk in chunks:
            df += np.bincount(chunk.indices, minlength=df.size)
        keep = df <= self.max_df * n_docs if self.max_df < 1.0 else np.ones_like(df, bool)
        names = np.empty(len(self.vocabulary_), dtype=object)
        for tok, j in self.vocabulary_.items():
            names[j] = tok
        names = names[keep]
        cache, grown = self.__dict__.pop("_key_cache", None), self.vocabulary_
        self.vocabulary_ = {tok: j for j, tok in enumerate(names)}
        if cache is not None and cache[0] is grown and cache[1] == len(grown):
            # Carry the key index over to the pruned vocabulary instead of re-keying every token.
            self._key_cache = (self.vocabulary_, len(self.vocabulary_), ngram_counts.pruned(cache[2], keep))
        self.feature_names_ = names
        # smooth idf as sklearn: ln((1+n)/(1+df)) + 1
        self.idf_ = (np.log((1.0 + n_docs) / (1.0 + df[keep])) + 1.0).astype(np.float64)
        self.block_of_ = np.array([1 if str(t).startswith("w:") else 0 for t in names], dtype=np.int8)
        self.n_docs_ = n_docs
        if keep.all():
            return chunks
        columns = np.flatnonzero(keep)
        return [chunks.pop(0)[:, columns].tocsr() for _ in range(len(chunks))]

    def _tf_chunks(self, titles: list[str], bodies: list[str]) -> list[sp.csr_matrix]:
        """_tf of the documents (growing the vocabulary), in row chunks. All titles are counted before any body,
        as one _tf call does, so the vocabulary's order — and every vector — is the same as unchunked."""
        spans = [(a, min(a + VECTOR_CHUNK_ROWS, len(titles))) for a in range(0, len(titles), VECTOR_CHUNK_ROWS)] \
            or [(0, 0)]
        title_counts = [_compact(self._counts(titles[a:b], False, True)) for a, b in spans]
        body_counts = [_compact(self._counts(bodies[a:b], False, True)) for a, b in spans]
        # Combined and freed chunk by chunk.
        return [_compact(self._combine(title_counts.pop(0), body_counts.pop(0), False)) for _ in spans]

    def fit_transform(self, titles: Sequence[str], bodies: Sequence[str]) -> sp.csr_matrix:
        """fit, then the documents' vectors (what TextIndex.fit needs), tokenising each document once."""
        chunks = self._fit(titles, bodies)
        return sp.vstack([self._vectors(chunks.pop(0)) for _ in range(len(chunks))], format="csr")

    def transform(self, titles: Sequence[str], bodies: Sequence[str], *, as_query: bool = False) -> sp.csr_matrix:
        """Unit-length float32 rows over the fitted vocabulary; as_query applies the query-side options."""
        if not self.__sklearn_is_fitted__():
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
        if len(self.blocks_) == 1:
            return x
        parts = []
        for block, weight in self.blocks_:
            mask = sp.diags((self.block_of_ == (1 if block == "w" else 0)).astype(np.float64))
            parts.append(_l2_rows((x @ mask).tocsr()) * math.sqrt(weight))
        return sum(parts[1:], parts[0]).tocsr()

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The term of every column ("w:" marks jieba words); the fitted array itself, not a copy.

        input_features is accepted for scikit-learn's signature and ignored: the input is text, not columns.
        """
        if not self.__sklearn_is_fitted__():
            raise RuntimeError("TextModel.get_feature_names_out called before fit")
        return self.feature_names_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "idf_")


def _check_number(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ x


def _compact(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """32-bit column indices when the vocabulary allows (the counting kernel gives 64-bit): a quarter less memory."""
    if matrix.indices.dtype != np.int32 and matrix.shape[1] < 2**31 and matrix.nnz < 2**31:
        matrix.indices = matrix.indices.astype(np.int32)
        matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix
