"""The real thing: `nhiemvu serve` (waitress) on a local port, signed into over HTTP."""

from __future__ import annotations

import http.cookiejar
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import _free_port
from web import _secret_key
from workflow.config import PROJECT_ROOT, Settings


def test_serve_answers_in_vietnamese_and_signs_a_unit_head_in(served):
    base, password = served
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/login").read().decode()
    assert "Đăng nhập" in page and "Tên đăng nhập" in page
    assert opener.open(f"{base}/static/app.css").status == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    form = urllib.parse.urlencode(
        {"username": "vps.head", "password": password, "csrf_token": token}
    ).encode()
    landed = opener.open(f"{base}/login", data=form)
    assert landed.url == f"{base}/unit"
    assert landed.headers["X-Frame-Options"] == "DENY"


def _read_key(folder: str, start, keys) -> None:
    settings = Settings(
        instance_path=Path(folder), database_url="sqlite://", rules_dir=PROJECT_ROOT / "rules"
    )
    start.wait()
    keys.put(_secret_key(settings))


def test_web_processes_started_together_on_a_fresh_instance_share_one_secret_key(tmp_path):
    """Two `nhiemvu serve` started at once (several workers behind a proxy) must sign cookies
    with one key, or a session begun on one is refused by the other. Before the key was linked
    into place, six processes started together got different keys in about one start in six."""
    processes = multiprocessing.get_context("fork")
    for attempt in range(10):
        folder = tmp_path / str(attempt)
        start, keys = processes.Barrier(6), processes.Queue()
        workers = [
            processes.Process(target=_read_key, args=(str(folder), start, keys)) for _ in range(6)
        ]
        for worker in workers:
            worker.start()
        found = {keys.get(timeout=30) for _ in workers}
        for worker in workers:
            worker.join(timeout=30)
        assert len(found) == 1 and len(found.pop()) == 64
        assert (folder / "secret_key").stat().st_mode & 0o777 == 0o600
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # nothing left behind


def test_stopping_serve_with_sigterm_stops_its_scheduler(tmp_path):
    """`serve --with-scheduler` stopped as a service manager stops it (SIGTERM) leaves no
    scheduler running behind it."""
    from tests.test_cli import nhiemvu, ok

    ok(nhiemvu(tmp_path, "--today", "2026-11-22", "demo"))
    port = _free_port()
    command = [sys.executable, "-m", "workflow.cli", "--instance", str(tmp_path), "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--with-scheduler"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        scheduler = None
        for _ in range(100):
            children = subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            if children:
                scheduler = int(children[0])
                break
            time.sleep(0.1)
        assert scheduler is not None, "no scheduler process was started"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        for _ in range(100):
            if not _alive(scheduler):
                break
            time.sleep(0.1)
        assert not _alive(scheduler)
    finally:
        if server.poll() is None:
            server.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")
