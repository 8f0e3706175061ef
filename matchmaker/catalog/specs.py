"""What the catalog holds: a descriptor per kind of record, posting statuses, schema fields as columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec
from sqlalchemy import Table

from matchmaker import vocabulary as v
from matchmaker.catalog.schemas import AchievementIn, DemandIn, OrganisationIn
from matchmaker.models import Achievement, Demand, Organisation

# The review workflow both libraries share (their enums in vocabulary add transferred / solved).
DRAFT, PENDING, PUBLISHED, EXPIRED, WITHDRAWN = (v.AchievementStatus.DRAFT, v.AchievementStatus.PENDING_REVIEW,
                                                v.AchievementStatus.PUBLISHED, v.AchievementStatus.EXPIRED,
                                                v.AchievementStatus.WITHDRAWN)
UNPUBLISHED = (DRAFT, PENDING)  # only the owner and admins know these exist (and reviewers the pending ones)
EDITABLE = (DRAFT, PENDING, PUBLISHED)


@dataclass(frozen=True)
class LibrarySpec:
    """What differs between organisations, achievements and demands, for the services and for files alike.

    Organisations travel in files like the two libraries' postings but are not postings themselves, so they
    leave the posting fields (library onwards) unset.
    """

    name: str  # how files, the command line and URLs name the kind
    noun: str  # the kind in audit subjects and notice keys (an identifier: never changed, never shown)
    words: str  # what people call one of them, in the messages they read (科技成果, 技术需求)
    model: type
    schema: type[msgspec.Struct]
    initial: str  # prefix of the stable export id of a row without an external id
    aliases: dict[str, str] = field(default_factory=dict, hash=False)  # name in a file → schema field
    mode_field: str | None = None
    library: v.Library | None = None
    owner_role: v.Role | None = None
    closed_status: str | None = None  # transferred / solved: the deal is done
    date_column: str | None = None  # past this date a published record is expired
    date_words: str = ""  # what people call that date (有效期, 截止日期)
    trl_column: str | None = None
    price_column: str | None = None
    search_columns: tuple[str, ...] = ()
    children: tuple[str, ...] = ()   # relationships every listed row shows: loaded for the whole page at once

    @property
    def table(self) -> Table:
        return self.model.__table__

    def column(self, name: str):
        return getattr(self.model, name)


ORGANISATIONS = LibrarySpec(
    name="organisations", noun="organisation", words="单位", model=Organisation, schema=OrganisationIn, initial="o",
)
ACHIEVEMENTS = LibrarySpec(
    name="achievements", noun="achievement", words="科技成果", model=Achievement, schema=AchievementIn, initial="a",
    aliases={"description": "summary"}, mode_field="transfer_modes", library=v.Library.ACHIEVEMENTS,
    owner_role=v.Role.OFFICE, closed_status=v.AchievementStatus.TRANSFERRED.value, date_column="expires_on", date_words="有效期",
    trl_column="trl", price_column="asking_price", search_columns=("title", "summary", "keywords"),
    children=("ip_records",),
)
DEMANDS = LibrarySpec(
    name="demands", noun="demand", words="技术需求", model=Demand, schema=DemandIn, initial="d",
    aliases={"description": "problem"}, mode_field="cooperation_modes", library=v.Library.DEMANDS,
    owner_role=v.Role.FIRM, closed_status=v.DemandStatus.SOLVED.value, date_column="deadline", date_words="截止日期",
    trl_column="min_trl", price_column="budget_max", search_columns=("title", "problem", "targets"),
)
KINDS = {spec.name: spec for spec in (ORGANISATIONS, ACHIEVEMENTS, DEMANDS)}
LIBRARIES = {spec.library: spec for spec in (ACHIEVEMENTS, DEMANDS)}

# Schema field → column, where the two names differ (the schema speaks of references, not keys).
COLUMN_OF = {
    "id": "external_id",
    "field": "field_code",
    "region": "region_code",
    "organisation": "organisation_id",
}


def kind_named(name: str) -> LibrarySpec:
    """The descriptor a file's kind names; a ValueError listing the kinds for any other name."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r} (allowed: {', '.join(KINDS)})") from None


def column_values(spec: LibrarySpec, values: dict[str, Any]) -> dict[str, Any]:
    """Schema-named values as column values: renamed, modes as sets, enums as their strings.

    IP records are rows of their own table, not columns: each caller stores them its own way.
    """
    columns: dict[str, Any] = {}
    for name, value in values.items():
        if name == "ip_records":
            continue
        if name == spec.mode_field:
            value = frozenset(v.TransferMode(mode) for mode in value)
        elif isinstance(value, Enum):
            value = value.value
        columns[COLUMN_OF.get(name, name)] = value
    return columns
