"""Signing in and out, passwords, CSRF, cookies and headers, in the real Flask app."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tests.conftest import PASSWORD, csrf_token, post_form, sign_in, user
from workflow.models import User


def test_sign_in_sends_each_person_to_their_screen_and_sign_out_ends_it(client):
    response = sign_in(client, "vps.head")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/unit"
    assert post_form(client, "/logout", form_page="/account/password").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_a_wrong_password_says_so_without_saying_whether_the_user_exists(client):
    for username in ("vps.head", "nobody.here"):
        page = sign_in(client, username, "sai-mat-khau-roi").get_data(as_text=True)
        assert "Sai tên đăng nhập hoặc mật khẩu" in page
    assert client.get("/").status_code == 302  # still signed out


def test_five_failures_lock_the_account_even_for_the_right_password(client, engine, clock):
    for _ in range(5):
        sign_in(client, "vps.head", "doan-mo-mat-khau")
    page = sign_in(client, "vps.head").get_data(as_text=True)
    assert "Đăng nhập sai quá nhiều lần" in page
    clock.set(date(2026, 11, 23))  # the lock lasts fifteen minutes
    assert sign_in(client, "vps.head").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, engine):
    sign_in(client, "vps.head")
    response = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "mot-mat-khau-moi-dai",
            "confirm": "mot-mat-khau-moi-dai",
        },
    )
    assert response.status_code == 400
    with engine.context() as ctx:
        before = user(ctx, "vps.head").password_hash
    assert sign_in(client.application.test_client(), "vps.head").status_code == 302
    with engine.context() as ctx:
        assert user(ctx, "vps.head").password_hash == before


def test_changing_the_password_signs_out_other_sessions(app, engine):
    mine, other = app.test_client(), app.test_client()
    sign_in(mine, "vps.head")
    sign_in(other, "vps.head")
    new = "mot-mat-khau-moi-dai"
    response = post_form(
        mine, "/account/password", {"current": PASSWORD, "new": new, "confirm": new}
    )
    assert response.status_code == 302
    assert mine.get("/").status_code == 302 and mine.get("/").headers["Location"] == "/unit"
    assert other.get("/").headers["Location"].startswith("/login")
    assert sign_in(app.test_client(), "vps.head", new).status_code == 302


def test_a_weak_or_mistyped_new_password_is_explained(client):
    sign_in(client, "vps.head")
    for new, confirm in (("ngan", "ngan"), ("mot-mat-khau-moi-dai", "khac-han-mat-khau")):
        response = post_form(
            client, "/account/password", {"current": PASSWORD, "new": new, "confirm": confirm}
        )
        assert response.status_code == 400


def test_headers_and_cookies_are_safe(client):
    page = client.get("/login")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    response = sign_in(client, "vps.head")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_stored_hashed(engine, app):
    with engine.context() as ctx:
        hashes = ctx.session.scalars(sa.select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2") for h in hashes)
    assert PASSWORD not in "".join(hashes)


def test_the_next_page_after_sign_in_never_leaves_the_site(client):
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "vps.head", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"
