"""Task search: words of the name with or without diacritics, filters, a page at a time.

Thin view: the search and who sees what are :mod:`workflow.search`.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from web.auth import me
from web.paging import page_arg, per_page
from web.tasks import STATE_BADGES, STATE_LABELS
from web.work import ctx
from workflow.lifecycle import STATES
from workflow.permissions import Action, can
from workflow.search import SearchFilters, search_tasks

bp = Blueprint("search", __name__)


def _filters() -> tuple[SearchFilters, list[str]]:
    """The search of the query string, and what was wrong with it (in the reader's language)."""
    problems: list[str] = []
    ids: dict[str, int | None] = {}
    for name in ("plan", "unit"):
        value = request.args.get(name, "").strip()
        ids[name] = None
        if value:
            try:
                ids[name] = int(value)
            except ValueError:
                problems.append(_("“%(value)s” is not a valid choice.", value=value))
    state = request.args.get("state", "").strip() or None
    if state is not None and state not in STATES:
        problems.append(_("“%(value)s” is not a valid choice.", value=state))
        state = None
    words = request.args.get("q", "").strip()
    return SearchFilters(words, ids["plan"], ids["unit"], state), problems


@bp.route("/tasks")
@login_required
def home():
    filters, problems = _filters()
    result = search_tasks(ctx().session, me(), filters, page_arg(), per_page())
    return render_template(
        "search/home.html",
        filters=filters,
        problems=problems,
        result=None if problems else result,
        plans=result.plans,
        units=result.units,
        states=STATE_LABELS,
        badges=STATE_BADGES,
        plan_links=can(me(), Action.VIEW),  # the plan pages are for those who see them all
    ), (400 if problems else 200)
