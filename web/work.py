"""One unit of work per request, committed in one place.

Opened before the view; committed in ``after_request`` — before the response leaves, so a lost
race becomes a 409 page rather than a success the database then refuses — and closed at
teardown. Safe methods (GET, HEAD) never write.
"""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.orm.exc import StaleDataError

from workflow.context import Context, Engine

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def engine() -> Engine:
    return current_app.extensions["nhiemvu"]


def ctx() -> Context:
    """This request's unit of work."""
    if "nhiemvu" not in g:
        session = engine().database.session(write=request.method not in SAFE_METHODS)
        g.nhiemvu = engine().context_for(session)
    return g.nhiemvu


def undo() -> None:
    """Roll back this request's changes (a service refused); the session stays usable."""
    if "nhiemvu" in g:
        g.nhiemvu.session.rollback()


def _commit(response):
    context = g.get("nhiemvu")
    if context is None:
        return response
    if request.method in SAFE_METHODS or response.status_code >= 400:
        context.session.rollback()
        return response
    try:
        context.session.commit()
    except StaleDataError:
        context.session.rollback()
        return current_app.make_response((render_template("errors/409.html"), 409))
    return response


def _close(_exc: BaseException | None) -> None:
    context = g.pop("nhiemvu", None)
    if context is not None:
        context.session.rollback()
        context.session.close()


def init_app(app: Flask) -> None:
    app.after_request(_commit)
    app.teardown_request(_close)
