"""Trading (issue 16): fixed-price listings (挂牌) of achievements, one open listing per achievement, the first
valid acceptance taking it; public notices of negotiated prices (协议定价公示) and objections to them; auctions
(拍卖) with registered bidders and audited bids.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:24.794439
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('listings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('accepted_by', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'accepted', 'expired', 'withdrawn')", name=op.f('ck_listings_status')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_listings_period')),
    sa.CheckConstraint('price > 0', name=op.f('ck_listings_price')),
    sa.ForeignKeyConstraint(['accepted_by'], ['users.id'], name=op.f('fk_listings_accepted_by_users')),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_listings_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['buyer_id'], ['organisations.id'], name=op.f('fk_listings_buyer_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_listings_created_by_users')),
    sa.ForeignKeyConstraint(['previous_id'], ['listings.id'], name=op.f('fk_listings_previous_id_listings')),
    sa.ForeignKeyConstraint(['seller_id'], ['organisations.id'], name=op.f('fk_listings_seller_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listings_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listings_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_listings_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listings_status'), ['status'], unique=False)
        batch_op.create_index('uq_listings_open_achievement', ['achievement_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


    # Public notices of negotiated prices (协议定价公示) and the objections to them.
    op.create_table('price_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on > starts_on', name=op.f('ck_price_notices_period')),
    sa.CheckConstraint('price > 0', name=op.f('ck_price_notices_price')),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_price_notices_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['buyer_id'], ['organisations.id'], name=op.f('fk_price_notices_buyer_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_price_notices_created_by_users')),
    sa.ForeignKeyConstraint(['seller_id'], ['organisations.id'], name=op.f('fk_price_notices_seller_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_notices'))
    )
    with op.batch_alter_table('price_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_notices_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_notices_buyer_id'), ['buyer_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['price_notices.id'], name=op.f('fk_objections_notice_id_price_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_objections_resolved_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_objections_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_notice_id'), ['notice_id'], unique=False)

    # Auctions (拍卖), their registered bidders and their bids.
    op.create_table('auctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('starting_price', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('increment', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('reserve_price', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scheduled_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('extend_seconds', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('high_bid', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('bids', sa.Integer(), nullable=False),
    sa.Column('winner_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_auctions_status')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_auctions_period')),
    sa.CheckConstraint('starting_price > 0 AND increment > 0', name=op.f('ck_auctions_prices')),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'], name=op.f('fk_auctions_achievement_id_achievements')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_auctions_created_by_users')),
    sa.ForeignKeyConstraint(['seller_id'], ['organisations.id'], name=op.f('fk_auctions_seller_id_organisations')),
    sa.ForeignKeyConstraint(['winner_id'], ['organisations.id'], name=op.f('fk_auctions_winner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auctions'))
    )
    with op.batch_alter_table('auctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auctions_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auctions_status'), ['status'], unique=False)

    op.create_table('auction_bidders',
    sa.Column('auction_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('deposit_paid', sa.Boolean(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_auction_bidders_auction_id_auctions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_auction_bidders_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('auction_id', 'organisation_id', name=op.f('pk_auction_bidders'))
    )
    op.create_table('bids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('auction_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at_after', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auction_id'], ['auctions.id'], name=op.f('fk_bids_auction_id_auctions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_bids_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bids_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bids')),
    sa.UniqueConstraint('auction_id', 'serial', name='uq_bids_auction_serial')
    )
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bids_auction_id'), ['auction_id'], unique=False)


def downgrade() -> None:
    op.drop_table('bids')
    op.drop_table('auction_bidders')
    op.drop_table('auctions')
    op.drop_table('objections')
    op.drop_table('price_notices')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('uq_listings_open_achievement', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_listings_status'))
        batch_op.drop_index(batch_op.f('ix_listings_seller_id'))
        batch_op.drop_index(batch_op.f('ix_listings_ends_at'))
        batch_op.drop_index(batch_op.f('ix_listings_achievement_id'))

    op.drop_table('listings')
