"""Records of a TextIndex by internal row: ids, liveness, texts, attribute columns and filters, vectors in segments."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import numpy as np
import scipy.sparse as sp

from matchmaker.matching.index_segments import Segment, seal


@dataclass
class IndexParts:
    """What an index holds, as saved and loaded; arrays are aligned with its internal rows."""

    n_terms: int
    n_rows: int
    ids: list[Hashable]            # record id per row, withdrawn rows included
    alive: np.ndarray              # bool per row
    texts: "TextStore"
    attributes: dict[str, np.ndarray]
    segments: list[Segment]


class RowStore:
    """Rows in insertion order: sealed segments, then a delta of recent adds; withdrawn rows stay as tombstones.

    The storage half of TextIndex (which adds the model and search); rows are never reused until a rebuild.
    """

    def __init__(self, *, posting_cap: int | None, delta_limit: int):
        self.posting_cap = posting_cap    # None: by segment size, see index_segments.POSTING_CAP
        self.delta_limit = delta_limit
        self._reset(n_terms=0)

    # ------------------------------------------------------------------ building
    def _reset(self, n_terms: int) -> None:
        self._n_terms = n_terms
        self._segments: list[Segment] = []
        self._delta_rows: list[sp.csr_matrix] = []
        self._delta_matrix: sp.csr_matrix | None = None
        self._n_rows = 0
        self._ids: list[Hashable] = []
        self._row_of: dict[Hashable, int] = {}
        self._alive = np.zeros(0, dtype=bool)
        self._attributes: dict[str, np.ndarray] = {}
        self._texts = TextStore()

    def _load_state(self, ids, matrix, titles, bodies, attributes) -> None:
        self._reset(n_terms=matrix.shape[1])
        n = len(ids)
        self._ids = list(ids)
        self._row_of = {doc_id: row for row, doc_id in enumerate(self._ids)}
        self._n_rows = n
        self._alive = np.ones(n, dtype=bool)
        for name, values in attributes.items():
            values = np.asarray(values)
            if values.shape != (n,):
                raise ValueError(f"attribute {name!r} must have one value per record")
            self._attributes[name] = storable(values)
        self._texts = TextStore.from_texts(titles, bodies)
        if n:
            self._segments = [seal(0, matrix, self.posting_cap)]

    def _append(self, doc_id: Hashable, title: str, body: str, vector: sp.csr_matrix, attributes: dict[str, Any]) -> None:
        """Upsert a record as a new row in the delta (an existing id's old row is withdrawn)."""
        self.remove(doc_id)
        row = self._n_rows
        self._grow(row + 1)
        self._n_rows += 1
        self._ids.append(doc_id)
        self._row_of[doc_id] = row
        self._alive[row] = True
        self._texts.append(title, body)
        self._set_attributes(row, attributes)
        self._delta_rows.append(vector)
        self._delta_matrix = None
        if len(self._delta_rows) >= self.delta_limit:
            self._seal_delta()

    def remove(self, doc_id) -> bool:
        """Withdraw a record: it is never returned again. False if the id is unknown."""
        row = self._row_of.pop(plain_id(doc_id), None)
        if row is None:
            return False
        self._alive[row] = False
        return True

    def _grow(self, n: int) -> None:
        # Capacity doubles so a stream of adds costs amortised O(1) copying per add.
        if n <= self._alive.size:
            return
        capacity = max(n, 2 * self._alive.size, 1024)
        self._alive = resized(self._alive, capacity, False)
        for name, values in self._attributes.items():
            self._attributes[name] = resized(values, capacity, missing(values.dtype))

    def _set_attributes(self, row: int, attributes: dict[str, Any]) -> None:
        for name, value in attributes.items():
            if name not in self._attributes:
                dtype = storable(np.asarray([value])).dtype
                self._attributes[name] = np.full(self._alive.size, missing(dtype), dtype=dtype)
            values = self._attributes[name]
            if values.dtype.kind == "U" and len(str(value)) > values.dtype.itemsize // 4:
                values = self._attributes[name] = values.astype(f"U{len(str(value))}")
            values[row] = value

    def _seal_delta(self) -> None:
        if not self._delta_rows:
            return
        matrix = self._delta()
        start = self._n_rows - matrix.shape[0]
        self._segments.append(seal(start, matrix, self.posting_cap))
        self._delta_rows, self._delta_matrix = [], None
        self._merge_segments()

    def _merge_segments(self) -> None:
        # Binary-counter merging of the newest segments keeps their count logarithmic in the number
        # of adds while each row is re-indexed O(log n) times; the big fitted segment merges only
        # after as many adds as it has rows.
        segs = self._segments
        while len(segs) >= 2 and segs[-2].size <= 2 * segs[-1].size:
            newer, older = segs.pop(), segs.pop()
            segs.append(seal(older.start, sp.vstack([older.matrix, newer.matrix], format="csr"), self.posting_cap))

    def _delta(self) -> sp.csr_matrix:
        if self._delta_matrix is None:
            if self._delta_rows:
                self._delta_matrix = as_csr32(sp.vstack(self._delta_rows, format="csr"))
            else:
                self._delta_matrix = sp.csr_matrix((0, self._n_terms), dtype=np.float32)
        return self._delta_matrix

    def _pieces(self, rows: np.ndarray) -> list[tuple[np.ndarray, sp.csr_matrix, np.ndarray]]:
        """Where internal rows live: (which of `rows`, the matrix holding them, their rows in it) for each segment,
        then the delta, that holds any of them."""
        delta = self._delta()
        holders = [(seg.matrix, seg.start) for seg in self._segments] + [(delta, self._n_rows - delta.shape[0])]
        pieces = []
        for matrix, start in holders:
            inside = (rows >= start) & (rows < start + matrix.shape[0])
            if inside.any():
                pieces.append((inside, matrix, rows[inside] - start))
        return pieces

    def _row_entries(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """A row's term indices and weights, as views of its matrix (scipy's row indexing builds a new matrix: 0.1
        ms, a tenth of explaining a match)."""
        pieces = self._pieces(np.array([row]))
        if not pieces:
            raise KeyError(row)
        _, matrix, (local,) = pieces[0]
        start, end = matrix.indptr[local], matrix.indptr[local + 1]
        return matrix.indices[start:end], matrix.data[start:end]

    # ------------------------------------------------------------------ records and filters
    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, doc_id) -> bool:
        return plain_id(doc_id) in self._row_of

    @property
    def n_rows(self) -> int:
        """Internal rows including withdrawn ones; masks and attribute arrays have this length."""
        return self._n_rows

    def ids(self) -> list[Hashable]:
        """Record id of every internal row (withdrawn rows included; see `alive`)."""
        return list(self._ids)

    def row_of(self, doc_id) -> int | None:
        return self._row_of.get(plain_id(doc_id))

    def alive(self) -> np.ndarray:
        return self._alive[: self._n_rows].copy()

    def text(self, doc_id) -> tuple[str, str]:
        """The stored (title, body) of a live record."""
        return self._texts.get(self._row_of[plain_id(doc_id)])

    def attribute(self, name: str) -> np.ndarray:
        """Per-row values of an attribute (a view aligned with internal rows; missing values are NaN / -1 / '')."""
        if name not in self._attributes:
            raise KeyError(f"unknown attribute {name!r}; known: {sorted(self._attributes)}")
        return self._attributes[name][: self._n_rows]

    def values_at(self, row: int, names: tuple[str, ...]) -> list:
        """One row's values of these attributes (no view of each whole column on the way: ranking reads a few
        attributes of each of tens of candidates a query)."""
        return [self._attributes[name][row] for name in names]

    def attribute_names(self) -> list[str]:
        return sorted(self._attributes)

    def mask_equal(self, name: str, values) -> np.ndarray:
        """Rows whose attribute equals the value (or any of a list of values), e.g. a field code."""
        column = self.attribute(name)
        values = np.atleast_1d(np.asarray(values, dtype=column.dtype if column.dtype.kind != "U" else None))
        return column == values[0] if values.size == 1 else np.isin(column, values)

    def mask_range(self, name: str, low=None, high=None) -> np.ndarray:
        """Rows whose numeric attribute lies in [low, high] (either bound optional); NaN never matches."""
        column = self.attribute(name)
        mask = np.ones(column.size, dtype=bool) if column.dtype.kind != "f" else ~np.isnan(column)
        if low is not None:
            mask &= column >= low
        if high is not None:
            mask &= column <= high
        return mask

    def mask_prefix(self, name: str, prefix: str | int, width: int = 6) -> np.ndarray:
        """Rows whose code starts with the prefix, e.g. province '33' of region codes like 330106.

        String codes compare their first len(prefix) characters; integer codes are taken as
        `width`-digit numbers (administrative division codes have 6 digits).
        """
        column = self.attribute(name)
        prefix = str(prefix)
        if column.dtype.kind == "U":
            return column.astype(f"U{len(prefix)}") == prefix
        if column.dtype.kind in "iu":
            scale = 10 ** (width - len(prefix))
            return (column >= 0) & (column // scale == int(prefix))
        raise TypeError(f"attribute {name!r} is not a code (string or integer)")

    def _require_fitted(self) -> None:
        if self._n_terms == 0 and not self._segments:
            raise RuntimeError("the index is not fitted; call fit() first")

    # ------------------------------------------------------------------ persistence view
    def _parts(self) -> IndexParts:
        return IndexParts(self._n_terms, self._n_rows, self._ids, self._alive, self._texts, self._attributes,
                          self._segments)

    def _restore(self, parts: IndexParts) -> None:
        self._reset(n_terms=parts.n_terms)
        self._ids = parts.ids
        self._n_rows = parts.n_rows
        self._alive = parts.alive
        self._row_of = {parts.ids[r]: r for r in np.flatnonzero(parts.alive[: parts.n_rows]).tolist()}
        self._texts = parts.texts
        self._attributes = parts.attributes
        self._segments = parts.segments


class TextStore:
    """Titles and bodies by internal row, kept as one UTF-8 blob (compact, fast to load) plus a tail of recent adds."""

    def __init__(self, blob: bytes | np.ndarray = b"", offsets: np.ndarray | None = None):
        self._blob = blob
        self._offsets = offsets if offsets is not None else np.zeros(1, dtype=np.int64)  # 2 * rows + 1 bounds
        self._tail: list[str] = []

    @classmethod
    def from_texts(cls, titles: Sequence[str], bodies: Sequence[str]) -> "TextStore":
        parts = [s.encode("utf-8") for pair in zip(titles, bodies) for s in pair]
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        return cls(b"".join(parts), offsets)

    def __len__(self) -> int:
        return (self._offsets.size - 1 + len(self._tail)) // 2

    def append(self, title: str, body: str) -> None:
        self._tail += [title, body]

    def get(self, row: int) -> tuple[str, str]:
        sealed = (self._offsets.size - 1) // 2
        if row >= sealed:
            i = 2 * (row - sealed)
            return self._tail[i], self._tail[i + 1]
        o, blob = self._offsets, self._blob   # bytes, or a memory-mapped uint8 array (index_store.load, mmap)
        return (bytes(blob[o[2 * row]:o[2 * row + 1]]).decode("utf-8"),
                bytes(blob[o[2 * row + 1]:o[2 * row + 2]]).decode("utf-8"))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The blob and offsets with the tail folded in, for saving."""
        if self._tail:
            extra = [s.encode("utf-8") for s in self._tail]
            lengths = np.cumsum([len(p) for p in extra]) + self._offsets[-1]
            self._blob = bytes(self._blob) + b"".join(extra)
            self._offsets = np.concatenate([self._offsets, lengths.astype(np.int64)])
            self._tail = []
        return np.frombuffer(self._blob, dtype=np.uint8), self._offsets


# ---------------------------------------------------------------------- helpers
def plain_id(doc_id) -> Hashable:
    # numpy scalars become Python ones so 7, np.int64(7) and a loaded id are the same key.
    return doc_id.item() if isinstance(doc_id, np.generic) else doc_id


def as_csr32(matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix)
    if matrix.dtype != np.float32:
        matrix = matrix.astype(np.float32)
    return matrix


def storable(values: np.ndarray) -> np.ndarray:
    """An attribute column as it can be kept."""
    # Attributes persist as plain .npy without pickle, so object arrays become strings.
    if values.dtype.kind == "O":
        return values.astype(str)
    if values.dtype.kind not in "biufU":
        raise TypeError(f"unsupported attribute dtype {values.dtype}")
    return values


def missing(dtype: np.dtype):
    """What a column of this dtype holds for a row without the attribute (NaN, False, '', -1; 0 if unsigned)."""
    return {"f": np.nan, "b": False, "U": ""}.get(dtype.kind, -1 if dtype.kind == "i" else 0)


def resized(values: np.ndarray, capacity: int, fill) -> np.ndarray:
    out = np.full(capacity, fill, dtype=values.dtype)
    out[: values.size] = values
    return out
