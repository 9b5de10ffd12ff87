"""The home page sends each person to the screen of their daily job."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask_login import login_required

from web.auth import me
from workflow.permissions import UNIT_ROLES

bp = Blueprint("pages", __name__)
HOME_BY_ROLE = {"office": "office.home", "leadership": "board.home", "admin": "board.home"}


@bp.route("/")
@login_required
def home():
    role = me().role
    return redirect(url_for("unit.home" if role in UNIT_ROLES else HOME_BY_ROLE[role]))


def init_app(app: Flask) -> None:
    from web import board, office, tasks, unit

    for blueprint in (bp, unit.bp, tasks.bp, office.bp, board.bp):
        app.register_blueprint(blueprint)
