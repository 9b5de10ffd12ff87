"""The scheduler: one lock in the database decides which scheduler fires, a restarted scheduler
catches up once, and two scheduler processes started together fire each job once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from workflow.escalation import sweep
from workflow.models import DueItem, Escalation, JobRun, SchedulerLock, Task
from workflow.scheduler import LEASE, DatabaseLock, Job, Runner, in_one_unit_of_work

QLKHCN = "Phòng Quản lý KH&CN"
EVERY = timedelta(minutes=15)


def sweep_job() -> Job:
    return Job("sweep", in_one_unit_of_work(sweep), lambda: None, EVERY)


@pytest.fixture
def overdue(make_plan, organisation, clock):
    """Two tasks due 30/10/2026, still open on 22/11/2026: every escalation step is due."""
    clock.set(date(2026, 8, 25))
    make_plan(
        [
            ["1", "Xây dựng đề án", QLKHCN, "", "30/10/2026"],
            ["2", "Rà soát", QLKHCN, "", "30/10/2026"],
        ],
        issued_on="2026-08-20",
    )
    clock.set(date(2026, 11, 22))
    return organisation


def escalations(engine) -> list[tuple[int, str]]:
    with engine.context(write=False) as ctx:
        return sorted(ctx.session.execute(sa.select(Escalation.due_item_id, Escalation.step)).all())


def test_of_two_schedulers_at_the_same_instant_one_runs_the_job(overdue):
    runners = [Runner(overdue, "a"), Runner(overdue, "b")]
    start = threading.Barrier(2)
    ran: dict[str, bool] = {}

    def run(runner: Runner) -> None:
        start.wait()
        ran[runner.lock.holder] = runner.run(sweep_job())

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran.values()) == [False, True]
    fired = escalations(overdue)
    with overdue.context(write=False) as ctx:
        deadline = sa.select(DueItem.id).where(DueItem.kind == "deadline")
        items = ctx.session.scalars(deadline.join(Task).where(Task.ref.in_(["1", "2"]))).all()
    steps = {(item, step) for item in items for step in ("after:1", "after:3", "after:10")}
    assert {(item, step.split("@")[0]) for item, step in fired} >= steps
    with overdue.context() as ctx:
        assert sweep(ctx).fired == 0  # all that was due fired in the one run
    with overdue.context(write=False) as ctx:
        record = ctx.session.get(JobRun, "sweep")
        assert record.runs == 1 and record.holder in ran and ran[record.holder]
        assert record.last_error == ""


def test_the_lease_passes_to_another_scheduler_only_when_it_expires(engine, clock):
    first, second = DatabaseLock(engine, "a"), DatabaseLock(engine, "b")
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewing
    clock.instant += LEASE - timedelta(seconds=1)
    assert not second.acquire()
    clock.instant += timedelta(seconds=2)
    assert second.acquire()  # the first one stopped renewing: taken over
    assert not first.acquire()
    second.release()
    assert first.acquire()
    with engine.context(write=False) as ctx:
        assert ctx.session.scalar(sa.select(sa.func.count()).select_from(SchedulerLock)) == 1


def test_a_restarted_scheduler_catches_up_once(overdue, clock):
    runner = Runner(overdue, "a")
    assert runner.catch_up([sweep_job()]) == ["sweep"]
    assert runner.catch_up([sweep_job()]) == []  # ran moments ago
    fired = escalations(overdue)
    clock.instant += 10 * EVERY  # down for ten periods: one run, not ten
    assert runner.catch_up([sweep_job()]) == ["sweep"]
    assert escalations(overdue) == fired  # and the sweep itself fired nothing twice
    with overdue.context(write=False) as ctx:
        assert ctx.session.get(JobRun, "sweep").runs == 2


def test_a_failing_job_is_recorded_and_the_scheduler_goes_on(engine):
    def broken(ctx):
        raise RuntimeError("the database said no")

    runner = Runner(engine, "a")
    assert runner.run(Job("broken", in_one_unit_of_work(broken), lambda: None, EVERY))
    with engine.context(write=False) as ctx:
        record = ctx.session.get(JobRun, "broken")
        assert record.last_error == "RuntimeError: the database said no"
    assert runner.run(sweep_job())  # the next job runs as usual


def test_two_scheduler_processes_fire_each_job_once(overdue, settings, tmp_path):
    """`nhiemvu scheduler` twice, started together on one database: each catches up at start,
    but only the one holding the lock runs the jobs."""
    command = [
        sys.executable,
        "-m",
        "workflow.cli",
        "--instance",
        str(tmp_path),
        "--database-url",
        settings.database_url,
        "--today",
        "2026-11-22",
        "scheduler",
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        names = {"sweep", "deliver", "refresh", "digest"}
        while time.monotonic() < deadline:
            with overdue.context(write=False) as ctx:
                done = dict(ctx.session.execute(sa.select(JobRun.name, JobRun.runs)).all())
            if set(done) >= names:
                break
            time.sleep(0.5)
        time.sleep(2)  # give the other process every chance to run a job twice
    finally:
        for process in processes:
            process.terminate()
        output = [process.communicate(timeout=20)[0].decode() for process in processes]
    with overdue.context(write=False) as ctx:
        runs = ctx.session.execute(sa.select(JobRun.name, JobRun.runs, JobRun.holder)).all()
    assert {name for name, _, _ in runs} >= names, output
    assert all(count == 1 for _, count, _ in runs), runs
    assert len({holder for _, _, holder in runs}) == 1  # one scheduler ran them all
    fired = escalations(overdue)
    assert fired and len(fired) == len(set(fired))
    with overdue.context() as ctx:
        assert sweep(ctx).fired == 0
    idle = ("another scheduler holds the lock", "caught up: nothing")
    assert any(any(why in text for why in idle) for text in output), output  # the other one
