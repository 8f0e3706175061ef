"""Review notes kept on postings; a declined or lapsed (demand, achievement) pair may be claimed again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "stage NOT IN ('declined', 'lapsed')"


def upgrade() -> None:
    for table in ("achievements", "demands"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
    with op.batch_alter_table("pipelines") as batch_op:
        batch_op.drop_constraint("uq_pipelines_demand_id", type_="unique")
        batch_op.create_index("uq_pipelines_live_pair", ["demand_id", "achievement_id"], unique=True,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    # Fails (by design) if a pair was claimed again: the old schema cannot hold two pipelines for one pair.
    with op.batch_alter_table("pipelines") as batch_op:
        batch_op.drop_index("uq_pipelines_live_pair")
        batch_op.create_unique_constraint("uq_pipelines_demand_id", ["demand_id", "achievement_id"])
    for table in ("demands", "achievements"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("review_note")
