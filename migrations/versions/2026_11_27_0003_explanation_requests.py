"""Requests to explain a delay (yêu cầu giải trình) and the lead unit's answers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:36:45.994748
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('explanation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer_by', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'answered')", name=op.f('ck_explanation_requests_status')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_explanation_requests_answered_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_explanation_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_explanation_requests_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_explanation_requests'))
    )
    with op.batch_alter_table('explanation_requests', schema=None) as batch_op:
        batch_op.create_index('ix_explanation_requests_status_answer_by', ['status', 'answer_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_explanation_requests_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('explanation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_explanation_requests_task_id'))
        batch_op.drop_index('ix_explanation_requests_status_answer_by')

    op.drop_table('explanation_requests')
