"""The expiry check's own indexes (issue 17): published postings by expiry date / deadline, as partial indexes, in
place of (status, date). With statistics, PostgreSQL took status and date as independent, expected thousands of
published postings past their date, and answered "the first one" by walking the plain date index through every
record that expired long ago: 7.8 ms on each request at the province scale, against 0.06 ms on these
(models/libraries.py). SQLite gets the same indexes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED_ONLY = sa.text("status = 'published'")
# Each table, its date column, and the (status, date) index the partial one replaces.
TABLES = (("achievements", "expires_on", "ix_achievements_status_expires"),
          ("demands", "deadline", "ix_demands_status_deadline"))


def upgrade() -> None:
    for table, date, replaced in TABLES:
        op.create_index(f"ix_{table}_published_{date}", table, [date], unique=False,
                        postgresql_where=PUBLISHED_ONLY, sqlite_where=PUBLISHED_ONLY)
        op.drop_index(replaced, table_name=table)


def downgrade() -> None:
    for table, date, replaced in TABLES:
        op.create_index(replaced, table, ["status", date], unique=False)
        op.drop_index(f"ix_{table}_published_{date}", table_name=table)
