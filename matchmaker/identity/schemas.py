"""Request and response shapes for users and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from matchmaker import vocabulary as v
from matchmaker.api.params import BodyId
from matchmaker.api.patterns import REGION_CODE


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    role: v.Role
    organisation_id: BodyId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    # An analyst's market (a province or city GB/T 2260 code); null = the whole platform.
    region_code: Annotated[str, msgspec.Meta(pattern=REGION_CODE)] | None = None


class UserOut(msgspec.Struct):
    id: int
    name: str
    role: str
    organisation_id: int
    revoked: bool
    created_at: dt.datetime
    token_expires_at: dt.datetime | None = None   # after this the API token stops working; rotate it before
    region_code: str | None = None   # an analyst's market; null = the whole platform


class UserWithToken(msgspec.Struct):
    user: UserOut
    token: str  # shown once; only its hash is stored


def user_out(user) -> UserOut:
    return UserOut(user.id, user.name, user.role, user.organisation_id, user.revoked_at is not None, user.created_at,
                   user.token_expires_at, user.region_code)
