"""The real thing: `nhiemvu serve` (waitress) on a local port, signed into over HTTP."""

from __future__ import annotations

import http.cookiejar
import multiprocessing
import re
import urllib.parse
import urllib.request
from pathlib import Path

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
