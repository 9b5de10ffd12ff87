"""The data version: every committed change people can see raises it, in its own transaction,
whichever way it is written; reading, rolling back and the scheduler's bookkeeping do not. The
calendar feeds' validators are cached on it, so a change made elsewhere reaches a feed at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import task_by_ref, user
from tests.test_web_calendars import head, plan, subscribe, unit_id  # noqa: F401 - fixtures
from workflow import administration, data_version
from workflow import tasks as svc
from workflow.context import Engine
from workflow.models import SchedulerLock, Unit


def number(engine: Engine) -> int:
    with engine.context(write=False) as ctx:
        return data_version.current(ctx.session)


def test_a_committed_change_raises_it_once_and_reading_does_not(organisation):
    start = number(organisation)
    with organisation.context(write=False) as ctx:
        ctx.session.scalars(sa.select(Unit)).all()
    with organisation.context() as ctx:  # a write unit of work that only reads
        ctx.session.scalars(sa.select(Unit)).all()
    assert number(organisation) == start

    with organisation.context() as ctx:  # two changes, one transaction: one step
        office = user(ctx, "vps.office")
        for code in ("QLKHCN", "VPS"):
            unit = ctx.session.scalar(sa.select(Unit).where(Unit.code == code))
            administration.rename_unit(ctx, office, unit.id, f"{unit.name} (mới)")
    assert number(organisation) == start + 1


def test_a_bulk_statement_raises_it_and_a_rollback_does_not(organisation):
    start = number(organisation)
    with organisation.context() as ctx:
        ctx.session.execute(sa.update(Unit).where(Unit.code == "QLKHCN").values(active=True))
    assert number(organisation) == start + 1

    with pytest.raises(RuntimeError), organisation.context() as ctx:
        ctx.session.execute(sa.update(Unit).values(active=True))
        raise RuntimeError("the unit of work fails")
    assert number(organisation) == start + 1


def test_the_schedulers_heartbeat_does_not_raise_it(organisation):
    start = number(organisation)
    with organisation.context() as ctx:
        now = datetime.now(UTC)
        ctx.session.add(SchedulerLock(name="test", holder="me", expires_at=now))
        ctx.session.flush()
        ctx.session.execute(sa.update(SchedulerLock).values(expires_at=now + timedelta(seconds=30)))
    assert number(organisation) == start


def test_a_change_made_by_another_engine_reaches_a_feed_at_once(app, plan, head):  # noqa: F811
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    elsewhere = Engine(plan.settings, plan.clock)  # its own connections, as another process has
    try:
        with elsewhere.context() as ctx:
            task = task_by_ref(ctx, "test-plan", "1")
            svc.change_timing(ctx, user(ctx, "vps.office"), task, "20/01/2027")
    finally:
        elsewhere.close()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"20270120" in changed.data

    again = changed.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": again}).status_code == 304


def test_the_cached_validator_costs_no_feed_query_while_nothing_changed(app, plan, head):  # noqa: F811
    url, _token = subscribe(head, f"unit:{unit_id(plan, 'QLKHCN')}")
    client = app.test_client()
    etag = client.get(url).headers["ETag"]
    client.get(url, headers={"If-None-Match": etag})
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(plan.database.engine, "before_cursor_execute", seen)
    try:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    finally:
        sa.event.remove(plan.database.engine, "before_cursor_execute", seen)
    assert not any("due_items" in s for s in statements), statements
    assert any("data_version" in s for s in statements)
