"""Review notes on postings; declined or lapsed pairs claimable again; subscription notices; licence scope.

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
    op.create_table(
        "subscription_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("library", sa.String(length=12), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("library IN ('achievements', 'demands')", name=op.f("ck_subscription_notices_library")),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="SET NULL",
                                name=op.f("fk_subscription_notices_subscription_id_subscriptions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_subscription_notices_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_notices")),
        sa.UniqueConstraint("user_id", "library", "record_id", name=op.f("uq_subscription_notices_user_id")),
    )
    op.create_index(op.f("ix_subscription_notices_user_id"), "subscription_notices", ["user_id"], unique=False)
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.add_column(sa.Column("licence_scope", sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            "licence_scope", "licence_scope IN ('exclusive', 'sole', 'ordinary')")
        batch_op.create_check_constraint(
            "licence_scope_for_licence", "licence_scope IS NULL OR contract_type = 'licence'")


def downgrade() -> None:
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.drop_constraint("licence_scope_for_licence", type_="check")
        batch_op.drop_constraint("licence_scope", type_="check")
        batch_op.drop_column("licence_scope")
    op.drop_index(op.f("ix_subscription_notices_user_id"), table_name="subscription_notices")
    op.drop_table("subscription_notices")
    # Fails (by design) if a pair was claimed again: the old schema cannot hold two pipelines for one pair.
    with op.batch_alter_table("pipelines") as batch_op:
        batch_op.drop_index("uq_pipelines_live_pair")
        batch_op.create_unique_constraint("uq_pipelines_demand_id", ["demand_id", "achievement_id"])
    for table in ("demands", "achievements"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("review_note")
