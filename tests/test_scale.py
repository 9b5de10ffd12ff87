"""Scale beyond one machine: two `nhiemvu serve` and two `nhiemvu scheduler` processes on one
PostgreSQL database, driven over real HTTP by several people at once, keep every count right.

The set-up of the README's "Scale beyond one machine", on one host: both web servers answer at
127.0.0.1, so a browser's cookie reaches either of them, as behind a reverse proxy that sends
each request to any worker. Every person reads a page from one server and posts its form to the
other. Unit heads report on their overdue items, the Office accepts the reports (half through
each server), and two people race on one task with the same version. The schedulers start with
the work, time-travelled to 16/12/2026 so that their catch-up has escalation steps to fire and
due items to roll forward while the servers change the same tasks.

Then, with plain SQL on the database: no request failed; the race landed once; every report
answered with a redirect is there, once, and accepted; the overdue board of both servers shows
what the due items say, and moved by exactly what was reported; each task's version counts its
history; escalations and notifications are unique and the scheduled jobs ran once, by one
scheduler holding the lease."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import _free_port, database_on
from tests.test_cli import nhiemvu, ok
from workflow.config import PROJECT_ROOT

TODAY = "2026-11-22"  # the demo is loaded, and the web servers work, on that day
SWEEP_DAY = "2026-12-16"  # the schedulers' day: their catch-up has many steps to fire
SERVER_URL = os.environ.get("NHIEMVU_TEST_DATABASE_URL") or ""
ON_POSTGRES = SERVER_URL.startswith("postgresql")
DISCUSSION = ("direction", "comment", "explanation_requested", "explanation_given")
JOBS = {"sweep", "deliver", "refresh", "digest"}
TIMEOUT = 45  # seconds for the concurrent work; the whole test takes about 30

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="several processes on one database is the PostgreSQL set-up; SQLite is the "
        "single-machine default (set NHIEMVU_TEST_DATABASE_URL to a PostgreSQL server)",
    ),
]


# --- processes ----------------------------------------------------------------------------------


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """A database of this test's own on the test server, dropped after it."""
    with database_on(SERVER_URL, "nhiemvu_scale") as url:
        yield url


@dataclass
class Cluster:
    """Processes of one instance (one folder, as machines would share its secret key) on the
    scratch database, each logging to a file; all stopped after the test."""

    folder: Path
    url: str
    db: sa.Engine
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)  # base URLs

    def start(self, name: str, *args: str, today: str = TODAY) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NHIEMVU_")}
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])
        )
        command = [sys.executable, "-m", "workflow.cli", "--instance", str(self.folder)]
        command += ["--database-url", self.url, "--today", today, *args]
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.processes.append(process)

    def serve(self) -> None:
        """Two web servers, answering once both are up."""
        ports = [_free_port(), _free_port()]
        for port in ports:
            self.start(f"serve-{port}", "serve", "--port", str(port))
        self.servers = [f"http://127.0.0.1:{port}" for port in ports]
        for base in self.servers:
            self._wait_for(base)

    @property
    def password(self) -> str:
        return (self.folder / "demo-password").read_text().strip()

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_for(self, base: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=1).close()
                return
            except OSError:
                if any(p.poll() is not None for p in self.processes):
                    break
                time.sleep(0.1)
        pytest.fail(f"{base} did not start:\n{self.output()}")


@pytest.fixture
def cluster(tmp_path: Path, scratch_url: str) -> Iterator[Cluster]:
    """The demo loaded into the scratch database and two web servers on it."""
    ok(nhiemvu(tmp_path, "--database-url", scratch_url, "--today", TODAY, "demo"))
    found = Cluster(tmp_path, scratch_url, sa.create_engine(scratch_url))
    try:
        found.serve()
        yield found
    finally:
        found.stop()
        found.db.dispose()


