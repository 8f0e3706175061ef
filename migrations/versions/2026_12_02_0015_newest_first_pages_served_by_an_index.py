"""Newest-first library pages served by an index (issue 17): (posted_on, id) on achievements and demands, which
SQLite reads backwards and stops after a page instead of sorting every visible row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 08:55:13.118519
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_achievements_posted', 'achievements', ['posted_on', 'id'], unique=False)
    op.create_index('ix_demands_posted', 'demands', ['posted_on', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_demands_posted', table_name='demands')
    op.drop_index('ix_achievements_posted', table_name='achievements')
