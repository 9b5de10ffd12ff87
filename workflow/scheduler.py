"""The scheduler process (`nhiemvu scheduler`): APScheduler 3 in Asia/Ho_Chi_Minh running the
escalation sweep, the e-mail sender, the daily roll-forward of due items and the morning digest.

Only one scheduler fires jobs, however many are started and on however many machines: before
each job it must hold the lease row ``scheduler_locks.scheduler`` in the database (renewed
every :data:`HEARTBEAT` while it lives; taken over by another once it expires). What a job does
is idempotent anyway (unique escalation and notification rows), so a lease lost mid-job costs
nothing but time.

After downtime a scheduler catches up once: at start, every job whose last run (``job_runs``)
is older than its period runs once, not once per period missed. While it runs, APScheduler
coalesces missed runs (``coalesce=True``) and tolerates a late start (``misfire_grace_time``).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError

from workflow.clock import LOCAL_TZ
from workflow.context import Context, Engine
from workflow.models import JobRun, SchedulerLock

log = logging.getLogger("nhiemvu.scheduler")

LOCK = "scheduler"
LEASE = timedelta(seconds=90)
HEARTBEAT = timedelta(seconds=30)
REFRESH_AT = time(1, 0)  # the nightly roll-forward of due items


def holder_name() -> str:
    """Who holds the lock: the machine, the process and a random part (a restarted process
    with a recycled pid is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DatabaseLock:
    """A lease on a row of ``scheduler_locks``: the same on SQLite and PostgreSQL, across
    processes and machines. Writes run in the engine's write transactions (``BEGIN IMMEDIATE``
    on SQLite, a row lock on PostgreSQL), so two acquirers never both win."""

    def __init__(self, engine: Engine, holder: str, name: str = LOCK, lease: timedelta = LEASE):
        self.engine, self.holder, self.name, self.lease = engine, holder, name, lease

    def acquire(self) -> bool:
        """Take or renew the lease; False while someone else holds an unexpired one."""
        try:
            with self.engine.context() as ctx:
                now = ctx.now()
                row = ctx.session.scalar(
                    sa.select(SchedulerLock)
                    .where(SchedulerLock.name == self.name)
                    .with_for_update()
                )
                if row is None:
                    ctx.session.add(
                        SchedulerLock(
                            name=self.name, holder=self.holder, expires_at=now + self.lease
                        )
                    )
                elif row.holder == self.holder or row.expires_at <= now:
                    row.holder, row.expires_at = self.holder, now + self.lease
                else:
                    return False
        except IntegrityError:  # another process inserted the first row at the same moment
            return False
        return True

    def release(self) -> None:
        with self.engine.context() as ctx:
            ctx.session.execute(
                sa.delete(SchedulerLock).where(
                    SchedulerLock.name == self.name, SchedulerLock.holder == self.holder
                )
            )


@dataclass(frozen=True)
class Job:
    """A scheduled job: what it does (in one unit of work), and how often."""

    name: str
    run: Callable[[Engine], object]
    trigger: Callable[[], IntervalTrigger | CronTrigger]
    period: timedelta  # for catching up: a job last run longer ago than this is due once

    def missed(self, last: datetime | None, now: datetime) -> bool:
        return last is None or now - last >= self.period


def jobs(engine: Engine) -> list[Job]:
    """The jobs, from the instance's ``[scheduler]`` settings."""
    from workflow.digest import morning_digest
    from workflow.escalation import sweep
    from workflow.mail import deliver
    from workflow.plans import refresh_due_items

    schedule = engine.settings.schedule
    every = timedelta(minutes=schedule.sweep_minutes)
    deliver_every = timedelta(seconds=schedule.deliver_seconds)
    day = timedelta(days=1)

    def daily(at: time) -> Callable[[], CronTrigger]:
        return lambda: CronTrigger(hour=at.hour, minute=at.minute, timezone=LOCAL_TZ)

    def interval(period: timedelta) -> Callable[[], IntervalTrigger]:
        return lambda: IntervalTrigger(seconds=period.total_seconds(), timezone=LOCAL_TZ)

    return [
        Job("sweep", in_one_unit_of_work(sweep), interval(every), every),
        Job("deliver", deliver, interval(deliver_every), deliver_every),  # commits per message
        Job("refresh", in_one_unit_of_work(refresh_due_items), daily(REFRESH_AT), day),
        Job("digest", in_one_unit_of_work(morning_digest), daily(schedule.digest_time), day),
    ]


def in_one_unit_of_work(work: Callable[[Context], object]) -> Callable[[Engine], object]:
    """A job that does all its work in one transaction, committed at the end."""

    def run(engine: Engine) -> object:
        with engine.context() as ctx:
            return work(ctx)

    return run


class Runner:
    """Runs jobs for one scheduler process, each only while holding the lock."""

    def __init__(self, engine: Engine, holder: str | None = None) -> None:
        self.engine = engine
        self.lock = DatabaseLock(engine, holder or holder_name())

    def run(self, job: Job) -> bool:
        """Run ``job`` now if this process holds the lock; whether it ran. A failing job is
        logged and recorded, never raised: the next run tries again."""
        if not self.lock.acquire():
            log.info("%s: another scheduler holds the lock", job.name)
            return False
        started = self.engine.clock.now()
        error = ""
        try:
            log.info("%s: %s", job.name, job.run(self.engine))
        except Exception as exc:
            log.exception("%s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"
        self._record(job.name, started, error)
        return True

    def catch_up(self, due: list[Job]) -> list[str]:
        """Run once each job whose last run is older than its period; their names."""
        with self.engine.context(write=False) as ctx:
            now = ctx.now()
            last = dict(ctx.session.execute(sa.select(JobRun.name, JobRun.last_started_at)).all())
        return [job.name for job in due if job.missed(last.get(job.name), now) and self.run(job)]

    def _record(self, name: str, started: datetime, error: str) -> None:
        with self.engine.context() as ctx:
            row = ctx.session.get(JobRun, name) or JobRun(name=name, runs=0)
            ctx.session.add(row)
            row.last_started_at, row.last_finished_at = started, ctx.now()
            row.runs += 1
            row.holder, row.last_error = self.lock.holder, error


def configure(scheduler: BaseScheduler, runner: Runner, due: list[Job]) -> None:
    """Add every job and the lease's heartbeat to an APScheduler scheduler."""
    for job in due:
        scheduler.add_job(
            runner.run,
            job.trigger(),
            name=job.name,
            args=[job],
            id=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(job.period.total_seconds()),
        )
    scheduler.add_job(
        runner.lock.acquire,
        IntervalTrigger(seconds=HEARTBEAT.total_seconds()),
        id="heartbeat",
        coalesce=True,
        max_instances=1,
    )


def run_forever(engine: Engine) -> None:
    """`nhiemvu scheduler`: catch up, then run the jobs until stopped (SIGINT/SIGTERM)."""
    runner = Runner(engine)
    due = jobs(engine)
    scheduler = BlockingScheduler(timezone=LOCAL_TZ)
    configure(scheduler, runner, due)
    caught_up = runner.catch_up(due)
    log.info("caught up: %s", ", ".join(caught_up) or "nothing")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runner.lock.release()
