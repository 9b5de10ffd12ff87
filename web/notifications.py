"""The notification centre: what the signed-in person was told (reminders, escalation steps,
questions about guidance), newest first, to read and mark read; and the unread count in the
header of every page.

Thin views: a notice is its addressee's alone (:mod:`workflow.notifications`), so marking
another's is a 404 from the engine.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import HiddenInput

from web.auth import me
from web.paging import page_arg, per_page
from web.work import ctx
from workflow import notifications as svc

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class MarkForm(FlaskForm):
    """Mark read; ``page`` is the page of the list to come back to."""

    page = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1)])


@bp.route("")
@login_required
def home():
    session = ctx().session
    found = svc.inbox(session, me(), page_arg(), per_page())
    return render_template(
        "notifications/home.html",
        notices=found,
        form=MarkForm(formdata=None, page=found.page),
    )


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    form = _submitted()
    svc.mark_read(ctx(), me(), notification_id)
    return _back(form)


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    form = _submitted()
    svc.mark_all_read(ctx(), me())
    return _back(form)


def _submitted() -> MarkForm:
    form = MarkForm()
    if not form.validate_on_submit():
        abort(400)
    return form


def _back(form: MarkForm):
    page = form.page.data if form.page.data and form.page.data > 1 else None
    return redirect(url_for("notifications.home", page=page))


@bp.app_context_processor
def _unread() -> dict:
    """The header's unread count: one query for a signed-in person, none for anybody else."""
    if not current_user.is_authenticated:
        return {}
    return {"unread": svc.unread_count(ctx().session, me())}
