"""nhiemvu at provincial scale: the screens people open every morning, measured (a script, not
a test).

    python benchmarks/run.py --tasks 100000 [--database-url URL] [--json FILE]

Builds a scratch instance with ``nhiemvu bench generate --tasks N`` (60 units, plans of 2,000
tasks, states as of 2026-11-22), starts ``nhiemvu serve`` (waitress) on it and measures, each
through HTTP (signed in, one kept-alive connection per person), in this process against the
engine, and as the bare SQL the work needs:

* one unit's overdue list, as the head of the unit that leads the most tasks;
* the organisation's overdue board (four classes per lead unit and per plan), as the Office;
* a task page with its history;
* a unit calendar feed of the whole window, and its 304;
* a status change with a note (a unit head's report, in progress → reported), one client and
  then four at once (changes/s, p50, p95, errors), and a race of two clients on the same task
  and version: one wins, the other gets 409, and no update is lost (checked in the database);
* the escalation sweep over 1,000,000 due items of which about 1 % are in its window, and again
  over ten times as many dormant items, in a database of its own;
* the web server's memory (RSS) when idle and at its peak.

It prints a table and, with ``--json``, writes every figure (p50/p95 in ms, and each HTTP and
engine figure's ratio to the bare SQL). With ``--database-url`` naming a PostgreSQL server the
run uses scratch databases there, analysed after loading, dropped at the end. Small values
(``--tasks 2000 --sweep-items 20000``) make a quick run that proves the script still works.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from common import (
    TODAY,
    Browser,
    Figures,
    analyse,
    csrf_token,
    machine,
    postgresql_server,
    repeated,
    run_cli,
    scratch_database,
    server,
    stopwatch,
)
from icalendar import Calendar
from sqlalchemy.orm import Session

from workflow import board, escalation, stamp_cache, unit_view
from workflow import calendars as cal
from workflow import tasks as svc
from workflow.clock import FixedClock
from workflow.config import load_settings
from workflow.context import Engine
from workflow.db import create_engine
from workflow.models import DueItem, Task, User
from workflow.pagination import PER_PAGE
from workflow.queries import DEADLINE_KINDS
from workflow.unit_view import Group

OFFICE = "bench.office"
NOTE = "Đã triển khai, kết quả đính kèm (đo hiệu năng)."
AS_OF = TODAY.isoformat()
CLIENTS = 4


LAYERS = ("http", "http_cold", "engine", "sql")


@dataclass
class Row:
    """One line of the table: the same work through HTTP (while nothing changed, and right after
    a change, when nothing kept in memory holds), in the engine (nothing kept) and as bare SQL."""

    work: str
    http: Figures | None = None
    http_cold: Figures | None = None
    engine: Figures | None = None
    sql: Figures | None = None
    goal_ms: float | None = None

    def as_json(self) -> dict:
        out: dict[str, object] = {"goal_ms": self.goal_ms}
        for name in LAYERS:
            figures: Figures | None = getattr(self, name)
            if figures is not None:
                out[name] = {"n": len(figures.seconds), **figures.ms()}
        if self.sql is not None:
            bare = self.sql.ms()["p50"]
            for name in LAYERS[:-1]:
                figures = getattr(self, name)
                if figures is not None and bare > 0:
                    out[f"{name}_to_sql"] = figures.ms()["p50"] / bare
        return out


@dataclass
class Results:
    database: str
    tasks: int
    rows: list[Row] = field(default_factory=list)
    changes: dict[str, dict] = field(default_factory=dict)
    sweep: dict[str, object] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    dataset: str = ""


# --- the dataset --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subjects:
    """Who and what is measured: the unit that leads the most tasks, one of its tasks."""

    unit_id: int
    unit_code: str
    head: str
    task_id: int
    other_heads: list[str]


def subjects(db: sa.Engine) -> Subjects:
    with db.connect() as c:
        units = c.execute(
            sa.text(
                "SELECT u.id, u.code, count(*) AS n FROM units u "
                "JOIN task_units l ON l.unit_id = u.id AND l.role = 'lead' "
                "GROUP BY u.id, u.code ORDER BY n DESC, u.id"
            )
        ).all()
        task_id = c.execute(
            sa.text(
                "SELECT t.id FROM tasks t JOIN task_units l ON l.task_id = t.id "
                "AND l.role = 'lead' WHERE l.unit_id = :unit AND t.status = 'closed' "
                "ORDER BY t.id LIMIT 1"
            ),
            {"unit": units[0].id},
        ).scalar_one()
    heads = [f"{u.code.lower()}.head" for u in units]
    return Subjects(units[0].id, units[0].code, heads[0], task_id, heads[1:CLIENTS])


def subscribe(engine: Engine, who: Subjects) -> str:
    with engine.context() as ctx:
        user = ctx.session.scalar(sa.select(User).where(User.username == who.head))
        return cal.subscribe(ctx.session, user, "unit", who.unit_id, ctx.now()).token


# --- reading: HTTP, engine, bare SQL -----------------------------------------------------------


def in_session(engine: Engine, work: Callable[[Session], object]) -> Callable[[], float]:
    """``work`` in a fresh read-only unit of work, as a request has, with nothing kept from an
    earlier call (:mod:`workflow.stamp_cache` off); returns its own time."""

    def action() -> float:
        stamp_cache.enabled = False
        try:
            with engine.context(write=False) as ctx:
                return stopwatch(lambda: work(ctx.session))
        finally:
            stamp_cache.enabled = True

    return action


def after_a_change(db: sa.Engine, repeat: int, action: Callable[[], object]) -> Figures:
    """``action`` timed right after the stamp changed, as after anybody's change: whatever a
    process kept under the old stamp no longer counts (the stamp's change is not timed)."""
    touch = sa.text("UPDATE board_stamps SET stamp = :stamp WHERE id = 1")

    def change() -> None:
        with db.begin() as c:
            c.execute(touch, {"stamp": secrets.token_hex(16)})

    seconds = []
    action()
    for _ in range(repeat):
        change()
        seconds.append(stopwatch(action))
    return Figures("http after a change", seconds)


def timed_inner(label: str, repeat: int, action: Callable[[], float]) -> Figures:
    action()
    return Figures(label, [action() for _ in range(repeat)])


def bare(db: sa.Engine, label: str, repeat: int, sql: str, **params: object) -> Figures:
    """A statement on a kept connection, its rows fetched: the floor for the same work."""
    statement = sa.text(sql)
    with db.connect() as c:
        return repeated(label, repeat, lambda: c.execute(statement, params).all())


UNIT_OVERDUE_SQL = """
SELECT * FROM (
  SELECT t.id, t.ref, t.name, t.status, t.timing_raw, p.code, p.number,
    (SELECT min(d.due_date) FROM due_items d
     WHERE d.task_id = t.id AND d.status = 'open') AS next_due
  FROM task_units l
  JOIN tasks t ON t.id = l.task_id
  JOIN plans p ON p.id = t.plan_id
  WHERE l.unit_id = :unit AND l.role = 'lead'
    AND t.status NOT IN ('closed', 'cancelled', 'superseded', 'waiting')
) x
WHERE next_due < :as_of
ORDER BY next_due, code, ref, id
LIMIT 50
"""

BOARD_SQL = """
SELECT l.unit_id,
  sum(CASE WHEN d.status = 'satisfied' AND d.satisfied_on <= :as_of
           AND d.satisfied_on <= d.due_date THEN 1 ELSE 0 END),
  sum(CASE WHEN d.status = 'satisfied' AND d.satisfied_on <= :as_of
           AND d.satisfied_on > d.due_date THEN 1 ELSE 0 END),
  sum(CASE WHEN NOT (d.status = 'satisfied' AND d.satisfied_on <= :as_of)
           AND d.due_date >= :as_of THEN 1 ELSE 0 END),
  sum(CASE WHEN NOT (d.status = 'satisfied' AND d.satisfied_on <= :as_of)
           AND d.due_date < :as_of THEN 1 ELSE 0 END),
  min(CASE WHEN NOT (d.status = 'satisfied' AND d.satisfied_on <= :as_of)
           AND d.due_date < :as_of THEN d.due_date END)
FROM due_items d
JOIN task_units l ON l.task_id = d.task_id AND l.role = 'lead'
WHERE d.kind IN ('deadline', 'occurrence') AND d.status <> 'cancelled'
GROUP BY l.unit_id
"""

TASK_SQL = (
    "SELECT t.*, p.number FROM tasks t JOIN plans p ON p.id = t.plan_id WHERE t.id = :task",
    "SELECT * FROM task_events WHERE task_id = :task ORDER BY at, id",
    "SELECT * FROM due_items WHERE task_id = :task ORDER BY due_date, id",
    "SELECT * FROM reports WHERE task_id = :task ORDER BY id",
    "SELECT l.*, u.name FROM task_units l JOIN units u ON u.id = l.unit_id WHERE l.task_id = :task",
)

FEED_SQL = """
SELECT d.id, d.kind, d.period_key, d.due_date, d.nominal_date, d.status, d.sequence,
       t.id, t.name, t.status, t.timing_raw, t.version, p.number, p.title
FROM due_items d
JOIN tasks t ON t.id = d.task_id
JOIN plans p ON p.id = t.plan_id
WHERE d.task_id IN (SELECT task_id FROM task_units WHERE unit_id = :unit)
  AND d.due_date BETWEEN :start AND :end
ORDER BY d.due_date, d.id
"""

FEED_VERSION_SQL = """
SELECT count(*), max(d.updated_at), max(t.updated_at)
FROM due_items d JOIN tasks t ON t.id = d.task_id
WHERE d.task_id IN (SELECT task_id FROM task_units WHERE unit_id = :unit)
  AND d.due_date BETWEEN :start AND :end
"""


def reading_rows(
    port: int, engine: Engine, db: sa.Engine, who: Subjects, token: str, repeat: int
) -> list[Row]:
    head = Browser(port).sign_in(who.head, PASSWORD)
    office = Browser(port).sign_in(OFFICE, PASSWORD)
    task_path = f"/tasks/{who.task_id}"
    feed_path = f"/calendar/{token}.ics"
    settings = engine.settings
    with engine.context(write=False) as ctx:
        window = cal.Window.configured(settings, ctx.today())
        feed = cal.resolve(ctx.session, token)
    base_url = f"http://127.0.0.1:{port}"
    feed_body = head.get(feed_path)
    events = len(Calendar.from_ical(feed_body).walk("VEVENT"))
    etag = _etag(head, feed_path)

    def feed_304() -> None:
        head.connection.request("GET", feed_path, headers={"If-None-Match": etag})
        response = head.connection.getresponse()
        response.read()
        if response.status != 304:
            raise SystemExit(f"GET {feed_path} with its ETag: {response.status}, expected 304")

    with engine.context(write=False) as ctx:
        user = ctx.session.scalar(sa.select(User).where(User.username == who.head))
        office_user = ctx.session.scalar(sa.select(User).where(User.username == OFFICE))
        ctx.session.expunge_all()

    def task_page(session: Session) -> object:
        task = session.get(Task, who.task_id)
        return unit_view.task_page(session, session.merge(user, load=False), task, TODAY)

    def overdue_page(session: Session) -> object:
        return unit_view.group_page(session, who.unit_id, Group.OVERDUE, TODAY, 1, PER_PAGE)

    def board_counts(session: Session) -> object:
        scope = board.organisation_unit_ids(session, session.merge(office_user, load=False))
        return (
            board.per_unit(session, TODAY, scope, kinds=DEADLINE_KINDS),
            board.per_plan(session, TODAY, scope, kinds=DEADLINE_KINDS),
        )

    params = {"unit": who.unit_id, "as_of": TODAY}
    window_params = {"unit": who.unit_id, "start": window.start, "end": window.end}
    few = max(3, repeat // 5)
    unit_list = lambda: head.get(UNIT_PATH)  # noqa: E731
    board_page = lambda: office.get(f"/board?as_of={AS_OF}")  # noqa: E731
    whole_feed = lambda: head.get(feed_path)  # noqa: E731
    rows = [
        Row(
            "one unit's overdue list (unit head)",
            repeated("http", repeat, unit_list),
            after_a_change(db, repeat, unit_list),
            timed_inner("engine", repeat, in_session(engine, overdue_page)),
            bare(db, "sql", repeat, UNIT_OVERDUE_SQL, **params),
            goal_ms=12,
        ),
        Row(
            "organisation overdue board (Office)",
            repeated("http", repeat, board_page),
            after_a_change(db, repeat, board_page),
            timed_inner("engine", repeat, in_session(engine, board_counts)),
            bare(db, "sql", repeat, BOARD_SQL, as_of=TODAY),
            goal_ms=25,
        ),
        Row(
            "task page with its history",
            repeated("http", repeat, lambda: head.get(task_path)),
            None,
            timed_inner("engine", repeat, in_session(engine, task_page)),
            _bare_many(db, repeat, TASK_SQL, task=who.task_id),
        ),
        Row(
            f"unit calendar feed, {events:,} events (200)",
            repeated("http", few, whole_feed),
            after_a_change(db, few, whole_feed),
            timed_inner(
                "engine",
                few,
                in_session(
                    engine, lambda s: cal.build_feed(s, feed, window, base_url, engine.rules)
                ),
            ),
            bare(db, "sql", few, FEED_SQL, **window_params),
        ),
        Row(
            "unit calendar feed, If-None-Match (304)",
            repeated("http", repeat * 5, feed_304),
            after_a_change(db, repeat, feed_304),
            timed_inner(
                "engine",
                repeat * 5,
                in_session(engine, lambda s: cal.feed_version(s, feed, window, base_url)),
            ),
            bare(db, "sql", repeat * 5, FEED_VERSION_SQL, **window_params),
            goal_ms=2,
        ),
    ]
    head.close()
    office.close()
    return rows


def _etag(browser: Browser, path: str) -> str:
    browser.connection.request("GET", path)
    response = browser.connection.getresponse()
    response.read()
    return response.getheader("ETag")


def _bare_many(db: sa.Engine, repeat: int, statements: tuple[str, ...], **params) -> Figures:
    compiled = [sa.text(s) for s in statements]
    with db.connect() as c:
        return repeated("sql", repeat, lambda: [c.execute(s, params).all() for s in compiled])


# --- writing: status changes ------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    task_id: int
    version: int
    period: str  # the report form's value: "report:2026"


def reportable(db: sa.Engine, head: str, count: int) -> list[Change]:
    """In-progress tasks the unit of ``head`` leads, each with an open reporting period."""
    with db.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT t.id, t.version, min(d.period_key) FROM tasks t "
                "JOIN task_units l ON l.task_id = t.id AND l.role = 'lead' "
                "JOIN units u ON u.id = l.unit_id "
                "JOIN due_items d ON d.task_id = t.id AND d.kind = 'report' "
                "AND d.status = 'open' "
                "WHERE u.code = :code AND t.status = 'in_progress' "
                "GROUP BY t.id, t.version ORDER BY t.id LIMIT :count"
            ),
            {"code": head.split(".")[0].upper(), "count": count},
        ).all()
    return [Change(r[0], r[1], f"report:{r[2]}") for r in rows]


