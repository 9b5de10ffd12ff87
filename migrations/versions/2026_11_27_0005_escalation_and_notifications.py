"""Reminders, escalation and notifications: escalations, notifications, the e-mail outbox and
the scheduler lock and the record of scheduled job runs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 16:02:55.110265
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs'))
    )
    op.create_table('scheduler_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_locks'))
    )
    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('due_item_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('counting', sa.String(length=16), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('rule_file', sa.String(length=255), nullable=False),
    sa.Column('fires_on', sa.Date(), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('reminder', 'escalation', 'guidance')", name=op.f('ck_escalations_kind')),
    sa.ForeignKeyConstraint(['due_item_id'], ['due_items.id'], name=op.f('fk_escalations_due_item_id_due_items')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_escalations_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('due_item_id', 'step', name=op.f('uq_escalations_due_item_id_step')),
    sa.UniqueConstraint('task_id', 'step', name=op.f('uq_escalations_task_id_step'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_notifications_escalation_id_escalations')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_notifications_task_id_tasks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('to_address', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_outbox_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next_attempt_at')

    op.drop_table('outbox')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_read_at')

    op.drop_table('notifications')
    op.drop_table('escalations')
    op.drop_table('scheduler_locks')
    op.drop_table('job_runs')

