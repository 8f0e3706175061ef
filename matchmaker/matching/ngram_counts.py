"""Vectorised character-n-gram counting: the matrix TextModel's per-text loop makes, computed with numpy."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from matchmaker.matching.text import NON_TEXT_CHAR

# Batches smaller than this are counted text by text under counting="auto": a single query is faster in pure Python.
MIN_TEXTS = 32
# An n-gram is keyed by its code points, 21 bits each, in one int64: at most three characters fit.
MAX_N = 3
_CP_BITS = 21
_CP_MASK = (1 << _CP_BITS) - 1
# Chunks bound the memory of the per-position arrays (several int64 per character).
_CHUNK_CHARS = 1_000_000
_CHUNK_TEXTS = 1 << 20

Keyed = tuple[np.ndarray, np.ndarray]   # (sorted int keys of the vocabulary's n-grams, their columns)


def supports(ngram_range: tuple[int, int] | None) -> bool:
    """Whether n-grams of this range have integer keys (1 <= min_n <= max_n <= MAX_N)."""
    if ngram_range is None:
        return False
    lo, hi = ngram_range
    return 1 <= lo <= hi <= MAX_N


def key_index(vocab: dict) -> Keyed | None:
    """The vocabulary's n-grams as sorted integer keys with their columns; None if a token has no key."""
    keys = np.empty(len(vocab), np.int64)
    cols = np.empty(len(vocab), np.int64)
    for i, (tok, j) in enumerate(vocab.items()):
        if not isinstance(tok, str) or not 1 <= len(tok) <= MAX_N:
            return None
        k = 0
        for c in tok:
            k = (k << _CP_BITS) | ord(c)
        keys[i], cols[i] = k, j
    order = np.argsort(keys, kind="stable")
    return keys[order], cols[order]


def pruned(keyed: Keyed, keep: np.ndarray) -> Keyed:
    """The key index after the vocabulary keeps only the columns where `keep` is true (renumbered in order)."""
    keys, cols = keyed
    new_col = np.cumsum(keep) - 1
    kept = keep[cols]
    return keys[kept], new_col[cols[kept]]


def count(texts: Sequence[str], ngram_range: tuple[int, int], vocab: dict, keyed: Keyed, *, grow: bool,
          packed: bool = True) -> tuple[sp.csr_matrix, Keyed]:
    """Term frequencies of prepared texts over `vocab`, and the key index after any growth.

    Equal to counting text by text: same matrix, same index order within rows, and with grow=True new n-grams
    join `vocab` (in place) in the order the per-text loop would add them. packed=False takes the sort-based
    route even where the packed one fits (tests compare both).
    """
    keys_sorted, cols_sorted = keyed
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    ends = np.cumsum(lens)
    row_nnz = np.zeros(len(texts), np.int64)
    indices_parts, data_parts = [], []
    start = 0
    while start < len(texts):
        base = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, base + _CHUNK_CHARS, side="right"))
        end = min(max(end, start + 1), start + _CHUNK_TEXTS, len(texts))
        doc, cols, counts, keys_sorted, cols_sorted = _chunk_counts(
            texts[start:end], lens[start:end], ngram_range, grow, vocab, keys_sorted, cols_sorted, packed)
        row_nnz[start:end] = np.bincount(doc, minlength=end - start)
        indices_parts.append(cols)
        data_parts.append(counts)
        start = end
    indptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(row_nnz, out=indptr[1:])
    indices = np.concatenate(indices_parts) if indices_parts else np.zeros(0, np.int64)
    data = np.concatenate(data_parts).astype(np.float64) if data_parts else np.zeros(0, np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(texts), len(vocab))), (keys_sorted, cols_sorted)


def _chunk_counts(texts, lens, ngram_range, grow, vocab, keys_sorted, cols_sorted, packed):
    """(row, column, count) of one chunk, rows in order and columns in first-seen order within a row."""
    lo, hi = ngram_range
    k = hi - lo + 1
    joined = "\x00".join(texts) + "\x00"
    # Break characters (exactly _NON_TEXT's class, applied by the regex itself) become 0.
    cp = np.frombuffer(NON_TEXT_CHAR.sub("\x00", joined).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
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
    pairs = _packed_pairs(cp, is_text, occ_key, occ_doc, len(texts), hi) if packed else None
    if pairs is not None:
        pdoc, kidx, counts, ukeys, first_app = pairs
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
    if pairs is None:
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
        # New n-grams get columns in order of first appearance, as the per-text loop would number them.
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
        # Few distinct code points: a lookup table over all dense n-grams beats sorting them.
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
