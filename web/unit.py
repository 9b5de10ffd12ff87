"""My unit: what the unit owes, grouped by urgency, and the tasks it only cooperates on."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from web.auth import me
from web.tasks import LABELS
from web.work import ctx
from workflow.directions import explanations_owed, recent_directions
from workflow.unit_view import Group, unit_overview

bp = Blueprint("unit", __name__, url_prefix="/unit")

GROUP_TITLES = {
    Group.OVERDUE: _l("Overdue"),
    Group.SOON: _l("Due within 7 days"),
    Group.WAITING: _l("Waiting for guidance"),
    Group.ONGOING: _l("Ongoing"),
    Group.DONE: _l("Done"),
}


@bp.context_processor
def _labels() -> dict:
    return {**LABELS, "group_titles": GROUP_TITLES}


@bp.route("")
@login_required
def home():
    user = me()
    session, unit_id = ctx().session, user.unit_id
    overview = unit_overview(session, unit_id, ctx().today())
    return render_template(
        "unit/home.html",
        overview=overview,
        unit=user.unit,
        explanations=explanations_owed(session, unit_id) if unit_id else [],
        directions=recent_directions(session, unit_id, ctx().now()) if unit_id else [],
    )