@dataclass
class Outcomes:
    seconds: list[float] = field(default_factory=list)
    done: list[int] = field(default_factory=list)  # task ids changed
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_report(browser: Browser, token: str, change: Change, outcomes: Outcomes) -> None:
    form = {
        "csrf_token": token,
        "period": change.period,
        "text": NOTE,
        "progress": "50",
        "version": str(change.version),
    }
    started = time.perf_counter()
    status, text = browser.send("POST", f"/tasks/{change.task_id}/report", form)
    seconds = time.perf_counter() - started
    with outcomes.lock:
        outcomes.seconds.append(seconds)
        if status == 302:
            outcomes.done.append(change.task_id)
        elif status == 409:
            outcomes.conflicts += 1
        else:
            message = re.search(r'class="error[^"]*"[^>]*>(.*?)<', text, re.S)
            outcomes.errors.append(f"{status} {message[1] if message else ''}".strip())


def run_clients(port: int, plans: dict[str, list[Change]], barrier: bool = False) -> Outcomes:
    """Each head posts its changes on its own connection, all heads at once."""
    outcomes = Outcomes()
    browsers = {head: Browser(port).sign_in(head, PASSWORD) for head in plans}
    tokens = {head: csrf_token(b.get("/unit")) for head, b in browsers.items()}
    gate = threading.Barrier(len(plans)) if barrier else None

    def client(head: str) -> None:
        for change in plans[head]:
            if gate is not None:
                gate.wait()
            post_report(browsers[head], tokens[head], change, outcomes)

    threads = [threading.Thread(target=client, args=(head,)) for head in plans]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes.seconds.append(-(time.perf_counter() - started))  # the wall time, kept apart
    for b in browsers.values():
        b.close()
    return outcomes


