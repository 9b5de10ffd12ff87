"""Shared fixtures. The same suite runs on SQLite and, when ``NHIEMVU_TEST_DATABASE_URL``
names a PostgreSQL server, on a database of its own created for the run and dropped after.

The schema is built by the real migrations; each test starts from empty tables.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings

from workflow import migrate
from workflow.clock import FixedClock
from workflow.config import PROJECT_ROOT, Settings
from workflow.context import Context, Engine
from workflow.db import Database
from workflow.importer import PlanSource, Table, import_plan
from workflow.models import Base, Plan, Task, User
from workflow.organisation import load_organisation

# Property tests judge behaviour, not speed: no per-example deadline on a busy CI machine.
hypothesis_settings.register_profile("nhiemvu", deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "nhiemvu"))

DEMO_ORGANISATION = PROJECT_ROOT / "workflow" / "data" / "demo" / "units.toml"
TASK_HEADER = ["STT", "Tên nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành"]
INDICATOR_HEADER = ["STT", "Mã số", "Tên chỉ tiêu", "Đơn vị tính", "Mục tiêu", "Đơn vị chủ trì"]


def _server_url() -> str | None:
    return os.environ.get("NHIEMVU_TEST_DATABASE_URL") or None


@contextmanager
def database_on(server: str, prefix: str) -> Iterator[str]:
    """The URL of a database of its own on ``server`` (PostgreSQL), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = _server_url()
    if server is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    with database_on(server, "nhiemvu_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


def _empty_tables(database: Database) -> None:
    """Children first; DELETE is much cheaper than TRUNCATE on PostgreSQL for small tables."""
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


class MovableClock:
    """A clock the test moves by hand: ``clock.set(date(2026, 11, 22))``."""

    def __init__(self, day: date) -> None:
        self.set(day)

    def set(self, day: date, hour: int = 9) -> None:
        self.instant = FixedClock.on(day, hour).instant

    def now(self) -> datetime:
        return self.instant


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(date(2026, 11, 22))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        instance_path=tmp_path, database_url=database_url, rules_dir=PROJECT_ROOT / "rules"
    )


@pytest.fixture
def engine(migrated: Database, settings: Settings, clock: MovableClock) -> Iterator[Engine]:
    _empty_tables(migrated)
    engine = Engine(settings, clock)
    yield engine
    engine.close()


@pytest.fixture
def organisation(engine: Engine) -> Engine:
    """The demo organisation: units, aliases, groups and users of the seed plans."""
    data = tomllib.loads(DEMO_ORGANISATION.read_text(encoding="utf-8"))
    with engine.context() as ctx:
        load_organisation(ctx.session, data, DEMO_ORGANISATION.name, actor=None)  # setting up
    return engine


def user(ctx: Context, username: str) -> User:
    found = ctx.session.scalar(sa.select(User).where(User.username == username))
    assert found is not None, username
    return found


def task_by_ref(ctx: Context, plan_code: str, ref: str) -> Task:
    found = ctx.session.scalar(
        sa.select(Task).join(Plan).where(Plan.code == plan_code, Task.ref == ref)
    )
    assert found is not None, (plan_code, ref)
    return found


@dataclass
class PlanMaker:
    """Import small plans through the real importer, the way the Office would."""

    engine: Engine

    def __call__(
        self,
        rows: list[list[str]],
        *,
        code: str = "test-plan",
        number: str = "1/KH-SKHCN",
        issuer: str = "SKHCN",
        regime: str = "",
        issued_on: str | None = None,
        supersedes: str | None = None,
        start: bool = True,
        actor: str = "vps.office",
        indicators: list[list[str]] | None = None,
    ) -> int:
        fields = {
            "code": code,
            "number": number,
            "title": f"Kế hoạch thử nghiệm {code}",
            "issuer": issuer,
            "reporting_regime": regime,
        }
        if issued_on:
            fields["issued_on"] = issued_on
        if supersedes:
            fields["supersedes"] = supersedes
        table = Table("tasks.csv", TASK_HEADER, [(i + 2, r) for i, r in enumerate(rows)])
        listed = None
        if indicators:
            numbered = [(i + 2, r) for i, r in enumerate(indicators)]
            listed = Table("indicators.csv", INDICATOR_HEADER, numbered)
        with self.engine.context() as ctx:
            office = user(ctx, actor)
            source = PlanSource(f"{code}.toml", fields, tasks=table, indicators=listed)
            result = import_plan(ctx, office, source)
            if start:
                from workflow.tasks import start_plan

                start_plan(ctx, office, result.plan.id)
            return result.plan.id


@pytest.fixture
def make_plan(organisation: Engine) -> PlanMaker:
    return PlanMaker(organisation)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the web app ---------------------------------------------------------------------------------

PASSWORD = "mat-khau-thu-nghiem"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session")
def password_hash() -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(PASSWORD)  # once: argon2 is slow on purpose


@pytest.fixture
def app(organisation: Engine, password_hash: str):
    """The web app on the test database; every demo account's password is PASSWORD."""
    from web import create_app

    with organisation.context() as ctx:
        for account in ctx.session.scalars(sa.select(User)):
            account.password_hash = password_hash
            account.session_token = uuid.uuid4().hex
    return create_app({"TESTING": True}, engine=organisation)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form on ``path``, as a browser would submit it."""
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match[1]


def post_form(client, path: str, data: dict | None = None, form_page: str | None = None):
    """Submit a form the way a browser does: token taken from the page that shows it."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**(data or {}), "csrf_token": token})


def sign_in(client, username: str, password: str = PASSWORD):
    return post_form(client, "/login", {"username": username, "password": password})


# --- a running server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):
    """A demo instance served on a free local port; stopped after the test."""
    from tests.test_cli import nhiemvu  # the console script, run as a user would

    assert nhiemvu(tmp_path, "--today", "2026-11-22", "demo").returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workflow.cli",
            "--instance",
            str(tmp_path),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, (tmp_path / "demo-password").read_text().strip()
    finally:
        server.terminate()
        server.wait(timeout=10)