# --- a browser over real HTTP -------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs (token, version)
    options: dict[str, list[str]] = field(default_factory=dict)  # select name → values


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif not self.forms:
            return
        elif tag == "input" and a.get("type") == "hidden":
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self.forms[-1].options[self._select] = []
        elif tag == "option" and self._select:
            self.forms[-1].options[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_at(page: str, action: str) -> Form | None:
    return next((f for f in forms(page) if f.action == action), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to record, not to follow


@dataclass
class Exchange:
    who: str
    method: str
    url: str
    status: int
    detail: str = ""  # what an unexpected answer said


def _text_of(page: str) -> str:
    """A page's messages, without its markup."""
    found = re.findall(r'<p class="error[^"]*"[^>]*>(.*?)</p>', page, re.S)
    return " | ".join(found) or re.sub(r"<[^>]+>|\s+", " ", page)[-600:]


class Browser:
    """One person's browser: one cookie jar for both servers (one host, as behind a proxy)."""

    def __init__(self, who: str, journal: list[Exchange], lock: threading.Lock) -> None:
        self.who, self.journal, self.lock = who, journal, lock
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )

    def _send(self, method: str, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Accept-Language", "en")
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        with self.lock:
            detail = "" if status in (200, 302, 409) else _text_of(text)
            self.journal.append(Exchange(self.who, method, url, status, detail))
        return status, text

    def get(self, base: str, path: str) -> str:
        status, text = self._send("GET", base + path)
        assert status == 200, (self.who, path, status, text[:500])
        return text

    def post(self, base: str, path: str, data: dict) -> int:
        return self._send("POST", base + path, data)[0]

    def sign_in(self, base: str, username: str, password: str) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(base, "/login"))[1]
        data = {"username": username, "password": password, "csrf_token": token}
        assert self.post(base, "/login", data) == 302, username


# --- the work -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    task_id: int
    kind: str
    period_key: str
    leads: tuple[str, ...]  # unit codes, in the plan's order

    @property
    def period(self) -> str:  # the report form's value
        return f"{self.kind}:{self.period_key}"

    @property
    def progress(self) -> int:  # complete for a deadline; a deadline is met only by 100 %
        return 100 if self.kind == "deadline" else 50


def overdue_items(db: sa.Engine) -> list[Item]:
    with db.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT d.task_id, d.kind, d.period_key, u.code FROM due_items d "
                "JOIN task_units tu ON tu.task_id = d.task_id AND tu.role = 'lead' "
                "JOIN units u ON u.id = tu.unit_id "
                "WHERE d.status = 'open' AND d.due_date < :today "
                "ORDER BY d.task_id, d.due_date, d.id, tu.position"
            ),
            {"today": TODAY},
        ).all()
    leads: dict[tuple, list[str]] = defaultdict(list)
    for task_id, kind, period_key, code in rows:
        leads[task_id, kind, period_key].append(code)
    return [Item(*key, tuple(codes)) for key, codes in leads.items()]


def accounts(db: sa.Engine, role: str) -> dict[str, str]:
    """Unit code → username of that unit's account with ``role``."""
    with db.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT u.code, a.username FROM users a JOIN units u ON u.id = a.unit_id "
                "WHERE a.role = :role AND a.active ORDER BY a.username"
            ),
            {"role": role},
        ).all()
    return dict(rows)


