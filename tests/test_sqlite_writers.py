"""SQLite writers of one process take turns in the order they came (workflow.db._WriterQueue).

SQLite itself makes a waiting writer poll: a newcomer may get in before it, again and again,
and under a steady stream of writes a web request waited past the busy timeout and failed with
"database is locked" (found by benchmarks/run.py, four clients reporting at once on 100,000
tasks). These tests run on a SQLite file of their own, whatever database the suite is on.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from workflow.db import Database


@pytest.fixture
def database(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'writers.db'}")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE turns (who TEXT)")
    yield database
    database.dispose()


def write(database: Database, who: str, order: list[str]) -> None:
    with database.unit_of_work() as session:
        session.execute(sa.text("INSERT INTO turns VALUES (:who)"), {"who": who})
        order.append(who)


def test_a_waiting_writer_goes_before_a_newcomer(database: Database) -> None:
    order: list[str] = []
    with database.unit_of_work() as session:
        session.execute(sa.text("INSERT INTO turns VALUES ('first')"))
        waiting = threading.Thread(target=write, args=(database, "waiting", order))
        waiting.start()
        time.sleep(0.3)  # it is queued behind this unit of work
    write(database, "newcomer", order)  # comes after the first committed, while one waits
    waiting.join(timeout=15)
    assert order == ["waiting", "newcomer"]


def test_a_failed_unit_of_work_gives_up_its_turn(database: Database) -> None:
    order: list[str] = []
    with pytest.raises(RuntimeError), database.unit_of_work() as session:
        session.execute(sa.text("INSERT INTO turns VALUES ('failed')"))
        waiting = threading.Thread(target=write, args=(database, "next", order))
        waiting.start()
        time.sleep(0.2)
        raise RuntimeError("the service refused")
    waiting.join(timeout=5)
    assert order == ["next"]
    with database.unit_of_work(write=False) as session:
        assert session.scalars(sa.text("SELECT who FROM turns")).all() == ["next"]


def test_many_writers_at_once_all_land(database: Database) -> None:
    order: list[str] = []

    def writer(n: int) -> None:
        for i in range(25):
            write(database, f"{n}-{i}", order)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with database.unit_of_work(write=False) as session:
        rows = session.scalar(sa.text("SELECT count(*) FROM turns"))
    assert len(order) == rows == 200
