"""The overdue board: indexes its counts read, and a stamp that every write to what it counts
changes, by triggers, in the same transaction (what its cache is keyed by).

The triggers live on due_items, tasks, task_units, plans and units. They catch every writer,
whatever it goes through: the ORM, bulk UPDATE/DELETE statements, raw SQL, the CLI, the
scheduler, another web process. PostgreSQL runs one per statement, before it, so that a
transaction takes the stamp's row lock before any board row's, and changes the stamp once per
transaction (each UPDATE of one row in one transaction leaves a version the next must walk
past: a bulk load of many statements slowed down quadratically); SQLite (one writer at a time,
rows updated in place) one per row.

A later migration that rebuilds one of these tables (a SQLite batch "move and copy") drops its
triggers with the old table: it must create them again (``tests/test_stamp_cache.py`` checks
that they are all there at head).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 21:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ('due_items', 'tasks', 'task_units', 'plans', 'units')
SQLITE_OPERATIONS = ('insert', 'update', 'delete')


def _sqlite_trigger(table: str, operation: str) -> str:
    fresh = 'lower(hex(randomblob(16)))'
    return (
        f'CREATE TRIGGER board_touch_{table}_{operation} AFTER {operation.upper()} ON {table}\n'
        'BEGIN\n'
        f'  UPDATE board_stamps SET stamp = {fresh} WHERE id = 1;\n'
        f'  INSERT INTO board_stamps (id, stamp) SELECT 1, {fresh}\n'
        '    WHERE NOT EXISTS (SELECT 1 FROM board_stamps WHERE id = 1);\n'
        'END'
    )


POSTGRESQL_FUNCTION = """
CREATE FUNCTION board_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- once per transaction: each UPDATE of the one row adds a version the next must walk past,
  -- so a bulk load of many statements would slow down quadratically
  IF current_setting('nhiemvu.stamped_in', true) = txid_current()::text THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('nhiemvu.stamped_in', txid_current()::text, true);
  UPDATE board_stamps SET stamp = gen_random_uuid()::text WHERE id = 1;
  IF NOT FOUND THEN
    INSERT INTO board_stamps (id, stamp) VALUES (1, gen_random_uuid()::text)
      ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;
  END IF;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_index('ix_due_items_board', 'due_items', ['task_id', 'kind', 'status', 'due_date', 'satisfied_on', 'cancelled_on'], unique=False)
    op.create_index('ix_tasks_plan_id_status', 'tasks', ['plan_id', 'status'], unique=False)
    op.drop_index('ix_tasks_plan_id', table_name='tasks')
    op.create_table('board_stamps',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_stamps'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('INSERT INTO board_stamps (id, stamp) VALUES (1, gen_random_uuid()::text)')
        op.execute(POSTGRESQL_FUNCTION)
        for table in TABLES:
            op.execute(
                f'CREATE TRIGGER board_touch_{table} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE '
                f'ON {table} FOR EACH STATEMENT EXECUTE FUNCTION board_touch()'
            )
    else:
        op.execute('INSERT INTO board_stamps (id, stamp) VALUES (1, lower(hex(randomblob(16))))')
        for table in TABLES:
            for operation in SQLITE_OPERATIONS:
                op.execute(_sqlite_trigger(table, operation))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f'DROP TRIGGER board_touch_{table} ON {table}')
        op.execute('DROP FUNCTION board_touch()')
    else:
        for table in TABLES:
            for operation in SQLITE_OPERATIONS:
                op.execute(f'DROP TRIGGER board_touch_{table}_{operation}')
    op.drop_table('board_stamps')
    op.create_index('ix_tasks_plan_id', 'tasks', ['plan_id'], unique=False)
    op.drop_index('ix_tasks_plan_id_status', table_name='tasks')
    op.drop_index('ix_due_items_board', table_name='due_items')
