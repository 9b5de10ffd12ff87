"""What the benchmark scripts share: a scratch instance and database, the ``nhiemvu`` command
on it, a server in a subprocess, a signed-in keep-alive HTTP client, and figures.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

TODAY = date(2026, 11, 22)


# --- the scratch instance ----------------------------------------------------------------------


@contextmanager
def scratch_database(server_url: str | None, instance: Path) -> Iterator[str]:
    """SQLite in the instance folder, or a database of our own on a PostgreSQL server."""
    if server_url is None:
        yield f"sqlite:///{instance / 'nhiemvu.db'}"
        return
    name = f"nhiemvu_bench_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def postgresql_server(url: str | None) -> str | None:
    """``url`` if it names a PostgreSQL server; exits with one line if it names anything else."""
    if url and sa.make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("--database-url must name a PostgreSQL server (SQLite is the default)")
    return url


def cli(instance: Path, url: str, *args: str) -> list[str]:
    """The ``nhiemvu`` command on the scratch instance, today being TODAY."""
    command = [sys.executable, "-m", "workflow.cli", "--instance", str(instance)]
    command += ["--database-url", url, "--today", TODAY.isoformat()]
    return [*command, *args]


def run_cli(instance: Path, url: str, *args: str) -> str:
    done = subprocess.run(cli(instance, url, *args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"nhiemvu {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def analyse(url: str) -> None:
    """After a bulk load: on PostgreSQL the table statistics autovacuum soon has; on SQLite the
    write-ahead log folded into the database, as the next checkpoint soon does."""
    if sa.make_url(url).get_backend_name() != "postgresql":
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        return
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    def rss_mb(self) -> float:
        """The server process's resident memory now, in MB (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


@contextmanager
def server(instance: Path, url: str, *args: str) -> Iterator[Server]:
    """``nhiemvu serve`` (waitress) on a free port, until the block ends."""
    port = free_port()
    log_path = instance / "serve.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        cli(instance, url, "serve", "--port", str(port), *args),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(port, process, log_path)
        yield Server(port, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_for(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"nhiemvu serve stopped:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nhiemvu serve did not answer on port {port} in {seconds} s")


# --- a client ----------------------------------------------------------------------------------


class Connection(http.client.HTTPConnection):
    """One connection, kept alive while the server lets it; counts how often it connected."""

    opened = 0

    def connect(self) -> None:
        self.opened += 1
        super().connect()

    def fetch(self, path: str, status: int, headers: dict[str, str] | None = None):
        """A GET that must answer ``status``: the response and its body, read whole."""
        self.request("GET", path, headers=headers or {})
        response = self.getresponse()
        body = response.read()
        if response.status != status:
            raise SystemExit(f"GET {path}: {response.status}, expected {status}")
        return response, body


class Browser:
    """A signed-in person on one kept-alive connection, with the cookies the server set."""

    def __init__(self, port: int) -> None:
        self.connection = Connection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def get(self, path: str) -> str:
        status, text = self.send("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        return text

    def sign_in(self, username: str, password: str) -> Browser:
        page = self.get("/login")
        form = {"username": username, "password": password, "csrf_token": csrf_token(page)}
        status, _ = self.send("POST", "/login", form)
        if status != 302:
            raise SystemExit(f"{username} could not sign in ({status})")
        return self

    def close(self) -> None:
        self.connection.close()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]


# --- figures -----------------------------------------------------------------------------------


@dataclass
class Figures:
    label: str
    seconds: list[float]
    connections: int | None = None  # TCP connections opened for the timed requests

    def ms(self) -> dict[str, float]:
        ordered = sorted(self.seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return {
            "min": 1000 * ordered[0],
            "p50": 1000 * statistics.median(ordered),
            "p95": 1000 * p95,
        }


def stopwatch(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def repeated(label: str, repeat: int, action: Callable[[], object]) -> Figures:
    """``action`` once to warm up, then ``repeat`` times on the clock."""
    action()
    return Figures(label, [stopwatch(action) for _ in range(repeat)])


def machine() -> dict[str, object]:
    """What the figures ran on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found[1].strip() if found else ""
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def run_in_scratch(args, measure: Callable[[Path, str, object], dict]) -> None:
    """``measure(instance, url, args)`` on a scratch instance (SQLite, or a database of its
    own on ``args.database_url``); its figures written to ``args.json`` when given."""
    with (
        tempfile.TemporaryDirectory(prefix="nhiemvu-bench-") as folder,
        scratch_database(args.database_url, Path(folder)) as url,
    ):
        results = measure(Path(folder), url, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
