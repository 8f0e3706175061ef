"""Deals shared by the people in them and notices that reach people: introductions, confidentiality
undertakings, thread messages, the one inbox (notices with their email state), notice preferences, users' email.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:06:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('introductions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('from_side', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answer_note', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("from_side IN ('achievements', 'demands')", name=op.f('ck_introductions_from_side')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name=op.f('ck_introductions_status')),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_introductions_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_introductions_answered_by_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_introductions_demand_id_demands')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_introductions_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_introductions')),
    sa.UniqueConstraint('demand_id', 'achievement_id', name='uq_introductions_pair')
    )
    with op.batch_alter_table('introductions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_introductions_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_introductions_status'), ['status'], unique=False)

    op.create_table('notice_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.CheckConstraint("delivery IN ('immediate', 'daily', 'off')", name=op.f('ck_notice_preferences_delivery')),
    sa.CheckConstraint("kind IN ('strong_match', 'interest_received', 'introduction_answered', 'deal_message', 'deal_stage', 'review_outcome', 'posting_expiring')", name=op.f('ck_notice_preferences_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notice_preferences'))
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('event', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_state', sa.String(length=10), nullable=True),
    sa.Column('email_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_attempts', sa.Integer(), nullable=False),
    sa.Column('email_error', sa.String(length=300), nullable=False),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('strong_match', 'interest_received', 'introduction_answered', 'deal_message', 'deal_stage', 'review_outcome', 'posting_expiring')", name=op.f('ck_notices_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('user_id', 'event', name='uq_notices_person_event')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_notices_email_due', ['email_state', 'email_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_user_id'), ['user_id'], unique=False)

    op.create_table('thread_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('meeting_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meeting_place', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_thread_messages_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_thread_messages_author_id_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_thread_messages_demand_id_demands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_messages'))
    )
    with op.batch_alter_table('thread_messages', schema=None) as batch_op:
        batch_op.create_index('ix_thread_messages_pair', ['demand_id', 'achievement_id'], unique=False)

    op.create_table('undertakings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('introduction_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['introduction_id'], ['introductions.id'], name=op.f('fk_undertakings_introduction_id_introductions')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_undertakings_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_undertakings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_undertakings')),
    sa.UniqueConstraint('introduction_id', 'user_id', name='uq_undertakings_person')
    )
    with op.batch_alter_table('undertakings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_undertakings_introduction_id'), ['introduction_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('undertakings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_undertakings_introduction_id'))

    op.drop_table('undertakings')
    with op.batch_alter_table('thread_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_thread_messages_pair')

    op.drop_table('thread_messages')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_user_id'))
        batch_op.drop_index('ix_notices_email_due')
        batch_op.drop_index(batch_op.f('ix_notices_created_at'))

    op.drop_table('notices')
    op.drop_table('notice_preferences')
    with op.batch_alter_table('introductions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_introductions_status'))
        batch_op.drop_index(batch_op.f('ix_introductions_demand_id'))
        batch_op.drop_index(batch_op.f('ix_introductions_achievement_id'))

    op.drop_table('introductions')

