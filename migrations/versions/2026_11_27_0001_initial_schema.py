"""Initial schema: units, aliases and groups, users, plans, sections, tasks, indicators,
due items, reports, extension requests, trigger documents and the task history.

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 09:43:31.856627
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('province', 'ward', 'commune', 'office', 'department', 'division', 'center', 'agency', 'press', 'group', 'other')", name=op.f('ck_units_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('issuer_unit_id', sa.Integer(), nullable=True),
    sa.Column('issuer_text', sa.String(length=255), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('issued_text', sa.String(length=255), nullable=False),
    sa.Column('implements', sa.JSON(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reporting_regime', sa.String(length=255), nullable=False),
    sa.Column('reporting_regime_text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'superseded')", name=op.f('ck_plans_status')),
    sa.ForeignKeyConstraint(['issuer_unit_id'], ['units.id'], name=op.f('fk_plans_issuer_unit_id_units')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['plans.id'], name=op.f('fk_plans_supersedes_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_plans_code')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_plans_supersedes_id'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_number'), ['number'], unique=False)

    op.create_table('unit_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scope_unit_id'], ['units.id'], name=op.f('fk_unit_groups_scope_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_groups')),
    sa.UniqueConstraint('scope_unit_id', 'name_key', name=op.f('uq_unit_groups_scope_unit_id_name_key'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('unit_head', 'unit_delegate', 'office', 'leadership', 'admin')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_sections_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sections')),
    sa.UniqueConstraint('plan_id', 'kind', 'position', name=op.f('uq_sections_plan_id_kind_position'))
    )
    op.create_table('trigger_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_trigger_documents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trigger_documents')),
    sa.UniqueConstraint('issuer', 'number', name=op.f('uq_trigger_documents_issuer_number'))
    )
    op.create_table('unit_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_unit_id', sa.Integer(), nullable=True),
    sa.Column('alias', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(unit_id IS NULL) <> (group_id IS NULL)', name=op.f('ck_unit_aliases_one_target')),
    sa.ForeignKeyConstraint(['group_id'], ['unit_groups.id'], name=op.f('fk_unit_aliases_group_id_unit_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scope_unit_id'], ['units.id'], name=op.f('fk_unit_aliases_scope_unit_id_units')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_aliases_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_aliases')),
    sa.UniqueConstraint('scope_unit_id', 'key', name=op.f('uq_unit_aliases_scope_unit_id_key'))
    )
    with op.batch_alter_table('unit_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_aliases_key'), ['key'], unique=False)

    op.create_table('unit_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['unit_groups.id'], name=op.f('fk_unit_group_members_group_id_unit_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_group_members_unit_id_units')),
    sa.PrimaryKeyConstraint('group_id', 'unit_id', name=op.f('pk_unit_group_members'))
    )
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('measure', sa.String(length=128), nullable=False),
    sa.Column('target_text', sa.Text(), nullable=False),
    sa.Column('comparator', sa.String(length=2), nullable=True),
    sa.Column('target_value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('horizon_year', sa.Integer(), nullable=True),
    sa.Column('central_agency', sa.Text(), nullable=False),
    sa.Column('lead_units_text', sa.Text(), nullable=False),
    sa.Column('cooperating_units_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("comparator IS NULL OR comparator IN ('≥', '>', '≤', '<', '=')", name=op.f('ck_indicators_comparator')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_indicators_plan_id_plans')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_indicators_section_id_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('plan_id', 'ref', name=op.f('uq_indicators_plan_id_ref'))
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_plan_id'), ['plan_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('outputs', sa.Text(), nullable=False),
    sa.Column('lead_units_text', sa.Text(), nullable=False),
    sa.Column('cooperating_units_text', sa.Text(), nullable=False),
    sa.Column('timing_raw', sa.Text(), nullable=False),
    sa.Column('timing_kind', sa.String(length=16), nullable=False),
    sa.Column('timing_deadline', sa.Date(), nullable=True),
    sa.Column('timing_start', sa.Date(), nullable=True),
    sa.Column('timing_frequency', sa.String(length=16), nullable=True),
    sa.Column('timing_anchor_day', sa.Integer(), nullable=True),
    sa.Column('timing_anchor_month', sa.Integer(), nullable=True),
    sa.Column('timing_trigger', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('reporting_since', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('trigger_document_id', sa.Integer(), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'waiting', 'in_progress', 'reported', 'closed', 'cancelled', 'superseded')", name=op.f('ck_tasks_status')),
    sa.CheckConstraint("timing_kind IN ('fixed', 'range', 'ongoing', 'recurring', 'conditional', 'unknown')", name=op.f('ck_tasks_timing_kind')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_tasks_progress')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_tasks_plan_id_plans')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_tasks_section_id_sections')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['tasks.id'], name=op.f('fk_tasks_superseded_by_id_tasks')),
    sa.ForeignKeyConstraint(['trigger_document_id'], ['trigger_documents.id'], name=op.f('fk_tasks_trigger_document_id_trigger_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('plan_id', 'ref', name=op.f('uq_tasks_plan_id_ref'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_status'), ['status'], unique=False)

    op.create_table('indicator_units',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'cooperating')", name=op.f('ck_indicator_units_role')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_units_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_indicator_units_unit_id_units')),
    sa.PrimaryKeyConstraint('indicator_id', 'unit_id', name=op.f('pk_indicator_units'))
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('submitted', 'accepted', 'returned')", name=op.f('ck_reports_status')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_reports_progress')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_reports_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_reports_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_reports_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_task_id'), ['task_id'], unique=False)

    op.create_table('task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_task_events_actor_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index('ix_task_events_task_at', ['task_id', 'at'], unique=False)

    op.create_table('task_units',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'cooperating')", name=op.f('ck_task_units_role')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_units_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_task_units_unit_id_units')),
    sa.PrimaryKeyConstraint('task_id', 'unit_id', name=op.f('pk_task_units'))
    )
    with op.batch_alter_table('task_units', schema=None) as batch_op:
        batch_op.create_index('ix_task_units_unit_role', ['unit_id', 'role'], unique=False)

    op.create_table('due_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('nominal_date', sa.Date(), nullable=False),
    sa.Column('original_due_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('extended_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('satisfied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('satisfied_on', sa.Date(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('deadline', 'occurrence', 'report')", name=op.f('ck_due_items_kind')),
    sa.CheckConstraint("status IN ('open', 'satisfied', 'cancelled')", name=op.f('ck_due_items_status')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_due_items_report_id_reports')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_due_items_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_due_items')),
    sa.UniqueConstraint('task_id', 'kind', 'period_key', name=op.f('uq_due_items_task_id_kind_period_key'))
    )
    with op.batch_alter_table('due_items', schema=None) as batch_op:
        batch_op.create_index('ix_due_items_status_due_date', ['status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_due_items_task_id'), ['task_id'], unique=False)

    op.create_table('extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('due_item_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('proposed_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_date', sa.Date(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'granted', 'refused')", name=op.f('ck_extension_requests_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_extension_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['due_item_id'], ['due_items.id'], name=op.f('fk_extension_requests_due_item_id_due_items')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_extension_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_extension_requests_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_requests'))
    )
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_requests_task_id'), ['task_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_requests_task_id'))

    op.drop_table('extension_requests')
    with op.batch_alter_table('due_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_items_task_id'))
        batch_op.drop_index('ix_due_items_status_due_date')

    op.drop_table('due_items')
    with op.batch_alter_table('task_units', schema=None) as batch_op:
        batch_op.drop_index('ix_task_units_unit_role')

    op.drop_table('task_units')
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index('ix_task_events_task_at')

    op.drop_table('task_events')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_task_id'))

    op.drop_table('reports')
    op.drop_table('indicator_units')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_status'))
        batch_op.drop_index(batch_op.f('ix_tasks_plan_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_plan_id'))

    op.drop_table('indicators')
    op.drop_table('unit_group_members')
    with op.batch_alter_table('unit_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_aliases_key'))

    op.drop_table('unit_aliases')
    op.drop_table('trigger_documents')
    op.drop_table('sections')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))

    op.drop_table('users')
    op.drop_table('unit_groups')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_number'))

    op.drop_table('plans')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))
        batch_op.drop_index(batch_op.f('ix_units_name_key'))

    op.drop_table('units')
    
