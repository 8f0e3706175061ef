"""The live matcher on disk: saved into one directory with its replay position, loaded mapped, caught up with the
database's open records and their stored sentence vectors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from matchmaker import vocabulary as v
from matchmaker.db import id_batches
from matchmaker.matching import records, semantic
from matchmaker.matching.embedding import record_key, stored_vectors
from matchmaker.matching.index import IndexVersionError, TextIndex, replace_dir
from matchmaker.matching.ranking import Matcher
from matchmaker.matching.records import open_ids
from matchmaker.matching.semantic import VectorStore
from matchmaker.models import IndexChange, TechnologyField

log = logging.getLogger("matchmaker.matching")

STATE_FORMAT = "matchmaker-matcher"
STATE_VERSION = 3   # 2: sentence vectors saved beside the text indexes; 3: amounts and modes in the index


def save(service) -> None:
    """Write the service's matcher (both indexes) and its replay position into one directory, swapped in
    atomically."""
    with service._lock:
        if service.matcher is None:
            return
        parent = service.directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".matcher-", dir=parent))
        try:
            service.matcher.achievement_index.save(work / "achievements")
            service.matcher.demand_index.save(work / "demands")
            service.matcher.achievement_vectors.save(work / "achievements")
            service.matcher.demand_vectors.save(work / "demands")
            state = {"format": STATE_FORMAT, "version": STATE_VERSION, "last_change_id": service.last_change_id,
                     "database": database_key(service.settings.database_url), "text_params": service.matcher.text_params,
                     "weights": asdict(service.matcher.weights), "provenance": service.provenance,
                     "ranker": service.ranker, "semantic_model": semantic.MODEL if service.semantic else None}
            (work / "state.json").write_text(json.dumps(state, default=list), encoding="utf-8")
            replace_dir(str(work), str(service.directory))
            service._unsaved = 0
        except OSError as error:  # another worker saving at the same moment; its copy is as good
            log.warning("could not save the match index: %s", error)
            shutil.rmtree(work, ignore_errors=True)


def copy_saved(source: Path, target: Path, *, database_url: str | None = None) -> None:
    """A copy of a saved matcher, swapped in atomically. `database_url` names the database the copy serves when it
    goes with a copy of its own (a simulation run on its copy of a world): same records, same change log."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".matcher-", dir=target.parent))
    try:
        shutil.copytree(source, work, dirs_exist_ok=True)
        if database_url is not None:
            state = json.loads((work / "state.json").read_text(encoding="utf-8"))
            state["database"] = database_key(database_url)
            (work / "state.json").write_text(json.dumps(state), encoding="utf-8")
        replace_dir(str(work), str(target))
    except OSError as error:   # another run copying the same matcher at the same moment; its copy is as good
        log.warning("could not copy the saved matcher: %s", error)
        shutil.rmtree(work, ignore_errors=True)


def load(service) -> tuple[Matcher, int]:
    """The saved matcher, mapped and caught up with the open records, and the change id it replays from; an
    IndexVersionError when the directory holds none this database and this code can use."""
    state_file = service.directory / "state.json"
    if not state_file.exists():
        raise IndexVersionError(f"no saved matcher at {service.directory}")
    state = json.loads(state_file.read_text(encoding="utf-8"))
    if state.get("format") != STATE_FORMAT or state.get("version") != STATE_VERSION:
        raise IndexVersionError(f"{state_file} has format {state.get('format')!r} version {state.get('version')!r}")
    if state.get("database") != database_key(service.settings.database_url):
        raise IndexVersionError("the saved matcher was built from another database")
    text_params = {k: tuple(p) if isinstance(p, list) else p for k, p in state["text_params"].items()}
    with service.session_factory() as session:
        newest = session.scalar(select(IndexChange.id).order_by(IndexChange.id.desc()).limit(1)) or 0
        if state["last_change_id"] > newest:
            raise IndexVersionError("the saved matcher is ahead of this database's change log")
        matcher = Matcher(text_params=text_params, weights=service.weights, known_fields=known_fields(session))
        # Mapped, not read: the saved arrays are shared by every worker process on the host through the page
        # cache (one copy, not one per worker), and loading takes no time whatever the size.
        matcher.achievement_index = TextIndex.load(service.directory / "achievements", mmap=True)
        matcher.demand_index = TextIndex.load(service.directory / "demands", mmap=True)
        if service.semantic:
            matcher.achievement_vectors = VectorStore.load(service.directory / "achievements")
            matcher.demand_vectors = VectorStore.load(service.directory / "demands")
        today = service.today()
        achievement_ids, demand_ids = open_ids(session, today)
        for library, wanted in ((v.Library.ACHIEVEMENTS, achievement_ids), (v.Library.DEMANDS, demand_ids)):
            reconcile(session, matcher, library, wanted, today)
            if service.semantic:
                docs = matcher.achievements if library is v.Library.ACHIEVEMENTS else matcher.demands
                store = matcher.achievement_vectors if library is v.Library.ACHIEVEMENTS else matcher.demand_vectors
                attach_vectors(session, matcher, library, [docs[i] for i in docs if i not in store])
    return matcher, state["last_change_id"]


def reconcile(session: Session, matcher: Matcher, library: v.Library, wanted: list[int], today: dt.date) -> None:
    """Catch a loaded matcher up with writes that bypassed the change log (CLI imports, a regenerated world).

    By ids alone, as arrays (a million of them): the index holds every field the ranking reads, so only records
    missing from it are read.
    """
    index = matcher.achievement_index if library is v.Library.ACHIEVEMENTS else matcher.demand_index
    held = np.asarray(index.ids(), dtype=np.int64)[index.alive()] if index.n_rows else np.zeros(0, np.int64)
    wanted_ids = np.asarray(wanted, dtype=np.int64)
    for doc_id in np.setdiff1d(held, wanted_ids, assume_unique=True).tolist():
        index.remove(doc_id)
    for batch in id_batches(np.setdiff1d(wanted_ids, held, assume_unique=True).tolist(), records.CHUNK):
        found = records.docs_by_id(session, library, batch, today)
        matcher.upsert_many(library.value, [found[record_id] for record_id in batch if record_id in found])


def attach_vectors(session: Session, matcher: Matcher, library: v.Library, docs: list) -> None:
    """Give the matcher the stored sentence vectors of these records (those embedded from their current text)."""
    if matcher.weights.semantic <= 0 or not docs:
        return
    keys = {doc.id: record_key(library, doc.title, doc.body)[1] for doc in docs}
    for record_id, vector in stored_vectors(session, library, keys).items():
        matcher.set_vector(library.value, record_id, vector)


def known_fields(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(TechnologyField.code)))


def database_key(url: str) -> str:
    # The saved index names the database it came from (without the password), so a copy is not reused elsewhere.
    plain = make_url(url).render_as_string(hide_password=True)
    return hashlib.sha256(plain.encode()).hexdigest()[:16]
