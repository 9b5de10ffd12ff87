"""The board's counts cache (:mod:`workflow.stamp_cache`): the same counts with and without it,
and never a stale count after a change, whoever makes it — another session, a bulk statement
that bypasses the ORM, raw SQL, another process, or a transaction that is rolled back."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from datetime import date

import pytest
import sqlalchemy as sa

from tests.test_board_queries import TODAY, rows
from workflow import board, stamp_cache
from workflow.models import BoardStamp, DueItem, Plan, Task, TaskUnit, Unit
from workflow.queries import ALL_KINDS, DEADLINE_KINDS

TABLES = (DueItem, Task, TaskUnit, Plan, Unit)


@pytest.fixture
def counted(make_plan, engine, clock):
    clock.set(date(2026, 9, 1))
    make_plan(rows(2), regime="monthly:14", issued_on="2026-08-20")
    make_plan(rows(1), code="other-plan", number="2/KH-SKHCN", issued_on="2026-08-25")
    clock.set(TODAY)
    stamp_cache.clear()
    yield engine
    stamp_cache.enabled = True
    stamp_cache.clear()


def _board(engine, as_of: date = TODAY, **options) -> tuple:
    with engine.context(write=False) as ctx:
        scope = board.organisation_unit_ids(ctx.session, _office(ctx.session))
        return (
            board.per_unit(ctx.session, as_of, scope, **options),
            board.per_plan(ctx.session, as_of, scope, **options),
            board.states_per_plan(
                ctx.session, scope, plan_id=options.get("plan_id"), unit_id=options.get("unit_id")
            ),
        )


def _office(session):
    from workflow.models import User

    return session.scalar(sa.select(User).where(User.username == "vps.office"))


def _overdue(counts: tuple) -> int:
    return sum(row.overdue for row in counts[1])


def _stamp(engine) -> str | None:
    with engine.context(write=False) as ctx:
        return stamp_cache.stamp(ctx.session)


def test_every_table_the_board_counts_has_its_triggers(migrated):
    with migrated.engine.connect() as connection:
        assert stamp_cache.triggers_missing(connection) == []


def test_same_counts_with_and_without_the_cache(counted):
    with counted.context(write=False) as ctx:
        plan_id = ctx.session.scalar(sa.select(Plan.id).where(Plan.code == "other-plan"))
        unit_id = ctx.session.scalar(sa.select(TaskUnit.unit_id).where(TaskUnit.role == "lead"))
    cases = [
        {},
        {"kinds": ALL_KINDS},
        {"kinds": ("report",)},
        {"plan_id": plan_id},
        {"unit_id": unit_id},
    ]
    for as_of in (date(2026, 6, 1), TODAY, date(2027, 5, 1)):
        for options in cases:
            stamp_cache.enabled = False
            fresh = _board(counted, as_of, **options)
            stamp_cache.enabled = True
            first, again = _board(counted, as_of, **options), _board(counted, as_of, **options)
            assert fresh == first == again, (as_of, options)
    assert any(row.overdue for row in _board(counted)[0])


def test_a_second_reading_is_served_from_the_cache(counted, monkeypatch):
    _board(counted)
    monkeypatch.setattr(board, "_per_unit", lambda *a: pytest.fail("counted again"))
    monkeypatch.setattr(board, "_per_plan", lambda *a: pytest.fail("counted again"))
    monkeypatch.setattr(board, "_states_per_plan", lambda *a: pytest.fail("counted again"))
    _board(counted)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.__tablename__)
def test_insert_update_and_delete_on_each_counted_table_change_the_stamp(counted, table):
    """Core statements, as a bulk job or a script would send them: no ORM flush events."""
    keys = list(table.__table__.primary_key.columns)
    before = _stamp(counted)
    with counted.database.engine.begin() as connection:
        first = dict(connection.execute(sa.select(table.__table__).limit(1)).mappings().one())
        same_row = sa.and_(*(key == first[key.name] for key in keys))
        connection.execute(sa.update(table.__table__).where(same_row).values(first))
    updated = _stamp(counted)
    # A copy of the row under a key nobody uses, then deleted: an insert and a delete.
    copy = {**first, keys[0].name: -7}
    unique = {Unit: {"code": "COPY"}, Plan: {"code": "copy", "supersedes_id": None}}
    unique |= {Task: {"ref": "copy"}, DueItem: {"period_key": "copy"}}
    copy.update(unique.get(table, {}))
    with counted.database.engine.begin() as connection:
        if table is TaskUnit:  # the same task, a unit not yet linked to it
            copy["task_id"], copy["unit_id"] = (
                first["task_id"],
                connection.execute(
                    sa.select(Unit.id).where(
                        Unit.id.not_in(
                            sa.select(TaskUnit.unit_id).where(TaskUnit.task_id == first["task_id"])
                        )
                    )
                ).scalar(),
            )
        connection.execute(sa.insert(table.__table__).values(copy))
    inserted = _stamp(counted)
    with counted.database.engine.begin() as connection:
        connection.execute(
            sa.delete(table.__table__).where(*(key == copy[key.name] for key in keys))
        )
    deleted = _stamp(counted)
    assert len({before, updated, inserted, deleted}) == 4


def test_a_bulk_update_from_another_session_is_seen_at_once(counted):
    before = _board(counted)
    assert _overdue(before) > 0
    with counted.database.engine.begin() as connection:  # bypasses the ORM entirely
        connection.execute(
            sa.update(DueItem)
            .where(DueItem.kind.in_(DEADLINE_KINDS), DueItem.status == "open")
            .values(status="satisfied", satisfied_on=date(2026, 11, 1))
        )
    after = _board(counted)
    assert _overdue(after) == 0
    stamp_cache.enabled = False
    assert _board(counted) == after


def test_a_change_by_another_process_is_seen_at_once(counted):
    before = _board(counted)
    url = counted.settings.database_url
    script = textwrap.dedent(
        f"""
        import sqlalchemy as sa
        engine = sa.create_engine({url!r})
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE due_items SET due_date = '2030-01-31' WHERE status = 'open'"
            )
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    after = _board(counted)
    assert _overdue(before) > 0 and _overdue(after) == 0
    stamp_cache.enabled = False
    assert _board(counted) == after


