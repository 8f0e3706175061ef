"""Open the doors (issue 14): self-registered organisations wait for review (status, review note); users log in
by email once verified, belong to a market (region) when analysts or admins, and may administer their
organisation; one-time account tokens; the account-mail outbox.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_organisations_status'), ['status'], unique=False)
        batch_op.create_check_constraint('status', "status IN ('pending', 'active', 'rejected')")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('org_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('login', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_login'), ['login'])
        batch_op.create_index(batch_op.f('ix_users_email'), ['email'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_region_code_regions'), 'regions', ['region_code'], ['code'])

    # The storefront's newest-first pages walk these instead of sorting the library on every request.
    op.create_index('ix_achievements_status_posted', 'achievements', ['status', 'posted_on', 'id'], unique=False)
    op.create_index('ix_demands_status_posted', 'demands', ['status', 'posted_on', 'id'], unique=False)

    # The technology-contract registry (issue 15): who registered a contract, why one was sent back, and one
    # number sequence per registration office and year.
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_office', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.Text(), nullable=True))
    op.create_table('registration_sequences',
    sa.Column('office_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('office_code', 'year', name=op.f('pk_registration_sequences'))
    )

    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('verify_email', 'invite', 'reset_password')", name=op.f('ck_account_tokens_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('outbound_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_mail'))
    )
    with op.batch_alter_table('outbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_mail_state'), ['state'], unique=False)


def downgrade() -> None:
    op.drop_table('outbound_mail')
    op.drop_table('registration_sequences')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_column('return_reason')
        batch_op.drop_column('registration_office')
    op.drop_index('ix_demands_status_posted', table_name='demands')
    op.drop_index('ix_achievements_status_posted', table_name='achievements')
    op.drop_table('account_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_region_code_regions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_email'))
        batch_op.drop_constraint(batch_op.f('uq_users_login'), type_='unique')
        batch_op.drop_column('login')
        batch_op.drop_column('org_admin')
        batch_op.drop_column('region_code')
        batch_op.drop_column('email_verified_at')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.drop_index(batch_op.f('ix_organisations_status'))
        batch_op.drop_column('review_note')
        batch_op.drop_column('status')
