"""The overdue board: the four classes per lead unit and per plan as of a date, drill-down to a
unit's overdue items (paged, filtered by words of the task name, each with the latest escalation
step it reached), a plan's indicators with their latest values, an on-time chart, a chart of task states per plan and a CSV export of what is
shown.

Thin views: counting is :mod:`workflow.board`, the overdue list
:func:`workflow.queries.overdue_page`, the indicators :func:`workflow.indicators.indicator_standings`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from web.auth import me
from web.forms import not_a_day, parse_day
from web.paging import page_arg, per_page
from web.rules import RECIPIENT_LABELS
from web.tasks import STATE_LABELS
from web.work import ctx
from workflow import board, stamp_cache
from workflow.classify import DueClass
from workflow.consolidated import report_periods
from workflow.directions import explanations_for_board
from workflow.indicators import indicator_standings, status_counts
from workflow.queries import overdue_page

bp = Blueprint("board", __name__, url_prefix="/board")


@dataclass(frozen=True)
class Filters:
    as_of: date
    plan_id: int | None
    unit_id: int | None
    kind: str

    def args(self, **changes: object) -> dict[str, object]:
        """Query arguments that keep these filters (for links and the export)."""
        values = {
            "as_of": self.as_of.isoformat(),
            "plan": self.plan_id,
            "unit": self.unit_id,
            "kind": self.kind,
            **changes,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _as_of(problems: list[str]) -> date:
    """The day of ``as_of`` in the query string (today without one); a wrong one is added to
    ``problems``."""
    raw = request.args.get("as_of", "").strip()
    day = parse_day(raw) if raw else ctx().today()
    if day is None:
        problems.append(not_a_day(raw))
        return ctx().today()
    return day


def _filters() -> tuple[Filters, list[str]]:
    """The filters of the query string, and what was wrong with them (in the reader's language)."""
    problems: list[str] = []
    as_of = _as_of(problems)
    ids: dict[str, int | None] = {}
    for name in ("plan", "unit"):
        value = request.args.get(name, "").strip()
        ids[name] = None
        if value:
            try:
                ids[name] = int(value)
            except ValueError:
                problems.append(_("“%(value)s” is not a valid choice.", value=value))
    kind = request.args.get("kind", "tasks")
    if kind not in board.KIND_FILTERS:
        problems.append(_("“%(value)s” is not a valid choice.", value=kind))
        kind = "tasks"
    return Filters(as_of, ids["plan"], ids["unit"], kind), problems


def _counts(
    filters: Filters, scope: list[int] | None
) -> tuple[list[board.Counts], list[board.Counts]]:
    session = ctx().session
    options = {
        "plan_id": filters.plan_id,
        "unit_id": filters.unit_id,
        "kinds": board.KIND_FILTERS[filters.kind],
    }
    return (
        board.per_unit(session, filters.as_of, scope, **options),
        board.per_plan(session, filters.as_of, scope, **options),
    )


def _class_labels() -> dict[DueClass, str]:
    return {
        DueClass.COMPLETED_ON_TIME: _("Completed on time"),
        DueClass.COMPLETED_LATE: _("Completed late"),
        DueClass.NOT_YET_DUE: _("Not yet due"),
        DueClass.OVERDUE: _("Overdue"),
    }


def _resolved(labels: dict) -> dict[str, Markup]:
    """Lazy labels translated once for this request (the states chart reads each many times);
    as markup, the way a lazy label renders."""
    return {key: Markup(str(label)) for key, label in labels.items()}


def _counts_html(filters: Filters, scope: list[int] | None) -> Markup:
    """The tables and charts of the counts (board/_counts.html). Rendering them costs more than
    reading the cached counts, so the HTML is kept too, under the same board stamp
    (:mod:`workflow.stamp_cache`) and everything else it depends on: the filters, the
    organisation, the language and where the app is mounted."""
    session = ctx().session

    def render() -> Markup:
        units, plans = _counts(filters, scope)
        states = board.states_per_plan(
            session, scope, plan_id=filters.plan_id, unit_id=filters.unit_id
        )
        html = render_template(
            "board/_counts.html",
            filters=filters,
            units=units,
            plans=plans,
            states=states,
            state_labels=_resolved(STATE_LABELS),
            labels=_class_labels(),
            classes=list(DueClass),
        )
        return Markup(html)

    key = (
        "board/_counts.html",
        str(get_locale()),
        request.script_root,
        filters,
        None if scope is None else tuple(scope),
    )
    return stamp_cache.cached(session, key, render)


@bp.route("")
@login_required
def home():
    board.require_board(me())
    filters, problems = _filters()
    session = ctx().session
    scope = board.organisation_unit_ids(session, me())
    plans = board.plans_in_scope(session, scope)
    chosen = next((p for p in plans if p.id == filters.plan_id and not problems), None)
    return render_template(
        "board/home.html",
        filters=filters,
        problems=problems,
        counts=None if problems else _counts_html(filters, scope),
        plan_choices=plans,
        report_plan=chosen,
        report_periods=report_periods(ctx(), me(), chosen.code) if chosen else [],
        explanations=explanations_for_board(session, scope, ctx().now()),
        today=ctx().today(),
    ), (400 if problems else 200)


@bp.route("/unit/<int:unit_id>")
@login_required
def unit(unit_id: int):
    board.require_board(me())
    filters, problems = _filters()
    session = ctx().session
    shown = board.unit_for(session, me(), unit_id)
    words = request.args.get("q", "").strip()
    rows = (
        None
        if problems
        else overdue_page(
            session,
            filters.as_of,
            unit_id=unit_id,
            plan_id=filters.plan_id,
            kinds=board.KIND_FILTERS[filters.kind],
            name=words,
            page=page_arg(),
            per_page=per_page(),
        )
    )
    steps = board.escalations_shown(session, [row.item_id for row in rows.items] if rows else [])
    return render_template(
        "board/unit.html",
        unit=shown,
        rows=rows,
        steps=steps,
        recipients=RECIPIENT_LABELS,
        words=words,
        filters=filters,
        problems=problems,
    ), (400 if problems else 200)


@bp.route("/plans/<int:plan_id>/indicators")
@login_required
def indicators(plan_id: int):
    """A plan's indicators as they stood at the end of the as-of day, counted per status."""
    board.require_board(me())
    problems: list[str] = []
    as_of = _as_of(problems)
    session = ctx().session
    plan = board.plan_for(session, me(), plan_id)
    standings = [] if problems else indicator_standings(session, plan.id, as_of)
    return render_template(
        "board/indicators.html",
        plan=plan,
        standings=standings,
        counts=status_counts(standings),
        as_of=as_of,
        problems=problems,
    ), (400 if problems else 200)


def export():
    """/board.csv: the tables of the board as shown, UTF-8 with a BOM for Excel."""
    board.require_board(me())
    filters, problems = _filters()
    if problems:
        return Response("\n".join(problems), status=400, mimetype="text/plain")
    units, plans = _counts(filters, board.organisation_unit_ids(ctx().session, me()))
    labels = _class_labels()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("As of"), filters.as_of.isoformat()])
    header = [labels[c] for c in DueClass]
    writer.writerow(
        [_("Level"), _("Code"), _("Name"), *header, _("Oldest overdue"), _("Days late")]
    )
    for level, rows in ((_("Lead unit"), units), (_("Plan"), plans)):
        for row in rows:
            writer.writerow(
                [
                    level,
                    row.code,
                    row.name,
                    *(row.classes[c] for c in DueClass),
                    row.oldest_overdue.isoformat() if row.oldest_overdue else "",
                    row.days_late,
                ]
            )
    name = f"bang-qua-han-{filters.as_of.isoformat()}.csv"
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


# /board.csv sits beside /board, outside the blueprint's prefix: registered on the app.
bp.record_once(
    lambda state: state.app.add_url_rule(
        "/board.csv", endpoint="board_csv", view_func=login_required(export)
    )
)
