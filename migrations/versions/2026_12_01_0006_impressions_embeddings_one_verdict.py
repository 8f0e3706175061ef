"""Matching round 4: the impression log, stored sentence vectors, one verdict per person per pair.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Repeated verdicts collapse to the newest one per person and pair before the constraint goes on.
    op.execute("""
        DELETE FROM feedback WHERE id NOT IN (
            SELECT MAX(id) FROM feedback GROUP BY user_id, demand_id, achievement_id)
    """)
    with op.batch_alter_table("feedback") as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_feedback_user_pair", ["user_id", "demand_id", "achievement_id"])
    op.create_table(
        "impressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slate", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("surface", sa.String(length=8), nullable=False),
        sa.Column("direction", sa.String(length=12), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=False),
        sa.Column("achievement_id", sa.Integer(), nullable=False),
        sa.Column("pool_rank", sa.SmallInteger(), nullable=False),
        sa.Column("shown_rank", sa.SmallInteger(), nullable=True),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("team", sa.String(length=1), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("ranker", sa.String(length=80), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("surface IN ('api', 'page', 'push')", name=op.f("ck_impressions_surface")),
        sa.CheckConstraint("direction IN ('achievements', 'demands')", name=op.f("ck_impressions_direction")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL", name=op.f("fk_impressions_user_id_users")),
        sa.ForeignKeyConstraint(["demand_id"], ["demands.id"], ondelete="CASCADE",
                                name=op.f("fk_impressions_demand_id_demands")),
        sa.ForeignKeyConstraint(["achievement_id"], ["achievements.id"], ondelete="CASCADE",
                                name=op.f("fk_impressions_achievement_id_achievements")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impressions")),
    )
    op.create_index(op.f("ix_impressions_slate"), "impressions", ["slate"], unique=False)
    op.create_index(op.f("ix_impressions_user_id"), "impressions", ["user_id"], unique=False)
    op.create_index(op.f("ix_impressions_shown_at"), "impressions", ["shown_at"], unique=False)
    op.create_index("ix_impressions_pair", "impressions", ["demand_id", "achievement_id"], unique=False)
    op.create_table(
        "embeddings",
        sa.Column("library", sa.String(length=12), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("text_key", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("library IN ('achievements', 'demands')", name=op.f("ck_embeddings_library")),
        sa.PrimaryKeyConstraint("library", "record_id", name=op.f("pk_embeddings")),
    )


def downgrade() -> None:
    op.drop_table("embeddings")
    op.drop_index("ix_impressions_pair", table_name="impressions")
    op.drop_index(op.f("ix_impressions_shown_at"), table_name="impressions")
    op.drop_index(op.f("ix_impressions_user_id"), table_name="impressions")
    op.drop_index(op.f("ix_impressions_slate"), table_name="impressions")
    op.drop_table("impressions")
    with op.batch_alter_table("feedback") as batch_op:
        batch_op.drop_constraint("uq_feedback_user_pair", type_="unique")
        batch_op.drop_column("updated_at")