def change_figures(label: str, outcomes: Outcomes) -> dict:
    wall = -min(outcomes.seconds)
    seconds = [s for s in outcomes.seconds if s >= 0]
    figures = Figures(label, seconds).ms()
    return {
        "changes": len(outcomes.done),
        "per_second": len(outcomes.done) / wall if wall else 0.0,
        "p50": figures["p50"],
        "p95": figures["p95"],
        "conflicts": outcomes.conflicts,
        "errors": len(outcomes.errors),
        "first_error": outcomes.errors[0] if outcomes.errors else "",
    }


def status_changes(
    port: int, engine: Engine, db: sa.Engine, who: Subjects, count: int
) -> tuple[dict[str, dict], Row]:
    """Sequential, then four clients, then races, and the check that nothing was lost; then
    the same change in the engine and as bare SQL, on other tasks of the unit."""
    heads = [who.head, *who.other_heads]
    needed = {head: count * 2 for head in heads} | {who.head: count * 4 + min(count, 10)}
    available = {head: reportable(db, head, needed[head]) for head in heads}
    for head, changes in available.items():
        if len(changes) < needed[head]:
            raise SystemExit(
                f"--changes {count} needs {needed[head]} tasks {head} may report on; there are "
                f"{len(changes)}: ask for fewer changes or more tasks"
            )
    before = _report_events(db)
    sequential = run_clients(port, {who.head: available[who.head][:count]})
    together = run_clients(port, {h: available[h][count : count * 2] for h in heads})
    races = available[who.head][count * 2 : count * 2 + min(count, 10)]
    delegate = who.head.replace(".head", ".delegate")
    raced = run_clients(port, {who.head: races, delegate: races}, barrier=True)
    changed = sequential.done + together.done + raced.done
    lost = _lost_updates(db, changed, before, available)
    figures = {
        "one client": change_figures("one client", sequential),
        f"{len(heads)} clients": change_figures(f"{len(heads)} clients", together),
        "2 clients, same task and version": change_figures("race", raced),
    }
    figures["check"] = lost
    rest = available[who.head][count * 2 + min(count, 10) :]
    row = Row(
        "status change with a note (one client)",
        http=Figures("http", [t for t in sequential.seconds if t >= 0]),
        engine=timed_changes(rest[:count], lambda c: engine_report(engine, who.head, c)),
        sql=timed_changes(rest[count : count * 2], bare_report(engine.settings.database_url, who)),
    )
    return figures, row


