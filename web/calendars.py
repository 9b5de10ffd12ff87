"""Calendars: the page where a signed-in person subscribes to deadline feeds, the feeds at
``/calendar/<token>.ics`` that calendar clients poll, and one task's deadlines as a file.

The feed URL carries its own credential (the token, in the path: query strings end up in
logs and referrers), so it needs no session and sets no cookie. Clients poll it every hour or
so: a conditional request costs one query and answers 304 when nothing changed. Feeds are
served uncompressed: Outlook's subscription breaks on a compressed body.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask import render_template as render
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.http import is_resource_modified
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from web.auth import me
from web.work import ctx
from workflow import calendars as cal
from workflow import tasks as svc

bp = Blueprint("calendars", __name__)

ICS_TYPE = "text/calendar; charset=utf-8"
CACHE_CONTROL = "private, no-cache"  # keep a copy, but ask each time: the answer is a cheap 304
SCOPE_LABELS = {
    "person": _l("My deadlines"),
    "organisation": _l("Whole organisation"),
    "unit": _l("Unit"),
    "plan": _l("Plan"),
}


class SubscribeForm(FlaskForm):
    """Which feed: ``scope:id`` as the page offers it; the engine decides whether it may."""

    feed = StringField(
        _l("Calendar"),
        validators=[
            DataRequired(),
            Regexp(r"^(unit|person|organisation|plan):\d{1,12}$", message=_l("Not a calendar.")),
        ],
    )


def _base_url() -> str:
    """Where a feed's links point: PUBLIC_URL (instance/web.py, e.g. behind a proxy), else the
    address the request came to."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


def _feed_urls(token: str) -> dict[str, str]:
    """The address to paste (https) and the one that opens a calendar app (webcal)."""
    https = _base_url() + url_for("calendars.feed", token=token)
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


def _page(new: cal.NewToken | None = None, form: SubscribeForm | None = None, status: int = 200):
    session, user = ctx().session, me()
    listed = [(sub, cal.feed_of(session, sub)) for sub in cal.subscriptions(session, user)]
    page = render(
        "calendars/home.html",
        offers=cal.offered_feeds(session, user),
        subscriptions=listed,
        form=form or SubscribeForm(formdata=None),
        action_form=FlaskForm(formdata=None),
        new=new,
        new_feed=cal.feed_of(session, new.subscription) if new else None,
        urls=_feed_urls(new.token) if new else None,
        scopes=SCOPE_LABELS,
        window_days_back=ctx().settings.feed_days_back,
        window_months_ahead=ctx().settings.feed_months_ahead,
    )
    return page, status


@bp.route("/calendars")
@login_required
def home():
    return _page()


@bp.route("/calendars", methods=["POST"])
@login_required
def create():
    """Subscribe; the page answers with the new address, which is shown this once."""
    form = SubscribeForm()
    if not form.validate_on_submit():
        return _page(form=form, status=400)
    scope, _colon, scope_id = form.feed.data.partition(":")
    return _page(new=cal.subscribe(ctx().session, me(), scope, int(scope_id), ctx().now()))


@bp.route("/calendars/<int:subscription_id>/regenerate", methods=["POST"])
@login_required
def regenerate(subscription_id: int):
    """A new address for the same calendar; the old one stops working at once."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    return _page(new=cal.regenerate(ctx().session, me(), subscription_id, ctx().now()))


@bp.route("/calendars/<int:subscription_id>/revoke", methods=["POST"])
@login_required
def revoke(subscription_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    cal.revoke(ctx().session, me(), subscription_id, ctx().now())
    flash(_("The calendar address no longer works."), "ok")
    return redirect(url_for("calendars.home"))


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    """A subscribed feed, read as its owner may read it today (GET and HEAD)."""
    session = ctx().session
    window = cal.Window.configured(ctx().settings, ctx().today())
    found = cal.current_feed(session, token, window, _base_url())
    if found is None:
        abort(404)
    feed, version = found
    if not is_resource_modified(
        request.environ, etag=version.etag, last_modified=version.last_modified
    ):
        return _ics(b"", version.etag, version.last_modified, status=304)
    body = cal.build_feed(session, feed, window, _base_url(), ctx().rules)
    return _ics(body, version.etag, version.last_modified)


@bp.route("/tasks/<int:task_id>/calendar.ics")
@login_required
def task(task_id: int):
    """Every due item of one task as a file to open once (not a subscription)."""
    found = svc.get_task(ctx(), task_id, actor=me())
    response = _ics(cal.build_task(ctx().session, found, _base_url(), ctx().rules))
    response.headers["Content-Disposition"] = f'attachment; filename="nhiemvu-{task_id}.ics"'
    return response


def _ics(
    body: bytes, etag: str | None = None, modified: datetime | None = None, status: int = 200
) -> Response:
    response = Response(body, status=status, content_type=ICS_TYPE)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if etag is not None:
        response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    if status == 304:
        response.headers.pop("Content-Type", None)
        response.headers.pop("Content-Length", None)
    return response
