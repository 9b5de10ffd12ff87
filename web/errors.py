"""Error pages: a refusal from the engine becomes the matching HTTP status, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from web.work import undo
from workflow.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied


def init_app(app: Flask) -> None:
    def page(status: int, message: str = ""):
        undo()
        return render_template(f"errors/{status}.html", message=message), status

    app.register_error_handler(PermissionDenied, lambda e: page(403, str(e)))
    app.register_error_handler(NotFound, lambda e: page(404, str(e)))
    app.register_error_handler(Conflict, lambda e: page(409, str(e)))
    app.register_error_handler(IllegalTransition, lambda e: page(409, str(e)))
    app.register_error_handler(InvalidInput, lambda e: page(400, str(e)))
    app.register_error_handler(CSRFError, lambda e: page(400, e.description))
    app.register_error_handler(403, lambda e: page(403))
    app.register_error_handler(404, lambda e: page(404))
    app.register_error_handler(405, lambda e: page(405))