def timed_changes(changes: list[Change], change: Callable[[Change], object]) -> Figures:
    return Figures("changes", [stopwatch(lambda c=c: change(c)) for c in changes])


def engine_report(engine: Engine, head: str, change: Change) -> None:
    """The service the report form calls, in its own committed unit of work."""
    with engine.context() as ctx:
        user = ctx.session.scalar(sa.select(User).where(User.username == head))
        task = svc.get_task(ctx, change.task_id, actor=user)
        svc.submit_report(
            ctx,
            user,
            task,
            text=NOTE,
            progress=50,
            period_key=change.period,
            expected_version=change.version,
        )


BARE_REPORT = (
    "UPDATE tasks SET status = 'reported', progress = 50, version = version + 1, "
    "updated_at = :now WHERE id = :task AND version = :version",
    "INSERT INTO reports (task_id, text, progress, status, submitted_at, submitted_by_id, "
    "review_note) VALUES (:task, :note, 50, 'submitted', :now, :user, '') RETURNING id",
    "UPDATE due_items SET status = 'satisfied', satisfied_at = :now, satisfied_on = :today, "
    "report_id = :report, updated_at = :now "
    "WHERE task_id = :task AND kind = 'report' AND period_key = :period AND status = 'open'",
    "INSERT INTO task_events (task_id, at, actor_id, action, from_status, to_status, note, "
    "changes) VALUES (:task, :now, :user, 'report', 'in_progress', 'reported', :note, '{}')",
)


