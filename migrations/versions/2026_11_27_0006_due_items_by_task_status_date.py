"""Due items by task, status and date: a task's items and its open items in date order (the
single-column task index it replaces made SQLite walk every open item of the database, in date
order, to find one task's). Due items by report: a task page lists what each
report satisfied, which read every due item of the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 21:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("due_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_due_items_task_id_status_due_date", ["task_id", "status", "due_date"], unique=False
        )
        batch_op.drop_index("ix_due_items_task_id")
        batch_op.create_index("ix_due_items_report_id", ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("due_items", schema=None) as batch_op:
        batch_op.create_index("ix_due_items_task_id", ["task_id"], unique=False)
        batch_op.drop_index("ix_due_items_report_id")
        batch_op.drop_index("ix_due_items_task_id_status_due_date")
