"""The real thing: `nhiemvu serve` (waitress) on a local port, signed into over HTTP."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request


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