def bare_report(url: str, who: Subjects) -> Callable[[Change], None]:
    """The same rows written by hand, on a connection with the application's durability
    (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE), one transaction per change."""
    db = create_engine(url)
    sqlite = db.dialect.name == "sqlite"
    with db.connect() as c:
        user = c.execute(
            sa.text("SELECT id FROM users WHERE username = :u"), {"u": who.head}
        ).scalar_one()
    update, insert, satisfy, history = (sa.text(s) for s in BARE_REPORT)

    def change(change: Change) -> None:
        now = datetime.now(UTC)
        params = {
            "now": now.replace(tzinfo=None) if sqlite else now,
            "today": TODAY,
            "task": change.task_id,
            "version": change.version,
            "period": change.period.partition(":")[2],
            "user": user,
            "note": NOTE,
        }
        with db.connect().execution_options(sqlite_immediate=True) as c, c.begin():
            if c.execute(update, params).rowcount != 1:
                raise SystemExit(f"bare SQL: task {change.task_id} changed meanwhile")
            params["report"] = c.execute(insert, params).scalar_one()
            c.execute(satisfy, params)
            c.execute(history, params)

    return change


def _report_events(db: sa.Engine) -> int:
    with db.connect() as c:
        return c.execute(
            sa.text("SELECT count(*) FROM task_events WHERE action = 'report'")
        ).scalar()


