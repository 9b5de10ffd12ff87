"""My unit: how many tasks the unit has in each group of urgency, the first of the overdue and
of those due soon, each group as a paged list of its own (/unit/<group>), and the indicators
the unit reports with their latest values."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from web.auth import me
from web.paging import page_arg, per_page
from web.tasks import LABELS
from web.work import ctx
from workflow.directions import explanations_owed, recent_directions
from workflow.indicators import indicator_standings
from workflow.unit_view import GROUP_ORDER, URGENT_GROUPS, Group, group_page, unit_overview

bp = Blueprint("unit", __name__, url_prefix="/unit")

GROUP_TITLES = {
    Group.OVERDUE: _l("Overdue"),
    Group.SOON: _l("Due within 7 days"),
    Group.WAITING: _l("Waiting for guidance"),
    Group.ONGOING: _l("Ongoing"),
    Group.DONE: _l("Done"),
    Group.COOPERATING: _l("Tasks where the unit cooperates"),
}
GROUP_BADGES = {
    Group.OVERDUE: "late",
    Group.SOON: "soon",
    Group.WAITING: "wait",
    Group.ONGOING: "ok",
    Group.DONE: "muted",
    Group.COOPERATING: "muted",
}


@bp.context_processor
def _labels() -> dict:
    return {
        **LABELS,
        "group_titles": GROUP_TITLES,
        "group_badges": GROUP_BADGES,
        "groups": GROUP_ORDER,
        "urgent_groups": URGENT_GROUPS,
    }


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
        indicators=indicator_standings(session, None, ctx().today(), [unit_id]) if unit_id else [],
    )


@bp.route("/<name>")
@login_required
def group(name: str):
    try:
        shown = Group(name)
    except ValueError:
        abort(404)
    user = me()
    today = ctx().today()
    rows = group_page(ctx().session, user.unit_id, shown, today, page_arg(), per_page())
    return render_template("unit/group.html", group=shown, rows=rows, unit=user.unit, today=today)
