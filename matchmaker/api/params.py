"""Bounded integer parameters shared by the controllers: ids fit the databases' 32-bit integer keys.

An unbounded `int` let a path such as /users/100000000000000000000 reach SQLite, which cannot bind it (500).
With these bounds the spec says what is accepted and anything outside is a 400 before a query runs.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

MAX_ID = 2**31 - 1  # INTEGER primary keys on both databases

PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
Offset = Annotated[int, Parameter(ge=0, le=MAX_ID)]
BodyId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