def _lost_updates(
    db: sa.Engine, changed: list[int], before: int, available: dict[str, list[Change]]
) -> dict:
    """Every accepted change is in the history once and raised its task's version once."""
    versions = {c.task_id: c.version for changes in available.values() for c in changes}
    with db.connect() as c:
        now = dict(
            c.execute(sa.select(Task.id, Task.version).where(Task.id.in_(sorted(versions)))).all()
        )
    after = _report_events(db)
    moved = {task_id for task_id in versions if now[task_id] != versions[task_id]}
    twice = [t for t in changed if changed.count(t) > 1]
    ok = after - before == len(changed) and moved == set(changed) and not twice
    return {
        "accepted": len(changed),
        "history_rows_added": after - before,
        "tasks_whose_version_moved": len(moved),
        "no_lost_update": ok,
    }


# --- the sweep --------------------------------------------------------------------------------


DORMANT_COLUMNS = (
    "task_id, kind, period_key, nominal_date, original_due_date, due_date, status, "
    "satisfied_on, sequence, created_at, updated_at"
)


def add_dormant(db: sa.Engine, count: int, first: int) -> None:
    """``count`` due items the sweep must not read: nine in ten satisfied long ago, one in ten
    open far beyond any reminder, spread over the tasks; written by the database itself."""
    if count <= 0:
        return
    with db.begin() as c:
        low, high = c.execute(sa.text("SELECT min(id), max(id) FROM tasks")).one()
        span = high - low + 1
        postgres = db.dialect.name == "postgresql"
        day = (
            "(DATE '2020-01-01' + (n % 1800))"
            if postgres
            else "date('2020-01-01', '+' || (n % 1800) || ' days')"
        )
        future = (
            "(DATE '2031-01-01' + (n % 1800))"
            if postgres
            else "date('2031-01-01', '+' || (n % 1800) || ' days')"
        )
        now = "now()" if postgres else "datetime('now')"
        values = (
            f"SELECT {low} + (n % {span}), 'occurrence', 'z' || n, "
            f"CASE WHEN n % 10 = 0 THEN {future} ELSE {day} END, "
            f"CASE WHEN n % 10 = 0 THEN {future} ELSE {day} END, "
            f"CASE WHEN n % 10 = 0 THEN {future} ELSE {day} END, "
            f"CASE WHEN n % 10 = 0 THEN 'open' ELSE 'satisfied' END, "
            f"CASE WHEN n % 10 = 0 THEN NULL ELSE {day} END, 0, {now}, {now}"
        )
        last = first + count - 1
        if postgres:
            c.execute(
                sa.text(
                    f"INSERT INTO due_items ({DORMANT_COLUMNS}) {values} "
                    f"FROM generate_series({first}, {last}) AS s(n)"
                )
            )
        else:
            c.execute(
                sa.text(
                    f"WITH RECURSIVE s(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM s "
                    f"WHERE n < {last}) INSERT INTO due_items ({DORMANT_COLUMNS}) {values} FROM s"
                )
            )


def due_item_count(db: sa.Engine) -> int:
    with db.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM due_items")).scalar()


def in_window(engine: Engine) -> int:
    """How many due items the sweep reads: open, in its span, of an active task."""
    with engine.context(write=False) as ctx:
        start, end = escalation.span(ctx.rules, ctx.calendar, ctx.today())
        return ctx.session.execute(
            sa.text(
                "SELECT count(*) FROM due_items d JOIN tasks t ON t.id = d.task_id "
                "WHERE d.status = 'open' AND d.due_date BETWEEN :start AND :end "
                "AND t.status IN ('in_progress', 'reported')"
            ),
            {"start": start, "end": end},
        ).scalar()