def test_counts_read_inside_a_transaction_that_is_rolled_back_are_not_reused(counted):
    """The writer counts its own uncommitted change, then rolls back; another change follows.
    Neither reader may be handed the rolled-back counts."""
    before = _board(counted)
    with counted.context() as ctx:
        ctx.session.execute(sa.update(DueItem).values(due_date=date(2030, 1, 31)))
        scope = board.organisation_unit_ids(ctx.session, _office(ctx.session))
        inside = board.per_plan(ctx.session, TODAY, scope)
        assert sum(row.overdue for row in inside) == 0
        ctx.session.rollback()
    assert _board(counted) == before
    with counted.database.engine.begin() as connection:
        connection.execute(sa.update(DueItem).values(due_date=date(2026, 1, 30)))
    after = _board(counted)
    stamp_cache.enabled = False
    assert _board(counted) == after
    assert _overdue(after) > _overdue(before)


def test_without_a_stamp_row_nothing_is_cached_until_the_next_write(counted):
    with counted.database.engine.begin() as connection:
        connection.execute(sa.delete(BoardStamp))
    assert _stamp(counted) is None
    first = _board(counted)
    assert _board(counted) == first
    with counted.database.engine.begin() as connection:
        connection.execute(sa.update(Unit).values(name=Unit.name + " (mới)"))
    assert _stamp(counted) is not None
    assert all(row.name.endswith(" (mới)") for row in _board(counted)[0])


# --- the page: its counts' HTML is kept under the same stamp -------------------------------------


def _page(client, query: str = "as_of=2026-11-22") -> str:
    response = client.get(f"/board?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _counts_part(html: str) -> str:
    """The board's filters and counts, without the CSRF tokens of the forms among them (signed
    with the second they were made, so two renders a second apart differ there)."""
    part = html.split('<form method="get"', 1)[1].split('id="explanations"', 1)[0]
    return _without_tokens(part)


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)


def test_the_page_shows_a_change_made_elsewhere_at_once(counted, app, client):
    from tests.conftest import sign_in
    from tests.test_web_office_board import board_table

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, "vps.office")
    first = board_table(_page(client), "plans-table", "plan")
    assert _without_tokens(_page(client)) == _without_tokens(_page(client))
    assert sum(row["overdue"] for row in first.values()) > 0
    with counted.database.engine.begin() as connection:
        connection.execute(sa.update(DueItem).values(due_date=date(2030, 1, 31)))
    after = board_table(_page(client), "plans-table", "plan")
    assert sum(row["overdue"] for row in after.values()) == 0
    with counted.database.engine.begin() as connection:
        connection.execute(sa.update(Plan).values(code=Plan.code + "-x"))
    assert "other-plan-x" in _page(client)


def test_the_page_is_the_same_with_and_without_the_cache_in_each_language(counted, app, client):
    from tests.conftest import sign_in

    sign_in(client, "vps.office")
    shown = {}
    for language in ("en", "vi"):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        for query in ("as_of=2026-11-22", "as_of=2026-06-01&kind=all", "kind=reports"):
            stamp_cache.enabled = False
            fresh = _counts_part(_page(client, query))
            stamp_cache.enabled = True
            assert _counts_part(_page(client, query)) == _counts_part(_page(client, query)) == fresh
            shown[language, query] = fresh
    assert "Overdue" in shown["en", "kind=reports"]
    assert "Overdue" not in shown["vi", "kind=reports"]
