"""Plans: the organisation's list (paged), and a plan laid out like its appendix (its rows
filtered by words of the task name with ``q``)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from web.auth import me
from web.paging import page_arg, per_page
from web.tasks import STATE_BADGES, STATE_LABELS, TIMING_LABELS
from web.work import ctx
from workflow.plan_view import plan_appendix, plans_for

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.route("")
@login_required
def home():
    return render_template(
        "plans/list.html", plans=plans_for(ctx().session, me(), page_arg(), per_page())
    )


@bp.route("/<code>")
@login_required
def show(code: str):
    words = request.args.get("q", "").strip()
    return render_template(
        "plans/show.html",
        page=plan_appendix(ctx().session, me(), code, ctx().today(), words),
        words=words,
        states=STATE_LABELS,
        badges=STATE_BADGES,
        timing_kinds=TIMING_LABELS,
    )
