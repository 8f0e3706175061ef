"""The technology-contract registration form and life after signing (issue 15): sub-type, party types and countries, field, IP type,
programme, validity, 涉外 / 涉税, who submitted it, and the signed text as a PDF with its checksum. A party abroad
has no GB/T 2260 region, so the contract's region codes may be empty when its country is not CN.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:54:13.863526
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contract_documents',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_documents_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_contract_documents_uploaded_by_users')),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_contract_documents'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sub_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('buyer_party_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('seller_party_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('buyer_country', sa.String(length=2), server_default='CN', nullable=False))
        batch_op.add_column(sa.Column('seller_country', sa.String(length=2), server_default='CN', nullable=False))
        batch_op.add_column(sa.Column('field_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('ip_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('programme', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('valid_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('foreign_related', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('tax_relief', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('submitted_by', sa.Integer(), nullable=True))
        batch_op.alter_column('buyer_region_code',
               existing_type=sa.VARCHAR(length=6),
               nullable=True)
        batch_op.alter_column('seller_region_code',
               existing_type=sa.VARCHAR(length=6),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_contracts_field_code_technology_fields'), 'technology_fields', ['field_code'], ['code'])
        batch_op.create_foreign_key(batch_op.f('fk_contracts_submitted_by_users'), 'users', ['submitted_by'], ['id'])
        batch_op.create_check_constraint('buyer_region_in_china', "buyer_country <> 'CN' OR buyer_region_code IS NOT NULL")
        batch_op.create_check_constraint('seller_region_in_china', "seller_country <> 'CN' OR seller_region_code IS NOT NULL")
        batch_op.create_check_constraint('validity', "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from")


    # Life after signing: payment milestones, royalty reports, the inventors' shares, the trial's outcome.
    op.create_table('contract_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('received_amount', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_contract_payments_amount')),
    sa.CheckConstraint('received_amount IS NULL OR received_amount >= 0', name=op.f('ck_contract_payments_received_amount')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_payments_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_contract_payments_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_payments'))
    )
    with op.batch_alter_table('contract_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_payments_contract_id'), ['contract_id'], unique=False)

    op.create_table('proceeds_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('person', sa.String(length=100), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("basis IN ('reward', 'ownership')", name=op.f('ck_proceeds_shares_basis')),
    sa.CheckConstraint('percent > 0 AND percent <= 100', name=op.f('ck_proceeds_shares_percent')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_proceeds_shares_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_proceeds_shares_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proceeds_shares')),
    sa.UniqueConstraint('contract_id', 'person', name='uq_proceeds_shares_contract_person')
    )
    with op.batch_alter_table('proceeds_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proceeds_shares_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proceeds_shares_person'), ['person'], unique=False)

    op.create_table('royalty_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('sales_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('royalty_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('reported_by', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('sales_amount >= 0 AND royalty_amount >= 0', name=op.f('ck_royalty_reports_amounts')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_royalty_reports_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by'], ['users.id'], name=op.f('fk_royalty_reports_reported_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_royalty_reports')),
    sa.UniqueConstraint('contract_id', 'period', name='uq_royalty_reports_contract_period')
    )
    with op.batch_alter_table('royalty_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_royalty_reports_contract_id'), ['contract_id'], unique=False)

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial_outcome', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('trial_outcome_on', sa.Date(), nullable=True))
        batch_op.create_check_constraint('trial_outcome', "trial_outcome IS NULL OR trial_outcome IN ('converted', 'ended')")


def downgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_constraint('trial_outcome', type_='check')
        batch_op.drop_column('trial_outcome_on')
        batch_op.drop_column('trial_outcome')
    op.drop_table('royalty_reports')
    op.drop_table('proceeds_shares')
    op.drop_table('contract_payments')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        for name in ('validity', 'seller_region_in_china', 'buyer_region_in_china'):
            batch_op.drop_constraint(name, type_='check')
        batch_op.drop_constraint(batch_op.f('fk_contracts_submitted_by_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_contracts_field_code_technology_fields'), type_='foreignkey')
        batch_op.alter_column('seller_region_code',
               existing_type=sa.VARCHAR(length=6),
               nullable=False)
        batch_op.alter_column('buyer_region_code',
               existing_type=sa.VARCHAR(length=6),
               nullable=False)
        batch_op.drop_column('submitted_by')
        batch_op.drop_column('tax_relief')
        batch_op.drop_column('foreign_related')
        batch_op.drop_column('valid_until')
        batch_op.drop_column('valid_from')
        batch_op.drop_column('programme')
        batch_op.drop_column('ip_type')
        batch_op.drop_column('field_code')
        batch_op.drop_column('seller_country')
        batch_op.drop_column('buyer_country')
        batch_op.drop_column('seller_party_type')
        batch_op.drop_column('buyer_party_type')
        batch_op.drop_column('title')
        batch_op.drop_column('sub_type')

    op.drop_table('contract_documents')
