"""Error pages: a refusal from the engine becomes the matching HTTP status, never a traceback.

The engine words its refusals as messages (:mod:`workflow.messages`); :func:`describe` puts
them in the reader's language, here and wherever a view shows one.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from web.work import undo
from workflow.errors import (
    Conflict,
    IllegalTransition,
    InvalidInput,
    NhiemvuError,
    NotFound,
    PermissionDenied,
)
from workflow.messages import Message, Text


def _translate(template: str) -> str:
    return gettext(template)  # no values: flask_babel returns the catalog's text unformatted


def describe(value: NhiemvuError | Message | str | None) -> str:
    """An engine error or message in the reader's language; dates as 30/06/2026.

    A translation that does not fit its values (a catalog mistake) falls back to the English.
    """
    if value is None:
        return ""
    if isinstance(value, Text):
        value = value.message
    if isinstance(value, str):
        return value
    try:
        return value.render(_translate)
    except (KeyError, ValueError, TypeError):
        return value.render()


def init_app(app: Flask) -> None:
    def page(status: int, message: str = ""):
        undo()
        return render_template(f"errors/{status}.html", message=message), status

    app.jinja_env.filters["tr"] = describe
    app.jinja_env.globals["tr"] = describe
    app.register_error_handler(PermissionDenied, lambda e: page(403, describe(e)))
    app.register_error_handler(NotFound, lambda e: page(404, describe(e)))
    app.register_error_handler(Conflict, lambda e: page(409, describe(e)))
    app.register_error_handler(IllegalTransition, lambda e: page(409, describe(e)))
    app.register_error_handler(InvalidInput, lambda e: page(400, describe(e)))
    app.register_error_handler(CSRFError, lambda e: page(400, e.description))
    app.register_error_handler(403, lambda e: page(403))
    app.register_error_handler(404, lambda e: page(404))
    app.register_error_handler(405, lambda e: page(405))
    app.register_error_handler(413, lambda e: page(413, _too_large(app)))


def _too_large(app: Flask) -> str:
    limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return gettext("The file is larger than %(limit)d MB: nothing was stored.", limit=limit)
