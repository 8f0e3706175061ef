"""Index segments: row vectors with truncated posting lists, candidate generation over them, exact scoring."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

# Posting lists longer than the cap keep only their highest-weighted entries for candidate generation,
# and that many candidates per segment are re-scored exactly, so returned scores are always exact.
# Both grow with the segment (1% and 0.25% of its rows, within bounds): measured on the synthetic
# 1M corpus, cap 10000 / 2500 candidates keep ~98% of the exact top-10 at ~7 ms per query.
POSTING_CAP = (4000, 10000, 100)      # (min, max, rows per kept posting)
CANDIDATES = (1000, 3000, 400)        # (min, max, rows per candidate)
# Exact scoring copies the rows it scores; chunks of this many bound that temporary copy.
SCORE_CHUNK = 50000


@dataclass
class Segment:
    """A contiguous run of internal rows: their vectors (CSR) plus truncated, term-major posting lists."""

    start: int
    matrix: sp.csr_matrix
    post_ptr: np.ndarray      # int64, n_terms + 1
    post_rows: np.ndarray     # int32, rows local to the segment
    post_weights: np.ndarray  # float32

    # The segment's full term-major copy, made on the first `all_scores` (only segments scored whole ask for it).
    columns: sp.csc_matrix | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return self.matrix.shape[0]

    def all_scores(self, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Exact q · d for every row, from the query's columns only: the cost follows its terms' document
        frequencies, not the segment's size (a mat-vec reads every entry; 0.28 against 0.73 ms a province demand
        over the province's 11,596 achievements, benchmarks/speed/whole_segment.py). With `terms` ascending, each
        row adds the same float32 products in the same order as the mat-vec and `exact_scores`, so the scores are
        the same to the bit."""
        if self.columns is None:
            self.columns = self.matrix.tocsc()
            self.columns.sort_indices()
        return self.columns[:, terms] @ weights


def scaled(bounds: tuple[int, int, int], rows: int) -> int:
    """A size that grows with the segment's rows: rows / per, within [low, high]."""
    low, high, per = bounds
    return int(min(max(rows // per, low), high))


def seal(start: int, matrix: sp.csr_matrix, cap: int | None = None) -> Segment:
    """A segment of the rows from `start` on, with posting lists capped at `cap` (None: scaled by size)."""
    ptr, rows, weights = build_postings(matrix, cap or scaled(POSTING_CAP, matrix.shape[0]))
    return Segment(start, matrix, ptr, rows, weights)


def build_postings(matrix: sp.csr_matrix, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Term-major postings of a CSR matrix, keeping at most `cap` highest-weighted rows per term."""
    csc = matrix.tocsc()
    csc.sort_indices()
    ptr = csc.indptr.astype(np.int64, copy=False)
    rows = csc.indices.astype(np.int32, copy=False)
    weights = csc.data.astype(np.float32, copy=False)
    del csc
    lengths = np.diff(ptr)
    long_terms = np.flatnonzero(lengths > cap)
    if long_terms.size == 0:
        return ptr, rows, weights
    keep = np.ones(rows.size, dtype=bool)
    for term in long_terms:
        lo, hi = ptr[term], ptr[term + 1]
        # Weights of frequent terms are small (low IDF); only the rows where the term weighs most
        # can be lifted into the top-k by it, so the rest are dropped from candidate generation.
        drop = np.argpartition(weights[lo:hi], hi - lo - cap)[: hi - lo - cap]
        keep[lo + drop] = False
    new_lengths = np.minimum(lengths, cap)
    new_ptr = np.zeros_like(ptr)
    np.cumsum(new_lengths, out=new_ptr[1:])
    return new_ptr, rows[keep], weights[keep]


def candidates(seg: Segment, terms: np.ndarray, weights: np.ndarray, allowed: np.ndarray, masked: bool,
               wanted: int) -> np.ndarray:
    """About `wanted` local rows of the segment with the best partial scores over the truncated postings."""
    starts, ends = seg.post_ptr[terms].tolist(), seg.post_ptr[terms + 1].tolist()
    if sum(ends) == sum(starts):
        return np.zeros(0, dtype=np.int64)
    # Posting lists are contiguous slices: concatenating views is a memcpy, ~3x cheaper than a fancy-index gather.
    rows = np.concatenate([seg.post_rows[a:b] for a, b in zip(starts, ends)])
    contrib = np.concatenate([seg.post_weights[a:b] for a, b in zip(starts, ends)])
    contrib *= np.repeat(weights, np.subtract(ends, starts))
    partial = np.bincount(rows, contrib, minlength=seg.size)
    ok = allowed[seg.start: seg.start + seg.size]
    if masked:  # a filter must act before selection, or filtered-out rows crowd out the candidates
        partial *= ok
    return best_rows(partial, rows, wanted, ok)


def best_rows(partial: np.ndarray, touched: np.ndarray, count: int, ok: np.ndarray) -> np.ndarray:
    """About `count` allowed rows with the largest partial scores, without sorting or scanning all touched rows.

    A full argpartition over every touched row costs milliseconds at 1M documents; instead a score
    threshold is read off a small sample of the touched rows and a single vectorised comparison
    picks the rows above it. Selection is approximate, which is fine: candidates are re-scored exactly.
    """
    sample = partial[touched[:: max(1, touched.size // 4096)]]
    share = 4.0 * count / touched.size   # aim high: one pass usually suffices, the surplus is trimmed below
    while True:
        if share >= 1.0:
            chosen = np.flatnonzero(partial > 0)
            break
        threshold = np.quantile(sample, 1.0 - share)
        chosen = np.flatnonzero(partial >= max(threshold, np.finfo(np.float32).tiny))
        if chosen.size >= count:
            break
        share *= 4.0   # the sample over-represents rows matching many terms; widen and retry
    chosen = chosen[ok[chosen]]
    if chosen.size > 2 * count:
        chosen = chosen[np.argpartition(partial[chosen], chosen.size - count)[chosen.size - count:]]
    return chosen


def exact_scores(matrix: sp.csr_matrix, local_rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Exact q · d for the given local rows of a matrix, the query given as a dense vector."""
    if local_rows.size > SCORE_CHUNK:
        return np.concatenate([exact_scores(matrix, local_rows[i:i + SCORE_CHUNK], query)
                               for i in range(0, local_rows.size, SCORE_CHUNK)])
    if local_rows.size == 0:
        return np.zeros(0, dtype=np.float32)
    # scipy's C++ row gather and mat-vec beat a numpy gather + bincount ~10x (measured, 1000 rows).
    return matrix[local_rows] @ query
