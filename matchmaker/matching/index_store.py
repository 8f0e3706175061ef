"""Saving and loading a TextIndex: .npy arrays, the pickled text model, and a versioned, checksummed manifest."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import scipy
import scipy.sparse as sp

from matchmaker.matching.index_rows import IndexParts, TextStore
from matchmaker.matching.index_segments import Segment

INDEX_FORMAT = "matchmaker-text-index"
# 2: the model is matchmaker.matching.text_model.TextModel with scikit-learn style attributes (1 pickled
# matchmaker.matching.text.TextModel, which kept its parameters in a dict).
FORMAT_VERSION = 2
MODEL_FILE = "model.joblib"


class IndexVersionError(RuntimeError):
    """A saved index was written by another format or library version; rebuild it from the source records."""


def arrays(parts: IndexParts) -> dict[str, np.ndarray]:
    """Every array of the index by file name (without .npy)."""
    n = parts.n_rows
    blob, offsets = parts.texts.arrays()
    out = {"ids": _id_array(parts.ids), "alive": parts.alive[:n], "text_blob": blob, "text_offsets": offsets}
    for name, values in parts.attributes.items():
        out[f"attr.{name}"] = values[:n]
    for i, seg in enumerate(parts.segments):
        out.update({f"seg{i}.data": seg.matrix.data, f"seg{i}.indices": seg.matrix.indices,
                    f"seg{i}.indptr": seg.matrix.indptr, f"seg{i}.post_ptr": seg.post_ptr,
                    f"seg{i}.post_rows": seg.post_rows, f"seg{i}.post_weights": seg.post_weights})
    return out


def save(path: str | os.PathLike, model, parts: IndexParts, params: dict) -> None:
    """Write the index to a directory, atomically replacing any previous one.

    Arrays are .npy files (no pickle); the model is a joblib pickle whose SHA-256 and the library
    versions are recorded in manifest.json. Load only indexes this application wrote.
    """
    import joblib

    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".index-", dir=parent)
    try:
        named = arrays(parts)
        for name, array in named.items():
            np.save(os.path.join(work, name + ".npy"), array, allow_pickle=False)
        model_file = os.path.join(work, MODEL_FILE)
        joblib.dump(model, model_file)
        manifest = _manifest(parts, sorted(named), _sha256(model_file), params)
        with open(os.path.join(work, "manifest.json"), "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=2)
        replace_dir(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _manifest(parts: IndexParts, array_names: list[str], model_sha256: str, params: dict) -> dict:
    # The model pickle holds only numpy arrays and Python containers (tests/unit/test_index.py checks that no
    # scikit-learn object is in it), so numpy is the library whose version matters; scipy's is provenance.
    return {
        "index_format": INDEX_FORMAT, "format_version": FORMAT_VERSION,
        "numpy_version": np.__version__, "scipy_version": scipy.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "doc_count": int(np.count_nonzero(parts.alive[: parts.n_rows])), "rows": parts.n_rows,
        "n_terms": parts.n_terms,
        "segments": [{"start": s.start, "rows": s.size} for s in parts.segments],
        "attributes": sorted(parts.attributes), "arrays": array_names,
        "model_file": MODEL_FILE, "model_sha256": model_sha256, "params": params,
    }


def load(path: str | os.PathLike, *, mmap: bool = False) -> tuple[object, dict, IndexParts]:
    """(model, index parameters, parts) of an index written by `save`; IndexVersionError if it must be rebuilt.

    mmap=True maps the big read-only arrays instead of reading them (instant load, lazy paging); the arrays
    a live index writes to (alive, attributes) are mapped copy-on-write: a page is copied only when written, and
    the saved files are never changed (copying them up front was a quarter of a restart at 1M).
    """
    import joblib

    path = os.fspath(path)
    manifest = _read_manifest(path)
    model_file = os.path.join(path, manifest["model_file"])
    if _sha256(model_file) != manifest["model_sha256"]:
        raise IndexVersionError(f"{model_file} does not match its manifest checksum; rebuild the index")
    model = joblib.load(model_file)

    def array(name: str, mapped: bool = False, written: bool = False) -> np.ndarray:
        mode = ("c" if written else "r") if mmap and (mapped or written) else None
        # A plain array over the same mapping: np.memmap's own indexing runs Python code for every item read, which
        # was an eighth of ranking a province demand (an attribute of each candidate, one at a time).
        return np.load(os.path.join(path, name + ".npy"), allow_pickle=False, mmap_mode=mode).view(np.ndarray)

    n_terms = manifest["n_terms"]
    segments = []
    for i, seg in enumerate(manifest["segments"]):
        matrix = sp.csr_matrix((array(f"seg{i}.data", True), array(f"seg{i}.indices", True),
                                array(f"seg{i}.indptr", True)), shape=(seg["rows"], n_terms))
        segments.append(Segment(seg["start"], matrix, array(f"seg{i}.post_ptr", True),
                                array(f"seg{i}.post_rows", True), array(f"seg{i}.post_weights", True)))
    parts = IndexParts(
        n_terms=n_terms, n_rows=manifest["rows"], ids=array("ids").tolist(), alive=array("alive", written=True),
        texts=TextStore(array("text_blob", True) if mmap else array("text_blob").tobytes(), array("text_offsets", True)),
        attributes={name: array(f"attr.{name}", written=True) for name in manifest["attributes"]}, segments=segments)
    return model, manifest["params"], parts


def _read_manifest(path: str) -> dict:
    try:
        with open(os.path.join(path, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise IndexVersionError(f"{path} has no manifest.json; it is not a saved index - rebuild it") from None
    if manifest.get("index_format") != INDEX_FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexVersionError(
            f"index at {path} has format {manifest.get('index_format')!r} version {manifest.get('format_version')!r}, "
            f"this code reads {INDEX_FORMAT!r} version {FORMAT_VERSION}; rebuild the index")
    # The .npy files and the pickled arrays are read by numpy: a new major version may lay them out differently.
    if str(manifest.get("numpy_version", "")).split(".")[0] != np.__version__.split(".")[0]:
        raise IndexVersionError(
            f"index at {path} was built with numpy {manifest.get('numpy_version')}, this is {np.__version__}; rebuild the index")
    return manifest


def _id_array(ids: list) -> np.ndarray:
    if all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, dtype=np.int64)
    if all(isinstance(i, str) for i in ids):
        return np.asarray(ids, dtype=str)
    raise TypeError("ids must be all integers or all strings to be saved")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def replace_dir(new: str, target: str) -> None:
    """Swap a freshly written directory in for the old one."""
    # Swap via renames so a crash leaves either the old or the new index, never a half-written one.
    if os.path.exists(target):
        old = tempfile.mkdtemp(prefix=".index-old-", dir=os.path.dirname(os.path.abspath(target)))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)
