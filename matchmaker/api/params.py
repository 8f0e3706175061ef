"""The parameters and the page every list shares: ids within 32-bit keys, one page-size limit, regions, Page[T].

An unbounded `int` let a path such as /users/100000000000000000000 reach SQLite, which cannot bind it (500).
With these bounds the spec says what is accepted and anything outside is a 400 before a query runs.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

import msgspec
from litestar.params import Parameter

from matchmaker import db, seeds
from matchmaker.api.patterns import REGION_CODE, YUAN

MAX_ID = 2**31 - 1  # INTEGER primary keys on both databases

PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
Offset = Annotated[int, Parameter(ge=0, le=MAX_ID)]
BodyId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# Money travels as a decimal string: a JSON number would pass through a float somewhere on the way.
Yuan = Annotated[str, msgspec.Meta(pattern=YUAN,
                                   description="yuan as a decimal string, e.g. \"1250000.00\"")]

MAX_LIMIT = 200   # one page size bound for every list (a page of postings, pipelines, inbox entries …)
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")]
RegionFilter = Annotated[str | None, Parameter(pattern=REGION_CODE, description=(
    "a six-digit GB/T 2260 code; a province includes its cities and counties, a city its counties"))]
# The technology fields of seeds/fields/, declared as an enum so the spec names every accepted code.
FIELD_CODES = tuple(field.code for field in seeds.fields())
FieldCode = Literal[FIELD_CODES]  # type: ignore[valid-type]  # built from the seeds at import time
ReportFieldCode = Literal[(*FIELD_CODES, "unclassified")]  # type: ignore[valid-type]  # analytics group the rest
FieldFilter = Annotated[FieldCode | None, Parameter(description="a technology field code (see GET /fields)")]
SORT_KEYS = ("posted_on", "updated_at", "trl", "price")
Sort = Literal[tuple(key for name in SORT_KEYS for key in (name, f"-{name}"))]  # type: ignore[valid-type]
Trl = Annotated[int | None, Parameter(ge=1, le=9, description="technology readiness level 1–9")]

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list: its items, how many match in all, and where the page starts."""

    items: list[T]
    total: int
    limit: int
    offset: int
    # False when the list holds more than `total` (a library's matches are counted up to 10,000 and no further).
    total_exact: bool = True

    @classmethod
    def counted(cls, items: list, total: int, limit: int, offset: int) -> "Page":
        """A page whose total was counted up to COUNT_CAP (db.paged's count_cap): COUNT_CAP + 1 means more."""
        return cls(items, min(total, db.COUNT_CAP), limit, offset, total_exact=total <= db.COUNT_CAP)