@dataclass
class Outcome:
    """What the clients were told, shared by their threads."""

    journal: list[Exchange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    submitted: dict[str, Item] = field(default_factory=dict)  # report text → its item (302)
    accepted: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # by server
    problems: list[str] = field(default_factory=list)

    def browser(self, who: str) -> Browser:
        return Browser(who, self.journal, self.lock)


def report(browser: Browser, read: str, post: str, item: Item, outcome: Outcome, tries=30) -> int:
    """Report on ``item`` as a person does: open the task page, fill its form, submit; on a 409
    (someone changed the task meanwhile) reload and submit again. The last status."""
    path = f"/tasks/{item.task_id}/report"
    status = 0
    for _ in range(tries):
        form = form_at(browser.get(read, f"/tasks/{item.task_id}"), path)
        if form is None or item.period not in form.options.get("period", []):
            outcome.problems.append(f"{browser.who}: no report form for {item}")
            return 0
        text = f"Báo cáo {item.period} {uuid.uuid4().hex}"
        data = {**form.fields, "period": item.period, "text": text, "progress": item.progress}
        status = browser.post(post, path, data)
        if status == 302:
            with outcome.lock:
                outcome.submitted[text] = item
        if status != 409:
            return status
    outcome.problems.append(f"{browser.who}: {item} still conflicting after {tries} tries")
    return status


def accept_all(browser: Browser, read: str, post: str, parity: int, done, outcome, deadline):
    """The Office: accept every report whose id has ``parity`` until the unit heads are done."""
    pattern = re.compile(r"/office/reports/(\d+)/accept")
    while time.monotonic() < deadline:
        finished = done.is_set()  # read before the page: a report sent before it is on it
        queue = [
            (int(m[1]), form)
            for form in forms(browser.get(read, "/office"))
            if (m := pattern.fullmatch(form.action)) and int(m[1]) % 2 == parity
        ]
        for report_id, form in queue:
            if browser.post(post, form.action, {**form.fields, "note": ""}) == 302:
                with outcome.lock:
                    outcome.accepted[post].append(report_id)
        if finished and not queue:
            return
        if not queue:
            time.sleep(0.05)
    outcome.problems.append(f"{browser.who}: reports still waiting at the deadline")


def run_threads(targets: list) -> None:
    """Run each target in a thread of its own; the first error of any of them is raised."""
    errors: list[BaseException] = []

    def guarded(target) -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client is stuck"
    if errors:
        raise errors[0]


# --- what the database says ---------------------------------------------------------------------

CLASSES = ("completed_on_time", "completed_late", "not_yet_due", "overdue")

BOARD_SQL = """
SELECT u.code,
  SUM(CASE WHEN d.status = 'satisfied' AND d.satisfied_on <= :as_of
            AND d.satisfied_on <= d.due_date THEN 1 ELSE 0 END),
  SUM(CASE WHEN d.status = 'satisfied' AND d.satisfied_on <= :as_of
            AND d.satisfied_on > d.due_date THEN 1 ELSE 0 END),
  SUM(CASE WHEN NOT (d.status = 'satisfied' AND d.satisfied_on <= :as_of)
            AND d.due_date >= :as_of THEN 1 ELSE 0 END),
  SUM(CASE WHEN NOT (d.status = 'satisfied' AND d.satisfied_on <= :as_of)
            AND d.due_date < :as_of THEN 1 ELSE 0 END)
FROM due_items d
JOIN task_units tu ON tu.task_id = d.task_id AND tu.role = 'lead'
JOIN units u ON u.id = tu.unit_id
WHERE d.status <> 'cancelled' OR d.cancelled_on > :as_of
GROUP BY u.code
"""


def board_by_sql(db: sa.Engine) -> dict[str, dict[str, int]]:
    """The four classes per lead unit, every kind, as of today: counted afresh from due_items."""
    with db.connect() as connection:
        rows = connection.execute(sa.text(BOARD_SQL), {"as_of": TODAY}).all()
    return {code: dict(zip(CLASSES, map(int, counts), strict=True)) for code, *counts in rows}


def board_by_http(browser: Browser, base: str) -> dict[str, dict[str, int]]:
    """The per-unit table of the overdue board's CSV export, as a server shows it."""
    text = browser.get(base, f"/board.csv?as_of={TODAY}&kind=all").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))[2:]
    return {
        code: dict(zip(CLASSES, map(int, counts), strict=True))
        for level, code, _name, *counts, _oldest, _days in rows
        if level == "Lead unit"
    }


def rows(db: sa.Engine, sql: str, bind: list | None = None, **params) -> list:
    with db.connect() as connection:
        return connection.execute(sa.text(sql).bindparams(*bind or []), params).all()


def scalar(db: sa.Engine, sql: str, **params) -> object:
    return rows(db, sql, **params)[0][0]


def job_runs(db: sa.Engine) -> list:
    """The scheduled jobs' records, once every job has run (the schedulers catch up at start),
    and after giving the other scheduler every chance to run one again."""
    deadline = time.monotonic() + 30
    sql = "SELECT name, runs, holder, last_error FROM job_runs ORDER BY name"
    while time.monotonic() < deadline and {r[0] for r in rows(db, sql)} < JOBS:
        time.sleep(0.2)
    time.sleep(2)
    return rows(db, sql)


