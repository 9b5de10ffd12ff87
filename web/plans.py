"""Plans: the organisation's list, and a plan laid out like its appendix."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from web.auth import me
from web.tasks import STATE_BADGES, STATE_LABELS, TIMING_LABELS
from web.work import ctx
from workflow.plan_view import plan_appendix, plans_for

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.route("")
@login_required
def home():
    return render_template("plans/list.html", plans=plans_for(ctx().session, me()))


@bp.route("/<code>")
@login_required
def show(code: str):
    return render_template(
        "plans/show.html",
        page=plan_appendix(ctx().session, me(), code),
        states=STATE_LABELS,
        badges=STATE_BADGES,
        timing_kinds=TIMING_LABELS,
    )
