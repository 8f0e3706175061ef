"""Newest-first library pages served by an index on PostgreSQL too (issue 17): (posted_on DESC NULLS LAST, id DESC),
alone and after status and after field_code, on achievements and demands. PostgreSQL sorts NULLs first in a descending
scan, so 0015's and 0016's indexes could not give the default order (newest first, undated last) and each default page
read and sorted the whole library. SQLite needs none (models/libraries.py says why), so nothing happens there.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [(f"ix_{table}_{name}", table, [*keys, "posted_on DESC NULLS LAST", "id DESC"])
           for table in ("achievements", "demands")
           for name, keys in (("posted_newest", ()), ("status_posted_newest", ("status",)),
                              ("field_posted_newest", ("field_code",)))]


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name, table, keys in INDEXES:
        op.create_index(name, table, [sa.text(key) for key in keys], unique=False)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
