"""Every string of the interface is extracted, translated into Vietnamese and compiled."""

from __future__ import annotations

import subprocess
import sys

from workflow.config import PROJECT_ROOT


def test_catalogs_are_complete_and_compiled():
    check = subprocess.run(
        [sys.executable, "tools/i18n.py", "--check"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout


def test_the_interface_is_vietnamese_by_default_and_english_on_request(client):
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in" in english and "Đăng nhập" not in english
