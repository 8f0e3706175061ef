"""Embedding published records for the semantic signal: done by the worker, stored in the database, never in a request."""

from __future__ import annotations

import logging
import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matchmaker import vocabulary as v
from matchmaker.catalog import services as catalog
from matchmaker.catalog.specs import LIBRARIES
from matchmaker.db import id_batches
from matchmaker.matching import semantic
from matchmaker.matching.records import open_docs
from matchmaker.models import Embedding

log = logging.getLogger("matchmaker.matching")
BATCH = 128


def record_key(library: v.Library, title: str, body: str) -> tuple[str, str]:
    """(embedded text, its key) of a record."""
    text = semantic.text_for(library.value, title, body)
    return text, semantic.text_key(text)


def stored_vectors(session: Session, library: v.Library, keys: dict[int, str]) -> dict[int, np.ndarray]:
    """Stored vectors of these records whose text is unchanged since they were embedded (record id → key)."""
    found = {}
    ids = list(keys)
    for chunk in id_batches(ids):
        for record_id, text_key, blob in session.execute(
                select(Embedding.record_id, Embedding.text_key, Embedding.vector)
                .where(Embedding.library == library.value, Embedding.model == semantic.MODEL,
                       Embedding.record_id.in_(chunk))):
            if keys.get(record_id) == text_key:
                found[record_id] = semantic.from_bytes(blob)
    return found


def embed_pending(session_factory: sessionmaker[Session], *, limit: int | None = None) -> int:
    """Embed every open record whose vector is missing or stale, in batches; returns how many were embedded.

    Each batch commits its vectors with an index change per record, so every matcher process picks them up.
    Re-running it after a crash redoes at most one batch: the work is derived from what is stored.
    """
    if not semantic.available():
        return 0
    done = 0
    with session_factory() as session:
        achievements, demands = open_docs(session)
        pending: list[tuple[v.Library, int, str, str]] = []
        for library, docs in ((v.Library.ACHIEVEMENTS, achievements), (v.Library.DEMANDS, demands)):
            keys = {doc.id: record_key(library, doc.title, doc.body) for doc in docs}
            have = dict(session.execute(select(Embedding.record_id, Embedding.text_key).where(
                Embedding.library == library.value, Embedding.model == semantic.MODEL)).all())
            pending += [(library, rid, text, key) for rid, (text, key) in keys.items() if have.get(rid) != key]
    if limit is not None:
        pending = pending[:limit]
    started = time.perf_counter()
    for start in range(0, len(pending), BATCH):
        batch = pending[start:start + BATCH]
        for library in v.Library:
            part = [p for p in batch if p[0] is library]
            if not part:
                continue
            vectors = semantic.Encoder.embed(library.value, [text for _, _, text, _ in part])
            with session_factory() as session, session.begin():
                for (_, record_id, _, key), vector in zip(part, vectors):
                    session.merge(Embedding(library=library.value, record_id=record_id, model=semantic.MODEL,
                                            text_key=key, vector=semantic.to_bytes(vector)))
                    catalog.log_index_change(session, LIBRARIES[library], record_id)
        done += len(batch)
    if done:
        log.info("embedded %d records in %.1f s", done, time.perf_counter() - started)
    return done
