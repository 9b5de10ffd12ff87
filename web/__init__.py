"""The nhiemvu web app: an application factory, one blueprint per area, thin views.

Views parse the request, call the engine's services and render; every rule (who may do what,
what is due, what a state allows) lives in ``workflow``.
"""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from workflow.clock import LOCAL_TZ
from workflow.config import Settings, load_settings
from workflow.context import Engine
from workflow.indicators import format_number
from workflow.regime import describe_period

csrf = CSRFProtect()
babel = Babel()
LANGUAGES = ("vi", "en")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(test_config: dict[str, Any] | None = None, engine: Engine | None = None) -> Flask:
    settings = engine.settings if engine else load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # set True in instance/web.py behind HTTPS
        REMEMBER_COOKIE_DURATION=14 * 24 * 3600,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )
    app.config.from_pyfile("web.py", silent=True)
    if test_config:
        app.config.update(test_config)
    app.extensions["nhiemvu"] = engine or Engine(settings)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["day"] = _day
    app.jinja_env.filters["moment"] = _moment
    app.jinja_env.globals["describe_period"] = describe_period  # a message: show it with |tr
    app.jinja_env.filters["number"] = format_number
    from web import auth, errors, pages, paging, work

    app.after_request(_security_headers)  # registered first: runs last, on every response
    work.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    pages.init_app(app)
    paging.init_app(app)
    return app


def _secret_key(settings: Settings) -> str:
    """The signing key for cookies: instance/secret_key, created once with 0600 permissions.

    Web processes started together on a fresh instance must all read one key, whole: the key is
    written to a file of this process's own, then linked into place, which fails if another
    process was first (then its key is read)."""
    path = settings.instance_path / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        mine = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        mine.write_text(secrets.token_hex(32), encoding="ascii")
        mine.chmod(0o600)
        try:
            os.link(mine, path)
        except FileExistsError:
            pass  # another process made it first
        finally:
            mine.unlink()
    return path.read_text(encoding="ascii").strip()


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "vi"


def _day(value: date | None) -> str:
    """A date as Vietnamese documents write it: 30/06/2026."""
    return f"{value:%d/%m/%Y}" if value else ""


def _moment(value: datetime | None) -> str:
    """An instant in Vietnamese time: 30/06/2026 14:05."""
    return f"{value.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M}" if value else ""


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
