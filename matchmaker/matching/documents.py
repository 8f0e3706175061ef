"""The matcher's documents: plain records (no ORM), and the index columns that hold them."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from matchmaker import vocabulary as v
from matchmaker.matching.index import TextIndex
from matchmaker.regions import RegionCode

PUBLISHED = v.AchievementStatus.PUBLISHED.value   # the same value for demands


@dataclass(frozen=True)
class AchievementDoc:
    """A 科技成果 as the matcher sees it (plain data; no ORM)."""

    id: str
    title: str
    body: str
    field_code: str | None = None
    trl: int | None = None
    region_code: str | None = None       # six-digit GB/T 2260
    asking_price: float | None = None    # yuan, like demand budgets
    transfer_modes: frozenset = frozenset()
    status: str = PUBLISHED


@dataclass(frozen=True)
class DemandDoc:
    """A 企业技术需求 as the matcher sees it (plain data; no ORM)."""

    id: str
    title: str
    body: str
    field_code: str | None = None
    min_trl: int | None = None
    region_code: str | None = None
    budget_min: float | None = None
    budget_max: float | None = None
    cooperation_modes: frozenset = frozenset()
    status: str = PUBLISHED


def _as_float(value) -> float:
    return float("nan") if value is None else float(value)


# The fields a record's index row holds besides the filter columns, by document type: every constraint the scoring
# reads, so a restart maps the saved index and is ready without reading a million rows back from the database.
AMOUNTS = {AchievementDoc: ("asking_price",), DemandDoc: ("budget_min", "budget_max")}
MODES = {AchievementDoc: "transfer_modes", DemandDoc: "cooperation_modes"}
TRL = {AchievementDoc: "trl", DemandDoc: "min_trl"}
MODE_SEPARATOR = "|"


def attribute_columns(docs: list, kind: type) -> dict[str, tuple[list, object]]:
    """Per-record columns: the filters (field, region at three levels, TRL; NaN when unknown), amounts and modes."""
    regions = [d.region_code or "" for d in docs]
    for r in regions:
        if r:
            RegionCode(r)
    columns = {
        "field": ([d.field_code or "" for d in docs], str),
        "region": (regions, "U6"),
        "province": ([RegionCode(r).province if r else "" for r in regions], "U6"),
        "city": ([RegionCode(r).city if r else "" for r in regions], "U6"),
        "trl": ([_as_float(getattr(d, TRL[kind])) for d in docs], np.float64),
        "modes": ([MODE_SEPARATOR.join(sorted(getattr(d, MODES[kind]))) for d in docs], str),
    }
    for name in AMOUNTS[kind]:
        columns[name] = ([_as_float(getattr(d, name)) for d in docs], np.float64)
    return columns


class IndexedDocs(Mapping):
    """Read-only {id: document} over an index's live rows, each document rebuilt from its row on access.

    The index is the one copy of the records a matcher holds: no dict of a million documents beside it, and a
    loaded (memory-mapped) index is complete without the database.
    """

    def __init__(self, index: TextIndex, kind: type):
        self.index, self.kind = index, kind

    def __getitem__(self, doc_id):
        if doc_id not in self.index:
            raise KeyError(doc_id)
        return self._document(doc_id, *self.index.text(doc_id))

    def without_text(self, doc_id):
        """The document as its constraints read it: every column, no title or body. Ranking rebuilds tens of
        candidates a query for their constraints alone, and reading the text was half of rebuilding one (py-spy,
        the simulator's ranking)."""
        return self._document(doc_id)

    def _document(self, doc_id, title: str = "", body: str = ""):
        row = self.index.row_of(doc_id)
        if row is None:
            raise KeyError(doc_id)
        names = ("field", "region", "trl", "modes", *AMOUNTS[self.kind])
        value = dict(zip(names, self.index.values_at(row, names)))
        modes = str(value["modes"])
        return self.kind(
            id=doc_id, title=title, body=body, field_code=str(value["field"]) or None,
            region_code=str(value["region"]) or None, status=PUBLISHED,
            **{TRL[self.kind]: _optional(value["trl"], int), MODES[self.kind]: frozenset(modes.split(MODE_SEPARATOR))
               if modes else frozenset()},
            **{name: _optional(value[name], float) for name in AMOUNTS[self.kind]})

    def __contains__(self, doc_id) -> bool:
        return doc_id in self.index

    def __iter__(self):
        alive = self.index.alive()
        return (doc_id for doc_id, live in zip(self.index.ids(), alive) if live)

    def __len__(self) -> int:
        return len(self.index)


def _optional(value, kind):
    return None if np.isnan(value) else kind(value)