# --- the test -----------------------------------------------------------------------------------


def test_two_servers_and_two_schedulers_on_one_database_keep_every_count_right(cluster):
    db, servers = cluster.db, cluster.servers
    outcome = Outcome()
    admin = outcome.browser("admin")
    admin.sign_in(servers[0], "admin", cluster.password)
    before = board_by_http(admin, servers[1])  # signed in on one server, read on the other
    assert before == board_by_sql(db)
    assert scalar(db, "SELECT count(*) FROM reports") == 0

    # Who does what: the race on a task whose unit has a head and a delegate, and one lane of
    # reports per task (two for a task with many items), each lane posting to one server.
    items = overdue_items(db)
    heads, delegates = accounts(db, "unit_head"), accounts(db, "unit_delegate")
    by_task: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_task[item.task_id].append(item)
    raced = next(
        its[0] for its in by_task.values() if len(its) == 1 and its[0].leads[0] in delegates
    )
    del by_task[raced.task_id]
    lanes: list[tuple[str, list[Item]]] = []
    for task_id, its in sorted(by_task.items()):
        unit = its[0].leads[task_id % len(its[0].leads)]  # any lead unit may report
        halves = [its[0::2], its[1::2]] if len(its) > 4 else [its]
        lanes += [(heads[unit], half) for half in halves]
    assert len(lanes) >= 4 and sum(len(its) for _, its in lanes) >= 10, lanes

    signing_in: list = []

    def browser(who: str, username: str, n: int) -> Browser:
        """A person's browser, to be signed in on server ``n`` (all at once, below)."""
        found = outcome.browser(who)
        signing_in.append(lambda: found.sign_in(servers[n % 2], username, cluster.password))
        return found

    reporters = [(browser(f"{user}#{n}", user, n), n, its) for n, (user, its) in enumerate(lanes)]
    office = [browser(f"{u}@{n}", u, n) for n, u in enumerate(["hcqt.office", "vps.office"])]
    racers = [
        browser(f"{user}@{n}", user, n)
        for n, user in enumerate([heads[raced.leads[0]], delegates[raced.leads[0]]])
    ]
    run_threads(signing_in)

    def lane(browser: Browser, n: int, its: list[Item]) -> None:
        for item in its:  # read from one server, post to the other
            report(browser, servers[(n + 1) % 2], servers[n % 2], item, outcome)

    # The race: both open the task page (the same version), then submit at the same instant,
    # each through a different server.
    path = f"/tasks/{raced.task_id}"
    raced_forms = [form_at(b.get(servers[n], path), f"{path}/report") for n, b in enumerate(racers)]
    version = int(raced_forms[0].fields["version"])
    assert [int(f.fields["version"]) for f in raced_forms] == [version, version]
    events_before = scalar(
        db, "SELECT count(*) FROM task_events WHERE task_id = :t", t=raced.task_id
    )
    barrier = threading.Barrier(2)
    race: dict[str, int] = {}

    def racer(n: int) -> None:
        text = f"Báo cáo tranh chấp {racers[n].who}"
        data = {**raced_forms[n].fields, "period": raced.period, "text": text, "progress": 100}
        barrier.wait()
        race[text] = status = racers[n].post(servers[n], f"{path}/report", data)
        if status == 302:
            with outcome.lock:
                outcome.submitted[text] = raced

    done = threading.Event()
    deadline = time.monotonic() + TIMEOUT

    def reporting() -> None:
        run_threads(
            [lambda b=b, n=n, its=its: lane(b, n, its) for b, n, its in reporters]
            + [lambda n=n: racer(n) for n in (0, 1)]
        )
        done.set()

    # The schedulers start with the work: their catch-up (sweep, mail, roll-forward, digest)
    # runs while people report and the Office accepts.
    for n in (1, 2):
        cluster.start(f"scheduler-{n}", "scheduler", today=SWEEP_DAY)
    started = time.monotonic()
    run_threads(
        [reporting]
        + [
            lambda n=n, b=b: accept_all(
                b, servers[(n + 1) % 2], servers[n], n, done, outcome, deadline
            )
            for n, b in enumerate(office)
        ]
    )
    elapsed = time.monotonic() - started

    # Every answer was a page, a redirect or a refused stale form: never a server error.
    statuses = Counter(e.status for e in outcome.journal)
    unexpected = [e for e in outcome.journal if e.status not in (200, 302, 409)]
    assert not unexpected, (statuses, unexpected, cluster.output())
    assert all(e.method == "POST" for e in outcome.journal if e.status == 409)
    assert not outcome.problems, outcome.problems

    # The race: one report landed, the other was refused, and the history shows one change.
    assert sorted(race.values()) == [302, 409], race
    (winner,) = [text for text, status in race.items() if status == 302]
    landed = rows(db, "SELECT text FROM reports WHERE task_id = :t", t=raced.task_id)
    assert [text for (text,) in landed] == [winner]
    actions = rows(
        db,
        "SELECT action FROM task_events WHERE task_id = :t ORDER BY id OFFSET :n",
        t=raced.task_id,
        n=events_before,
    )
    assert [action for (action,) in actions] == ["report", "accept"]  # the Office accepted it
    raced_version = scalar(db, "SELECT version FROM tasks WHERE id = :t", t=raced.task_id)
    assert raced_version == version + 2

    # Nothing lost: every report answered with a redirect is there, once, and was accepted;
    # nothing refused is there. The Office accepted through both servers.
    reports = rows(db, "SELECT id, text, status, task_id FROM reports")
    assert sorted(text for _, text, _, _ in reports) == sorted(outcome.submitted)
    assert {status for _, _, status, _ in reports} == {"accepted"}
    assert {text: task for _, text, _, task in reports} == {
        text: item.task_id for text, item in outcome.submitted.items()
    }
    assert all(outcome.accepted[base] for base in servers), outcome.accepted  # each accepted once
    assert sorted(itertools.chain(*outcome.accepted.values())) == sorted(r[0] for r in reports)
    reported = Counter(outcome.submitted.values())
    assert set(reported.values()) == {1} and set(reported) == {
        raced,
        *itertools.chain(*by_task.values()),
    }

    # The overdue board: both servers show what the due items say, and it moved by what was
    # reported: each item reported today left "overdue" for "completed late" in every lead unit.
    after = board_by_sql(db)
    assert board_by_http(admin, servers[0]) == after
    assert board_by_http(admin, servers[1]) == after
    moved = Counter(code for item in reported for code in item.leads)
    for code, counts in after.items():
        assert counts["overdue"] == before[code]["overdue"] - moved[code], code
        assert counts["completed_late"] == before[code]["completed_late"] + moved[code], code

    # Each task's version counts the history rows that changed it (the import's row rides on
    # the insert's version 1; discussion entries change nothing of the task).
    mismatched = rows(
        db,
        "SELECT t.id, t.version, count(e.id) FROM tasks t LEFT JOIN task_events e "
        "ON e.task_id = t.id AND e.action NOT IN :discussion GROUP BY t.id, t.version "
        "HAVING t.version <> count(e.id)",
        bind=[sa.bindparam("discussion", DISCUSSION, expanding=True)],
    )
    assert mismatched == []

    # The schedulers: each job ran once, all by one of them, holding the one lease; every
    # escalation step and notice exists once.
    runs = job_runs(db)
    assert {name for name, _, _, _ in runs} == JOBS, (runs, cluster.output())
    assert all(count == 1 and error == "" for _, count, _, error in runs), runs
    assert len({holder for _, _, holder, _ in runs}) == 1, runs
    assert rows(db, "SELECT holder FROM scheduler_locks") == [(runs[0][2],)]
    assert scalar(db, "SELECT count(*) FROM escalations") > 0
    assert not rows(
        db,
        "SELECT due_item_id, step FROM escalations WHERE due_item_id IS NOT NULL "
        "GROUP BY due_item_id, step HAVING count(*) > 1",
    )
    assert not rows(db, "SELECT key FROM notifications GROUP BY key HAVING count(*) > 1")
    for log in cluster.logs:
        assert "Traceback" not in log.read_text(errors="replace"), cluster.output()
    assert elapsed < TIMEOUT