def one_sweep(engine: Engine, keep: bool) -> tuple[float, int]:
    """The sweep in one unit of work, its time and how many steps fired; undone unless kept."""
    with engine.database.unit_of_work(write=True) as session:
        ctx = engine.context_for(session)
        started = time.perf_counter()
        result = escalation.sweep(ctx)
        seconds = time.perf_counter() - started
        if not keep:
            session.rollback()
    return seconds, result.fired


def add_actionable(engine: Engine, db: sa.Engine, count: int) -> None:
    """``count`` open due items of in-progress tasks, spread over the days of the sweep's span
    as of TODAY: the items a sweep must look at."""
    if count <= 0:
        return
    with engine.context(write=False) as ctx:
        start, end = escalation.span(ctx.rules, ctx.calendar, ctx.today())
    with db.begin() as c:
        tasks = (
            c.execute(sa.text("SELECT id FROM tasks WHERE status = 'in_progress' ORDER BY id"))
            .scalars()
            .all()
        )
        now = datetime.now(UTC)
        days = (end - start).days + 1
        c.execute(
            sa.insert(DueItem.__table__),
            [
                {
                    "task_id": tasks[n % len(tasks)],
                    "kind": "occurrence",
                    "period_key": f"a{n}",
                    "nominal_date": start + timedelta(days=n % days),
                    "original_due_date": start + timedelta(days=n % days),
                    "due_date": start + timedelta(days=n % days),
                    "status": "open",
                    "sequence": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )


def sweep_phase(server_url: str | None, items: int, repeat: int) -> dict:
    """A database of its own holding ``items`` due items, 1 % of them in the sweep's span, the
    backlog of earlier days fired once; the day's sweep, undone and repeated; then the same
    with ten times the dormant items."""
    out: dict[str, object] = {}
    with (
        tempfile.TemporaryDirectory(prefix="nhiemvu-sweep-") as folder,
        scratch_database(server_url, Path(folder)) as url,
    ):
        instance = Path(folder)
        tasks = max(200, items // 500)
        run_cli(instance, url, "bench", "generate", "--tasks", str(tasks), "--password", PASSWORD)
        db = sa.create_engine(url)
        engine = Engine(load_settings(instance, url), FixedClock.on(TODAY))
        add_actionable(engine, db, items // 100 - in_window(engine))
        add_dormant(db, items - due_item_count(db), 1)
        analyse(url)
        yesterday = Engine(load_settings(instance, url), FixedClock.on(TODAY - timedelta(days=1)))
        backlog_seconds, backlog = one_sweep(yesterday, keep=True)
        yesterday.close()
        out["tasks"] = tasks
        out["backlog"] = {"fired": backlog, "seconds": backlog_seconds}
        for label, factor in (("1x", 1), ("10x", 10)):
            if factor > 1:
                dormant = items - in_window(engine)
                add_dormant(db, dormant * (factor - 1), items + 1)
                analyse(url)
            runs = [one_sweep(engine, keep=False) for _ in range(repeat + 1)][1:]
            figures = Figures("sweep", [s for s, _ in runs]).ms()
            out[label] = {
                "due_items": due_item_count(db),
                "in_window": in_window(engine),
                "fired": runs[0][1],
                **figures,
            }
        engine.close()
        db.dispose()
    return out


# --- the run ----------------------------------------------------------------------------------


UNIT_PATH = "/unit/overdue"
PASSWORD = secrets.token_urlsafe(12)


def measure(args: argparse.Namespace) -> Results:
    with (
        tempfile.TemporaryDirectory(prefix="nhiemvu-bench-") as folder,
        scratch_database(args.database_url, Path(folder)) as url,
    ):
        instance = Path(folder)
        started = time.perf_counter()
        made = run_cli(
            instance, url, "bench", "generate", "--tasks", str(args.tasks), "--password", PASSWORD
        )
        analyse(url)
        results = Results(sa.make_url(url).get_backend_name(), args.tasks)
        results.dataset = (
            f"{made.splitlines()[0]} (with analyse: {time.perf_counter() - started:.0f} s)"
        )
        print(results.dataset)
        db = sa.create_engine(url)
        engine = Engine(load_settings(instance, url), FixedClock.on(TODAY))
        who = subjects(db)
        token = subscribe(engine, who)
        with server(instance, url) as web:
            Browser(web.port).sign_in(who.head, PASSWORD).close()
            results.memory_mb["idle"] = web.rss_mb()  # started, one person signed in
            results.rows = reading_rows(web.port, engine, db, who, token, args.repeat)
            results.memory_mb["after the readings"] = web.rss_mb()
            results.changes, change_row = status_changes(web.port, engine, db, who, args.changes)
            results.rows.append(change_row)
            results.memory_mb["after the changes"] = web.rss_mb()
            results.memory_mb["peak"] = web.peak_rss_mb()
        engine.close()
        db.dispose()
    if args.sweep_items:
        results.sweep = sweep_phase(args.database_url, args.sweep_items, max(3, args.repeat // 10))
    return results


def report(results: Results) -> None:
    print(f"\n{results.database}: {results.tasks:,} tasks")
    titles = ("HTTP", "after a change", "engine", "bare SQL")
    print(f"{'ms, p50 / p95':<42}" + "".join(f"{t:>16}" for t in titles) + "  HTTP/SQL  goal")
    for row in results.rows:
        cells = []
        for name in LAYERS:
            figures: Figures | None = getattr(row, name)
            ms = figures.ms() if figures else None
            cells.append(f"{ms['p50']:8.1f} /{ms['p95']:6.1f}" if ms else "")
        ratio = row.as_json().get("http_to_sql")
        goal = f"≤{row.goal_ms:g}" if row.goal_ms else ""
        print(
            f"{row.work:<42}"
            + "".join(f"{c:>16}" for c in cells)
            + (f"  {ratio:8.1f}" if ratio else "          ")
            + f"  {goal}"
        )
    print("\nstatus changes (a report with a note)")
    for label, f in results.changes.items():
        if label == "check":
            continue
        print(
            f"  {label:<34} {f['changes']:>5} changes {f['per_second']:7.1f}/s"
            f"  p50 {f['p50']:6.1f} ms  p95 {f['p95']:6.1f} ms"
            f"  conflicts {f['conflicts']}  errors {f['errors']} {f['first_error']}"
        )
    print(f"  check: {results.changes['check']}")
    sweep = results.sweep
    if sweep:
        report_sweep(sweep)
    print(f"\nweb server RSS, MB: {results.memory_mb}")


def report_sweep(sweep: dict) -> None:
    print(
        f"\nescalation sweep ({sweep['tasks']:,} tasks; backlog of earlier days fired once: "
        f"{sweep['backlog']['fired']:,} steps in {sweep['backlog']['seconds']:.1f} s)"
    )
    for label in ("1x", "10x"):
        s = sweep[label]
        print(
            f"  {s['due_items']:>11,} due items, {s['in_window']:,} in the window"
            f" ({100 * s['in_window'] / s['due_items']:.2f} %), {s['fired']:,} steps fire:"
            f" p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms"
        )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="dataset size (100000)")
    parser.add_argument("--database-url", help="a PostgreSQL server for scratch databases")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--repeat", type=int, default=30, help="requests per figure (30)")
    parser.add_argument("--changes", type=int, default=200, help="changes per client (200)")
    parser.add_argument(
        "--sweep-items",
        type=int,
        default=1_000_000,
        help="due items for the sweep (1000000; 0 leaves the sweep out)",
    )
    args = parser.parse_args()
    postgresql_server(args.database_url)
    if args.tasks < 100 or args.repeat < 1 or args.changes < 1:
        parser.error("need --tasks ≥ 100, --repeat ≥ 1 and --changes ≥ 1")
    if args.sweep_items and args.sweep_items < 10_000:
        parser.error("--sweep-items: 0, or at least 10000")
    return args


def main() -> None:
    args = arguments()
    results = measure(args)
    report(results)
    if args.json:
        data = {
            "database": results.database,
            "tasks": results.tasks,
            "dataset": results.dataset,
            "machine": machine(),
            "reading": {row.work: row.as_json() for row in results.rows},
            "status_changes": results.changes,
            "sweep": results.sweep,
            "memory_mb": results.memory_mb,
        }
        args.json.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
