"""Newest-first library pages within one technology field, served by an index (issue 17): (field_code, posted_on,
id) on achievements and demands. Without it a field's page fetched every record of the field and sorted them
(225 ms for 67,906 achievements of the national world; benchmarks/speed/listing.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 12:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_achievements_field_posted', 'achievements', ['field_code', 'posted_on', 'id'], unique=False)
    op.create_index('ix_demands_field_posted', 'demands', ['field_code', 'posted_on', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_demands_field_posted', table_name='demands')
    op.drop_index('ix_achievements_field_posted', table_name='achievements')
