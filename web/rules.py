"""The escalation rules, read-only, for everyone signed in: the default and each unit's
override with the units it applies to and its file; and the words the board uses for a step.

Thin view: which unit follows which rule is :func:`workflow.rules_view.rules_overview`.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from web.auth import me
from web.work import ctx
from workflow.board import organisation_unit_ids
from workflow.rules_view import rules_overview

bp = Blueprint("rules", __name__)

RECIPIENT_LABELS = {
    "lead_unit": _l("Lead unit"),
    "unit_head": _l("Unit head"),
    "office": _l("Office"),
    "leadership": _l("Leadership"),
}


@bp.route("/rules")
@login_required
def home():
    session = ctx().session
    scope = organisation_unit_ids(session, me())
    return render_template(
        "rules/home.html",
        rules=rules_overview(session, ctx().rules, scope),
        recipients=RECIPIENT_LABELS,
        scoped=scope is not None,
    )
