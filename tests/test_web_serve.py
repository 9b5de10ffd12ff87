"""The real thing: `nhiemvu serve` (waitress) on a local port, signed into over HTTP."""

from __future__ import annotations

import http.cookiejar
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.test_cli import nhiemvu  # the console script, run as a user would


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):
    """A demo instance served on a free local port; stopped after the test."""
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
