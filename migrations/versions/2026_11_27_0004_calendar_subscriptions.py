"""Calendar subscriptions: a feed scope read as its owner, at a token stored hashed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:59:16.345248
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scope IN ('unit', 'person', 'organisation', 'plan')", name=op.f('ck_calendar_subscriptions_scope')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_subscriptions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_subscriptions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_subscriptions_token_hash'))
    )
    with op.batch_alter_table('calendar_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_subscriptions_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('calendar_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_subscriptions_user_id'))

    op.drop_table('calendar_subscriptions')
