"""Paging on the web side: the ``page`` query argument and links that keep the others.

Every paged list reads ``page`` with :func:`page_arg` and renders ``_pager.html``'s ``pager``
macro; the engine (:mod:`workflow.pagination`) clamps the number to the pages there are.
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for

from workflow.pagination import PER_PAGE, page_number


def page_arg() -> int:
    return page_number(request.args.get("page"))


def per_page() -> int:
    """Rows per page of every list: ``NHIEMVU_PER_PAGE`` in instance/web.py, else 50."""
    return int(current_app.config.get("NHIEMVU_PER_PAGE", PER_PAGE))


def page_url(number: int) -> str:
    """This page's address at page ``number``, every other query argument kept."""
    args = {**(request.view_args or {}), **request.args.to_dict()}
    args.pop("page", None)
    if number > 1:
        args["page"] = number
    return url_for(request.endpoint, **args)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["page_url"] = page_url
