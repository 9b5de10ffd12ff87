"""The home page sends each person to the screen of their daily job."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from web.auth import me
from workflow.permissions import UNIT_ROLES, Action, can

bp = Blueprint("pages", __name__)
HOME_BY_ROLE = {"office": "office.home", "leadership": "board.home", "admin": "board.home"}


@bp.route("/")
@login_required
def home():
    role = me().role
    return redirect(url_for("unit.home" if role in UNIT_ROLES else HOME_BY_ROLE[role]))


def init_app(app: Flask) -> None:
    from web import (
        admin,
        board,
        calendars,
        directions,
        imports,
        indicators,
        notifications,
        office,
        plans,
        rules,
        search,
        tasks,
        unit,
    )

    blueprints = (
        unit,
        tasks,
        directions,
        office,
        board,
        plans,
        indicators,
        imports,
        search,
        calendars,
        notifications,
        rules,
        admin,
    )
    app.register_blueprint(bp)
    for module in blueprints:
        app.register_blueprint(module.bp)
    app.context_processor(_navigation)


def _navigation() -> dict:
    """The screens the signed-in person may open, from the engine's permission contract."""
    if not current_user.is_authenticated:
        return {"screens": []}
    user = me()
    screens = [
        (
            "unit.home",
            _l("My unit"),
            user.unit_id is not None and user.role in UNIT_ROLES | {"office"},
        ),
        ("office.home", _l("Office"), can(user, Action.ACCEPT)),
        ("board.home", _l("Overdue board"), can(user, Action.VIEW)),
        ("plans.home", _l("Plans"), can(user, Action.VIEW)),
        ("calendars.home", _l("Calendars"), True),
        ("rules.home", _l("Rules"), True),
        ("admin.units", _l("Units and users"), can(user, Action.MANAGE_USERS)),
    ]
    return {"screens": [(endpoint, label) for endpoint, label, allowed in screens if allowed]}
