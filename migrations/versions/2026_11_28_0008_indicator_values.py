"""Reported values of indicators (chỉ tiêu): one row per value a unit reported for a period,
append-only (a correction is a new row).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 00:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('value_text', sa.String(length=255), nullable=False),
    sa.Column('assessment', sa.String(length=8), nullable=True),
    sa.Column('source_note', sa.Text(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("assessment IS NULL OR assessment IN ('met', 'not_met')", name=op.f('ck_indicator_values_assessment')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_indicator_values_reported_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_indicator_values_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values'))
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_values_indicator_id_period_key', ['indicator_id', 'period_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_indicator_id_period_key')

    op.drop_table('indicator_values')
