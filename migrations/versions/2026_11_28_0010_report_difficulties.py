"""Difficulties and proposals (khó khăn, vướng mắc, đề xuất, kiến nghị) a unit writes with a
report, for the Office's consolidated report. Existing reports have none.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column added in place (no batch "move and copy"): reports has no board trigger to lose.
    op.add_column('reports', sa.Column('difficulties', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('difficulties')
