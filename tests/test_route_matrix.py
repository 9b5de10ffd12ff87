"""Every route × role × target through the real web app: who may do what (issue 4).

WHO_MAY is the permission contract of :mod:`workflow.permissions` as the web app must honour
it, one line per route; CALLS says how to call each route with data that passes validation, so
that the permission check, not the form, decides. For every endpoint of ``app.url_map`` but
``static``, each of its methods (GET and POST apart), each role and each target, the test makes
the request and checks:

- allowed: 200, or a redirect that is not to the sign-in page; for a POST that changes data, the
  change happened, on data no earlier request of the walk has touched (each target has a task in
  progress for every allowed POST of the role; the scenario is rebuilt when they run out);
- refused: 403 (anonymous: a redirect to the sign-in page), or the status its cell names, and
  NOTHING changed: tasks (status, version), reports, due items, extension requests, history,
  guidance documents; units (code, name, kind, parent), their aliases, and accounts (name,
  role, unit, active flag, password hash).

Targets are tasks of the demo organisation (``workflow/data/demo/units.toml``), each with a
submitted report, a pending extension request, a closed sibling (to reopen) and a sibling
waiting for guidance (to release):

- OWN: led by the unit head's and the delegate's unit (QLKHCN, Lai Châu);
- OTHER: led by another unit of Lai Châu (QLTDC);
- OFFICE: led by the Office's own unit (VPS): whether that Office may accept its own unit's
  report is an open question; the table records what the engine does today;
- ELSEWHERE: of the other organisation (a plan of Vĩnh Tuy ward, led by VHXH).

Each target's lead unit head has a notification (and a calendar subscription) of their own;
every role's account has an unread notification, so that marking all read changes something.

For a route whose URL (or form) names no object, the only target is None.

The administration routes (web/admin.py) act on the target's organisation through spare
objects (:class:`Spare`) nothing else in the scenario relies on: the scenario is rebuilt keeping
the organisation, and resolves the plans' lead units by name, so no request may rename, delete
or deactivate a lead unit or a role's account. Reads and refusals go to the target's standing
spare objects; each allowed POST gets a fresh set of its own, made just before it.

How to classify a new route
---------------------------
1. WHO_MAY: add a line ``("blueprint.endpoint", "METHOD"): (cell per role, in ROLES order)``.
   A cell is NO, YES, or the targets on which the role may (MINE, OFFICES, HOME, AWAY, ANY):
   refused on the others. Where a refusal is not a 403, the cell is a dict {target: outcome}
   (see FORM_HOME).
2. CALLS: add ``"blueprint.endpoint": Call(path, data, effect, targeted, uses)``: the path (for
   a targeted route, a function of the Target), the form data of a POST, for a POST that
   changes data a function reading what it must change, and which task of the target it uses
   (or "spare": the target's spare organisation objects).
A route of the app missing from either table fails both tests, by name; so does a line for a
route the app no longer has.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD, TASK_HEADER, PlanMaker, sign_in, task_by_ref, user
from tests.test_importer import build_workbook
from tests.test_web_office_board import snapshot as office_snapshot
from workflow import administration, calendars, permissions
from workflow import tasks as svc
from workflow.directions import request_explanation
from workflow.importer import Table, import_plan, plan_source_for_table
from workflow.models import (
    Base,
    CalendarSubscription,
    ExplanationRequest,
    ExtensionRequest,
    ImportUpload,
    Indicator,
    IndicatorValue,
    Notification,
    Report,
    Task,
    TaskEvent,
    Unit,
    UnitAlias,
    User,
)
from workflow.uploads import store_upload

# --- roles, targets, outcomes --------------------------------------------------------------------

ROLES = {  # role: the demo account that plays it (None: nobody signed in)
    "anonymous": None,
    "unit_head": "qlkhcn.head",
    "unit_delegate": "qlkhcn.delegate",
    "office": "vps.office",
    "leadership": "skhcn.director",
    "admin": "admin",
    "office_elsewhere": "vinhtuy.office",  # the Office of the other organisation
}
OWN, OTHER, OFFICE, ELSEWHERE = "own", "other", "office", "elsewhere"
TARGETS = (OWN, OTHER, OFFICE, ELSEWHERE)

OK = "allowed"
FORBIDDEN = "403"
SIGN_IN = "sent to sign in"
NOT_OFFERED = "400"  # the form does not offer a task or unit outside the reader's organisation

NO = frozenset()
YES = frozenset({*TARGETS, None})
ANY = frozenset(TARGETS)
MINE = frozenset({OWN})  # a task the user's unit leads
OFFICES = frozenset({OFFICE})  # a task the Office's own unit leads
HOME = frozenset({OWN, OTHER, OFFICE})  # the organisation of all roles but office_elsewhere
AWAY = frozenset({ELSEWHERE})  # the organisation of office_elsewhere
# a route whose form names the target among the choices of the reader's organisation: refused
# elsewhere by the form (400), before any permission check
FORM_HOME = {**dict.fromkeys(HOME, OK), ELSEWHERE: NOT_OFFERED}
FORM_AWAY = {**dict.fromkeys(HOME, NOT_OFFERED), ELSEWHERE: OK}
# a route on something only its owner may touch (a calendar subscription, a notification): to
# anybody else it does not exist. The target's ones belong to its lead unit's head (LEADS)
UNKNOWN = dict.fromkeys(TARGETS, "404")
OWNER = {**UNKNOWN, OWN: OK}
# a plan file uploaded for import is its uploader's alone: the Office that imports the target's
# plan (vps.office at home, vinhtuy.office away) uploaded the target's one
UPLOADER_HOME = {**UNKNOWN, **dict.fromkeys(HOME, OK)}
UPLOADER_AWAY = {**UNKNOWN, ELSEWHERE: OK}

Cell = frozenset | dict

# --- who may: the contract, one line per route ---------------------------------------------------

# fmt: off
WHO_MAY: dict[tuple[str, str], tuple[Cell, ...]] = {
    #  endpoint, method                 anonymous unit_head unit_delegate office leadership admin office_elsewhere
    # signing in and out, one's own account and language
    ("auth.login", "GET"):              (YES,     YES,      YES,      YES,     YES,     YES,  YES),
    ("auth.login", "POST"):             (YES,     YES,      YES,      YES,     YES,     YES,  YES),
    ("auth.logout", "POST"):            (YES,     YES,      YES,      YES,     YES,     YES,  YES),
    ("auth.language", "POST"):          (YES,     YES,      YES,      YES,     YES,     YES,  YES),
    ("auth.password", "GET"):           (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    ("auth.password", "POST"):          (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    ("pages.home", "GET"):              (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    ("unit.home", "GET"):               (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    ("unit.group", "GET"):              (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    # VIEW: a unit sees the tasks it is involved in; the Office and leadership their organisation
    ("tasks.show", "GET"):              (NO,      MINE,     MINE,     HOME,    HOME,    ANY,  AWAY),
    ("board.home", "GET"):              (NO,      NO,       NO,       YES,     YES,     YES,  YES),
    ("board_csv", "GET"):               (NO,      NO,       NO,       YES,     YES,     YES,  YES),
    ("board.unit", "GET"):              (NO,      NO,       NO,       HOME,    HOME,    ANY,  AWAY),
    ("plans.home", "GET"):              (NO,      NO,       NO,       YES,     YES,     YES,  YES),
    ("plans.show", "GET"):              (NO,      NO,       NO,       HOME,    HOME,    ANY,  AWAY),
    # indicators: seen by the units named on them and whoever sees the organisation; their
    # values reported by the lead units and the Office of the plan's organisation (it collects
    # the figures); the board's view of a plan's indicators is the board's
    ("indicators.show", "GET"):         (NO,      MINE,     MINE,     HOME,    HOME,    ANY,  AWAY),
    ("indicators.record", "POST"):      (NO,      MINE,     MINE,     HOME,    NO,      ANY,  AWAY),
    ("board.indicators", "GET"):        (NO,      NO,       NO,       HOME,    HOME,    ANY,  AWAY),
    # the consolidated report on a plan: those who read the board, in their organisation
    ("plans.report", "GET"):            (NO,      NO,       NO,       HOME,    HOME,    ANY,  AWAY),
    # IMPORT: the Office uploads a plan file, into a plan of its organisation, and previews,
    # commits or cancels only its own upload
    ("imports.upload", "POST"):         (NO,      NO,       NO,       YES,     NO,      YES,  YES),
    ("imports.update", "POST"):         (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("imports.preview", "GET"):         (NO,      NO,       NO,  UPLOADER_HOME, NO,   UNKNOWN, UPLOADER_AWAY),
    ("imports.commit", "POST"):         (NO,      NO,       NO,  UPLOADER_HOME, NO,   UNKNOWN, UPLOADER_AWAY),
    ("imports.cancel", "POST"):         (NO,      NO,       NO,  UPLOADER_HOME, NO,   UNKNOWN, UPLOADER_AWAY),
    # REPORT, REQUEST_EXTENSION: a lead unit, the Office for what its own unit leads
    ("tasks.report", "POST"):           (NO,      MINE,     MINE,     OFFICES, NO,      ANY,  NO),
    ("tasks.extension", "POST"):        (NO,      MINE,     MINE,     OFFICES, NO,      ANY,  NO),
    # ACCEPT, RETURN, REOPEN, CANCEL, DECIDE_EXTENSION, RELEASE: the Office, in its organisation
    ("tasks.accept", "POST"):           (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("tasks.return_", "POST"):          (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("tasks.reopen", "POST"):           (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("tasks.cancel", "POST"):           (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("plans.start", "POST"):            (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("office.home", "GET"):             (NO,      NO,       NO,       YES,     NO,      YES,  YES),
    ("office.accept", "POST"):          (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("office.return_", "POST"):         (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("office.grant", "POST"):           (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("office.refuse", "POST"):          (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("office.trigger", "POST"):         (NO,      NO,       NO,  FORM_HOME, NO,         ANY,  FORM_AWAY),
    # search: everyone signed in; the results are scoped (tests/test_search.py)
    ("search.home", "GET"):             (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    # DIRECT, REQUEST_EXPLANATION: leadership in its organisation; EXPLAIN: the lead unit;
    # COMMENT: whoever sees the task
    ("directions.direct", "POST"):      (NO,      NO,       NO,       NO,      HOME,    ANY,  NO),
    ("directions.ask", "POST"):         (NO,      NO,       NO,       NO,      HOME,    ANY,  NO),
    ("directions.answer", "POST"):      (NO,      MINE,     MINE,     OFFICES, NO,      ANY,  NO),
    ("directions.comment", "POST"):     (NO,      MINE,     MINE,     HOME,    HOME,    ANY,  AWAY),
    # calendars: everyone signed in subscribes to what they may read (a unit's feed here: VIEW
    # of its tasks); a subscription is its owner's alone (the target's lead unit head owns
    # one: another's is not found); the feed answers whoever holds its token
    ("calendars.home", "GET"):          (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    ("calendars.create", "POST"):       (NO,      MINE,     MINE,     HOME,    HOME,    ANY,  AWAY),
    ("calendars.regenerate", "POST"):   (NO,      OWNER,    UNKNOWN,  UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN),
    ("calendars.revoke", "POST"):       (NO,      OWNER,    UNKNOWN,  UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN),
    ("calendars.feed", "GET"):          (YES,     YES,      YES,      YES,     YES,     YES,  YES),
    ("calendars.task", "GET"):          (NO,      MINE,     MINE,     HOME,    HOME,    ANY,  AWAY),
    # notifications: everyone signed in reads and marks their own; another's is not found
    ("notifications.home", "GET"):      (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    ("notifications.read", "POST"):     (NO,      OWNER,    UNKNOWN,  UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN),
    ("notifications.read_all", "POST"): (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    # the escalation rules: read-only, for everyone signed in
    ("rules.home", "GET"):              (NO,      YES,      YES,      YES,     YES,     YES,  YES),
    # e-mail not sent: the Office (its organisation's recipients) and administrators
    ("office.mail", "GET"):             (NO,      NO,       NO,       YES,     NO,      YES,  YES),
    # MANAGE_UNITS, MANAGE_USERS: the Office in its organisation, an administrator everywhere.
    # Creating: the form offers the parent unit (the account's unit) among those of the
    # reader's organisation only (FORM_HOME). Only an administrator makes a top-level unit or
    # manages an administrator's account, and nobody deactivates themselves: the targets are
    # no such objects (tests/test_administration.py checks these rules)
    ("admin.units", "GET"):             (NO,      NO,       NO,       YES,     NO,      YES,  YES),
    ("admin.create_unit", "POST"):      (NO,      NO,       NO,  FORM_HOME, NO,         ANY,  FORM_AWAY),
    ("admin.unit", "GET"):              (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.rename_unit", "POST"):      (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.add_alias", "POST"):        (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.remove_alias", "POST"):     (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.delete_unit", "POST"):      (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.users", "GET"):             (NO,      NO,       NO,       YES,     NO,      YES,  YES),
    ("admin.create_user", "POST"):      (NO,      NO,       NO,  FORM_HOME, NO,         ANY,  FORM_AWAY),
    ("admin.user", "GET"):              (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.deactivate", "POST"):       (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.reactivate", "POST"):       (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
    ("admin.reset_password", "POST"):   (NO,      NO,       NO,       HOME,    NO,      ANY,  AWAY),
}
# fmt: on

# --- the scenario --------------------------------------------------------------------------------

LEADS = {  # target: (lead unit as the plan writes it, its unit head)
    OWN: ("Phòng Quản lý KH&CN", "qlkhcn.head"),
    OTHER: ("Phòng Quản lý TĐC", "qltdc.head"),
    OFFICE: ("Văn phòng Sở", "vps.head"),
    ELSEWHERE: ("Phòng Văn hóa - Xã hội", "vhxh.head"),
}
PLANS = {  # plan code: (number, issuer, the Office that imports it, its targets)
    "laichau": ("1/KH-SKHCN", "SKHCN", "vps.office", (OWN, OTHER, OFFICE)),
    "vinhtuy": ("2/KH-UBND", "VINHTUY", "vinhtuy.office", (ELSEWHERE,)),
}
STARTED, TODAY = date(2026, 9, 1), date(2026, 11, 22)
NEW_PASSWORD = "mat-khau-moi-thu-nghiem"
ORGANISATION_TABLES = {"units", "unit_groups", "unit_aliases", "unit_group_members", "users"}


@dataclass(frozen=True)
class Spare:
    """Objects of a target's organisation for the administration routes to change."""

    home: int  # a unit under the organisation's top-level unit
    unit: int  # under ``home``; nothing refers to it but its one alias: it may be deleted
    alias: int
    account: int  # an active account of ``home``
    dormant: int  # a deactivated account of ``home``


def spare(ctx, target: str, n: int) -> Spare:
    """The target's n-th set of spare objects, made by an administrator unless they exist (the
    scenario is rebuilt keeping the organisation); they share one ``home``."""
    admin = user(ctx, "admin")

    def unit(code: str, name: str, parent: int) -> Unit:
        return ctx.session.scalar(sa.select(Unit).where(Unit.code == code)) or (
            administration.create_unit(ctx, admin, code=code, name=name, parent_id=parent)
        )

    def account(username: str, active: bool) -> User:
        found = ctx.session.scalar(sa.select(User).where(User.username == username))
        if found is None:
            found = administration.create_user(
                ctx, admin, username=username, full_name=username, role="unit_head", unit_id=home.id
            )
            found.active = active
        return found

    top = permissions.organisation(user(ctx, LEADS[target][1]).unit)
    home = unit(f"DP_{target.upper()}", f"Tổ dự phòng {target}", top.id)
    spare = unit(f"DP_{target.upper()}_{n}", f"Tổ dự phòng {target} {n}", home.id)
    alias = ctx.session.scalar(sa.select(UnitAlias).where(UnitAlias.unit_id == spare.id))
    alias = alias or administration.add_alias(ctx, admin, spare.id, f"Tổ {target} {n}")
    active, dormant = account(f"dp.{target}.{n}", True), account(f"dp.{target}.{n}.off", False)
    ctx.session.flush()
    return Spare(home.id, spare.id, alias.id, active.id, dormant.id)


@dataclass(frozen=True)
class Target:
    task: int  # in progress: a submitted report, a pending extension request of its deadline,
    report: int  # and an open request to explain
    request: int
    explanation: int
    closed: int  # a sibling closed by an accepted complete report
    waiting: int  # a sibling waiting for its guidance document
    unit: int  # the lead unit
    plan: str  # the plan's code
    plan_id: int
    indicator: int  # of the plan, led by the target's lead unit
    spare: Spare  # the organisation's objects for the administration routes
    subscription: int  # the lead unit head's subscription to the lead unit's calendar
    token: str  # and its token
    notification: int  # an unread notification to the lead unit head
    upload: str  # the token of a file adding a task to the plan, uploaded by its Office
    draft: int  # a task of the plan not started yet (one per plan, shared by its targets)


def _row(rows: list[list[str]], name: str, lead: str, timing: str) -> str:
    """Append a task to a plan's table; its number."""
    rows.append([str(len(rows) + 1), name, lead, "", timing])
    return rows[-1][0]


def build(engine, clock, copies: dict[str, int]) -> dict[str, list[Target]]:
    """Two plans started on 1 Sep 2026 with monthly reports, and today 22 Nov 2026.

    Each target has ``copies[target]`` tasks in progress (one for each allowed POST, so that each
    finds its own untouched), sharing one closed task and one waiting for guidance."""
    clock.set(STARTED)
    refs: dict[str, tuple[list[str], str, str]] = {}
    for code, (number, issuer, office, targets) in PLANS.items():
        rows: list[list[str]] = []
        indicators = [
            [str(n + 1), f"04{n}", f"Chỉ tiêu {target}", "%", "≥ 40", LEADS[target][0]]
            for n, target in enumerate(targets)
        ]
        for target in targets:
            lead = LEADS[target][0]
            refs[target] = (
                [_row(rows, f"Việc {target} {n}", lead, "3/2027") for n in range(copies[target])],
                _row(rows, f"Việc {target} đã xong", lead, "3/2027"),
                _row(rows, f"Việc {target} chờ", lead, "Sau khi có hướng dẫn"),
            )
        PlanMaker(engine)(
            rows,
            code=code,
            number=number,
            issuer=issuer,
            regime="monthly:14",
            actor=office,
            indicators=indicators,
        )
    clock.set(TODAY)
    found: dict[str, list[Target]] = {}
    with engine.context() as ctx:
        drafts = {
            code: _draft(ctx, code, office, targets)
            for code, (_, _, office, targets) in PLANS.items()
        }
        for username in filter(None, ROLES.values()):
            _notify(ctx, user(ctx, username), "inbox")
        for code, (_, _, office, targets) in PLANS.items():
            for target in targets:
                head, standing = user(ctx, LEADS[target][1]), spare(ctx, target, 0)
                uploaded = store_upload(
                    ctx, user(ctx, office), "bo-sung.csv", _addition(target), plan_code=code
                )
                subscribed = calendars.subscribe(ctx.session, head, "unit", head.unit_id, ctx.now())
                notice = _notify(ctx, head, target)
                tasks, closed, waiting = refs[target]
                closed, waiting = task_by_ref(ctx, code, closed), task_by_ref(ctx, code, waiting)
                done = svc.submit_report(ctx, head, closed, text="Đã xong", progress=100)
                svc.accept_report(ctx, user(ctx, "admin"), done.id)
                found[target] = []
                for ref in tasks:
                    task = task_by_ref(ctx, code, ref)
                    request = svc.request_extension(
                        ctx,
                        head,
                        task,
                        reason="Chờ số liệu",
                        period_key="deadline",
                        proposed_date=date(2027, 6, 30),
                    )
                    report = svc.submit_report(
                        ctx, head, task, text="Đã làm", progress=40, period_key="2026-09"
                    )
                    asked = request_explanation(ctx, user(ctx, "admin"), task, "Vì sao chậm?")
                    ctx.session.flush()
                    found[target].append(
                        Target(
                            task=task.id,
                            report=report.id,
                            request=request.id,
                            explanation=asked.id,
                            closed=closed.id,
                            waiting=waiting.id,
                            unit=task.lead_units[0].id,
                            plan=code,
                            plan_id=task.plan_id,
                            indicator=ctx.session.scalar(
                                sa.select(Indicator.id).where(
                                    Indicator.plan_id == task.plan_id,
                                    Indicator.name == f"Chỉ tiêu {target}",
                                )
                            ),
                            spare=standing,
                            subscription=subscribed.subscription.id,
                            token=subscribed.token,
                            notification=notice.id,
                            upload=uploaded.token,
                            draft=drafts[code],
                        )
                    )
        assert closed.status == "closed" and waiting.status == "waiting"
    return found


def _draft(ctx, code: str, office: str, targets: tuple[str, ...]) -> int:
    """A task added to the plan after its tasks were started, not started itself: its id."""
    row = ["80", f"Việc chưa bắt đầu {code}", LEADS[targets[0]][0], "", "3/2027"]
    table = Table("chua-bat-dau.csv", TASK_HEADER, [(2, row)])
    import_plan(ctx, user(ctx, office), plan_source_for_table(ctx, code, table))
    return task_by_ref(ctx, code, "80").id


def _addition(target: str) -> bytes:
    """A table adding one task to the target's plan, as the Office uploads it."""
    number = 90 + TARGETS.index(target)
    return (
        ",".join(TASK_HEADER) + f"\n{number},Việc bổ sung {target},{LEADS[target][0]},,3/2027\n"
    ).encode()


def _workbook() -> bytes:
    """A workbook holding a whole plan, as the Office uploads it."""
    return build_workbook(io.BytesIO()).getvalue()


def _notify(ctx, person: User, name: str) -> Notification:
    notice = Notification(
        key=f"matrix:{name}:{person.id}",
        user=person,
        kind="escalation",
        subject=f"Thông báo {name}",
        body="Quá hạn",
        created_at=ctx.now(),
    )
    ctx.session.add(notice)
    ctx.session.flush()
    return notice


def rebuild(engine, clock, copies: dict[str, int]) -> dict[str, list[Target]]:
    """Drop every plan (keep the organisation and its signed-in users) and build afresh."""
    with engine.database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ORGANISATION_TABLES:
                connection.execute(table.delete())
    return build(engine, clock, copies)


def snapshot(engine) -> tuple:
    """Everything a request could change: what an Office action could, and the organisation."""
    with engine.context() as ctx:

        def rows(*columns) -> tuple:
            return tuple(ctx.session.execute(sa.select(*columns).order_by(columns[0])))

        organisation = (
            rows(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id),
            rows(UnitAlias.id, UnitAlias.unit_id, UnitAlias.scope_unit_id, UnitAlias.alias),
            rows(User.id, User.username, User.full_name, User.role, User.unit_id, User.active),
            rows(User.id, User.password_hash),
        )
        subscriptions = rows(
            CalendarSubscription.id,
            CalendarSubscription.user_id,
            CalendarSubscription.scope,
            CalendarSubscription.scope_id,
            CalendarSubscription.token_hash,
            CalendarSubscription.revoked_at,
        )
        notifications = rows(Notification.id, Notification.user_id, Notification.read_at)
        values = rows(IndicatorValue.id, IndicatorValue.indicator_id)
    return office_snapshot(engine), organisation, subscriptions, notifications, values


# --- how to call each route ----------------------------------------------------------------------

Reader = Callable[[Session, "Target | None"], object]


@dataclass(frozen=True)
class Call:
    path: str | Callable[[Target], str]
    data: Callable[[Callable[[int], int], Target | None], dict] = lambda version, t: {}
    effect: Reader | None = None  # what an allowed POST changes (None: nothing in the data)
    targeted: bool = False
    # what of the target it changes: "task", "closed", "waiting", "draft", "subscription", "upload",
    # "notification" (each used once: the scenario is rebuilt for the next), "spare", or
    # "nothing": it adds, and the next request may add again to the same target
    uses: str = "task"

    def url(self, target: Target | None) -> str:
        return self.path(target) if callable(self.path) else self.path


def _reports(db, t):
    return db.scalar(sa.select(sa.func.count()).where(Report.task_id == t.task))


def _requests(db, t):
    return db.scalar(sa.select(sa.func.count()).where(ExtensionRequest.task_id == t.task))


def _report_status(db, t):
    return db.get(Report, t.report).status


def _request_status(db, t):
    return db.get(ExtensionRequest, t.request).status


def _status(attribute: str) -> Reader:
    return lambda db, t: db.get(Task, getattr(t, attribute)).status


def _events(action: str, attribute: str = "task") -> Reader:
    return lambda db, t: db.scalar(
        sa.select(sa.func.count()).where(
            TaskEvent.task_id == getattr(t, attribute), TaskEvent.action == action
        )
    )


def _subscriptions(db, t):
    return db.scalar(
        sa.select(sa.func.count()).where(
            CalendarSubscription.scope == "unit", CalendarSubscription.scope_id == t.unit
        )
    )


def _unread(db, t):
    return db.scalar(sa.select(sa.func.count()).where(Notification.read_at.is_(None)))


def _explanations_asked(db, t):
    query = sa.select(sa.func.count()).where(ExplanationRequest.task_id == t.closed)
    return db.scalar(query)


def _uploads(db, t):
    return db.scalar(sa.select(sa.func.count()).select_from(ImportUpload))


def _upload_kept(db, t):
    return db.scalar(sa.select(ImportUpload.id).where(ImportUpload.token == t.upload))


def _passwords(db, t):
    return tuple(db.scalars(sa.select(User.password_hash).order_by(User.id)))


def _reason(reason: str, attribute: str = "task") -> Callable:
    return lambda version, t: {"reason": reason, "version": version(getattr(t, attribute))}


def _accept(version, t):
    return {"note": "Tốt", "version": version(t.task)}


def _review(path: Callable[[Target], str], data: Callable) -> Call:
    """Accept or return the target's report, from the task page or the Office's queue."""
    return Call(path, data, effect=_report_status, targeted=True)


def _admin(path: Callable[[Spare], str], data: Callable[[Spare], dict], effect: Callable) -> Call:
    """A POST of the administration on the target's spare objects: ``effect(db, spare)``."""
    return Call(
        lambda t: path(t.spare),
        lambda version, t: data(t.spare),
        effect=lambda db, t: effect(db, t.spare),
        targeted=True,
        uses="spare",
    )


def _new_unit(s: Spare) -> str:
    return f"MOI_{s.unit}"  # the code of a unit created on a fresh spare set: its own


def _new_user(s: Spare) -> str:
    return f"moi.{s.unit}"


def _unit_id(db, code: str) -> int | None:
    return db.scalar(sa.select(Unit.id).where(Unit.code == code))


def _user_id(db, username: str) -> int | None:
    return db.scalar(sa.select(User.id).where(User.username == username))


CALLS: dict[str, Call] = {
    "auth.login": Call("/login", lambda v, t: {"username": "qlkhcn.head", "password": PASSWORD}),
    "auth.logout": Call("/logout"),
    "auth.language": Call("/lang/en", lambda v, t: {"next": "/"}),
    "auth.password": Call(
        "/account/password",
        lambda v, t: {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        effect=_passwords,
    ),
    "pages.home": Call("/"),
    "unit.home": Call("/unit"),
    "unit.group": Call("/unit/overdue"),
    "tasks.show": Call(lambda t: f"/tasks/{t.task}", targeted=True),
    "board.home": Call("/board"),
    "board_csv": Call("/board.csv"),
    "board.unit": Call(lambda t: f"/board/unit/{t.unit}", targeted=True),
    "plans.home": Call("/plans"),
    "plans.show": Call(lambda t: f"/plans/{t.plan}", targeted=True),
    "indicators.show": Call(lambda t: f"/plans/{t.plan}/indicators/{t.indicator}", targeted=True),
    "indicators.record": Call(
        lambda t: f"/plans/{t.plan}/indicators/{t.indicator}/values",
        lambda v, t: {"period": "2026", "value": "45 %", "source_note": "Thống kê"},
        effect=lambda db, t: db.scalar(
            sa.select(sa.func.count()).where(IndicatorValue.indicator_id == t.indicator)
        ),
        targeted=True,
        uses="nothing",
    ),
    "board.indicators": Call(lambda t: f"/board/plans/{t.plan_id}/indicators", targeted=True),
    "plans.report": Call(lambda t: f"/plans/{t.plan}/report?period=2026-11", targeted=True),
    "imports.upload": Call(
        "/plans/imports",
        lambda v, t: {"document": (io.BytesIO(_workbook()), "ke-hoach.xlsx")},
        effect=_uploads,
    ),
    "imports.update": Call(
        lambda t: f"/plans/{t.plan}/imports",
        lambda v, t: {"document": (io.BytesIO(_addition(OWN)), "bo-sung.csv")},
        effect=_uploads,
        targeted=True,
        uses="nothing",
    ),
    "imports.preview": Call(lambda t: f"/plans/imports/{t.upload}", targeted=True),
    "imports.commit": Call(
        lambda t: f"/plans/imports/{t.upload}/commit",
        effect=_upload_kept,
        targeted=True,
        uses="upload",
    ),
    "imports.cancel": Call(
        lambda t: f"/plans/imports/{t.upload}/cancel",
        effect=_upload_kept,
        targeted=True,
        uses="upload",
    ),
    "tasks.report": Call(
        lambda t: f"/tasks/{t.task}/report",
        lambda v, t: (
            {"period": "report:2026-10", "text": "Đã làm", "progress": "40"}
            | {"version": v(t.task)}
        ),
        effect=_reports,
        targeted=True,
    ),
    "tasks.extension": Call(
        lambda t: f"/tasks/{t.task}/extension",
        lambda v, t: {"period": "report:2026-10", "reason": "Chờ số liệu", "version": v(t.task)},
        effect=_requests,
        targeted=True,
    ),
    "tasks.accept": _review(lambda t: f"/tasks/{t.task}/reports/{t.report}/accept", _accept),
    "tasks.return_": _review(
        lambda t: f"/tasks/{t.task}/reports/{t.report}/return", _reason("Thiếu số liệu")
    ),
    "tasks.reopen": Call(
        lambda t: f"/tasks/{t.closed}/reopen",
        _reason("Cần bổ sung", "closed"),
        effect=_status("closed"),
        targeted=True,
        uses="closed",
    ),
    "tasks.cancel": Call(
        lambda t: f"/tasks/{t.task}/cancel",
        _reason("Không còn phù hợp"),
        effect=_status("task"),
        targeted=True,
    ),
    "plans.start": Call(
        lambda t: f"/plans/{t.plan}/start", effect=_status("draft"), targeted=True, uses="draft"
    ),
    "office.home": Call("/office"),
    "office.accept": _review(lambda t: f"/office/reports/{t.report}/accept", _accept),
    "office.return_": _review(
        lambda t: f"/office/reports/{t.report}/return", _reason("Thiếu số liệu")
    ),
    "office.grant": Call(
        lambda t: f"/office/extensions/{t.request}/grant",
        lambda v, t: {"new_date": "2027-06-30"},
        effect=_request_status,
        targeted=True,
    ),
    "office.refuse": Call(
        lambda t: f"/office/extensions/{t.request}/refuse",
        lambda v, t: {"reason": "Không đủ căn cứ"},
        effect=_request_status,
        targeted=True,
    ),
    "office.trigger": Call(  # the target is in the form: the task the document releases
        "/office/triggers",
        lambda v, t: {
            "number": f"{t.waiting}/HD-BKHCN",  # a document of its own
            "issued_on": "2026-11-02",
            "issuer": "Bộ Khoa học và Công nghệ",
            "tasks": [t.waiting],
        },
        effect=_status("waiting"),
        targeted=True,
        uses="waiting",
    ),
    "search.home": Call("/tasks?q=viec"),
    "directions.direct": Call(
        lambda t: f"/tasks/{t.task}/directions",
        lambda v, t: {"text": "Khẩn trương hoàn thành"},
        effect=_events("direction"),
        targeted=True,
    ),
    "directions.ask": Call(  # on the closed sibling: the task itself is already asked
        lambda t: f"/tasks/{t.closed}/explanations",
        lambda v, t: {"question": "Vì sao hoàn thành muộn?"},
        effect=_explanations_asked,
        targeted=True,
        uses="closed",
    ),
    "directions.answer": Call(
        lambda t: f"/tasks/{t.task}/explanations/{t.explanation}/answer",
        lambda v, t: {"answer": "Chờ số liệu của các xã"},
        effect=lambda db, t: db.get(ExplanationRequest, t.explanation).status,
        targeted=True,
    ),
    "directions.comment": Call(
        lambda t: f"/tasks/{t.task}/comments",
        lambda v, t: {"text": "Đề nghị bổ sung số liệu"},
        effect=_events("comment"),
        targeted=True,
    ),
    "calendars.home": Call("/calendars"),
    "calendars.create": Call(
        "/calendars",
        lambda v, t: {"feed": f"unit:{t.unit}"},
        effect=_subscriptions,
        targeted=True,
        uses="nothing",
    ),
    "calendars.regenerate": Call(
        lambda t: f"/calendars/{t.subscription}/regenerate",
        effect=lambda db, t: db.get(CalendarSubscription, t.subscription).token_hash,
        targeted=True,
        uses="subscription",
    ),
    "calendars.revoke": Call(
        lambda t: f"/calendars/{t.subscription}/revoke",
        effect=lambda db, t: db.get(CalendarSubscription, t.subscription).revoked_at,
        targeted=True,
        uses="subscription",
    ),
    "calendars.feed": Call(lambda t: f"/calendar/{t.token}.ics", targeted=True),
    "calendars.task": Call(lambda t: f"/tasks/{t.task}/calendar.ics", targeted=True),
    "notifications.home": Call("/notifications"),
    "notifications.read": Call(
        lambda t: f"/notifications/{t.notification}/read",
        effect=lambda db, t: db.get(Notification, t.notification).read_at,
        targeted=True,
        uses="notification",
    ),
    "notifications.read_all": Call("/notifications/read", effect=_unread),
    "rules.home": Call("/rules"),
    "office.mail": Call("/office/mail"),
    "admin.units": Call("/admin/units"),
    "admin.create_unit": _admin(  # the target is in the form: the parent unit
        lambda s: "/admin/units",
        lambda s: (
            {"code": _new_unit(s), "name": f"Tổ mới {s.unit}", "parent": s.home}
            | {"kind": "division"}
        ),
        lambda db, s: _unit_id(db, _new_unit(s)),
    ),
    "admin.unit": Call(lambda t: f"/admin/units/{t.spare.unit}", targeted=True),
    "admin.rename_unit": _admin(
        lambda s: f"/admin/units/{s.unit}/rename",
        lambda s: {"name": f"Tổ đổi tên {s.unit}"},
        lambda db, s: db.get(Unit, s.unit).name,
    ),
    "admin.add_alias": _admin(
        lambda s: f"/admin/units/{s.unit}/aliases",
        lambda s: {"alias": f"Tổ bí danh {s.unit}"},
        lambda db, s: db.scalar(sa.select(sa.func.count()).where(UnitAlias.unit_id == s.unit)),
    ),
    "admin.remove_alias": _admin(
        lambda s: f"/admin/units/{s.unit}/aliases/{s.alias}/remove",
        lambda s: {},
        lambda db, s: db.get(UnitAlias, s.alias) is not None,
    ),
    "admin.delete_unit": _admin(
        lambda s: f"/admin/units/{s.unit}/delete",
        lambda s: {},
        lambda db, s: db.get(Unit, s.unit) is not None,
    ),
    "admin.users": Call("/admin/users"),
    "admin.create_user": _admin(  # the target is in the form: the account's unit
        lambda s: "/admin/users",
        lambda s: (
            {"username": _new_user(s), "full_name": "Tài khoản mới", "role": "unit_head"}
            | {"unit": s.home, "password": NEW_PASSWORD}
        ),
        lambda db, s: _user_id(db, _new_user(s)),
    ),
    "admin.user": Call(lambda t: f"/admin/users/{t.spare.account}", targeted=True),
    "admin.deactivate": _admin(
        lambda s: f"/admin/users/{s.account}/deactivate",
        lambda s: {},
        lambda db, s: db.get(User, s.account).active,
    ),
    "admin.reactivate": _admin(
        lambda s: f"/admin/users/{s.dormant}/reactivate",
        lambda s: {},
        lambda db, s: db.get(User, s.dormant).active,
    ),
    "admin.reset_password": _admin(
        lambda s: f"/admin/users/{s.account}/password",
        lambda s: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        lambda db, s: db.get(User, s.account).password_hash,
    ),
}
# Changes to the session itself, walked last in this order (after them the client is another).
SESSION_CHANGES = ("auth.password", "auth.login", "auth.logout")
# Changes to everything of the signed-in person (the target's notification too), walked after
# the other changes to data.
SWEEPING_CHANGES = ("notifications.read_all",)


# --- the walk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    role: str
    target: str | None

    @property
    def expected(self) -> str:
        cell = WHO_MAY[self.endpoint, self.method][list(ROLES).index(self.role)]
        refused = SIGN_IN if self.role == "anonymous" else FORBIDDEN
        if isinstance(cell, dict):
            return cell.get(self.target, refused)
        return OK if self.target in cell else refused

    @property
    def changes_data(self) -> bool:
        return self.method == "POST" and self.expected == OK and bool(CALLS[self.endpoint].effect)

    def order(self) -> tuple:
        if self.endpoint in SESSION_CHANGES:
            return (3, SESSION_CHANGES.index(self.endpoint))
        if self.changes_data and self.endpoint in SWEEPING_CHANGES:
            return (2, 0)
        return (1 if self.changes_data else 0, 0)

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} as {self.role} on {self.target or '-'}"


def routes(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods & {"GET", "POST"})
    )


def unclassified(app) -> list[str]:
    found = routes(app)
    return [
        *(f"{e} {m}: not in WHO_MAY" for e, m in found if (e, m) not in WHO_MAY),
        *sorted({f"{e}: not in CALLS" for e, _ in found if e not in CALLS}),
        *(f"{e} {m}: in WHO_MAY, not in the app" for e, m in WHO_MAY if (e, m) not in found),
    ]


def cases(app, role: str) -> list[Case]:
    walk = [
        Case(endpoint, method, role, target)
        for endpoint, method in routes(app)
        for target in (TARGETS if CALLS[endpoint].targeted else (None,))
    ]
    return sorted(walk, key=Case.order)


def outcome(response) -> str:
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code == 302 and "/login?next=" in response.location:
        return SIGN_IN
    if response.status_code in (200, 302):
        return OK
    return str(response.status_code)


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def token(client) -> str:
    """The CSRF token of this client's session, from the language switch every page carries."""
    return _CSRF.search(client.get("/login", follow_redirects=True).get_data(as_text=True))[1]


class Walk:
    """One role's client on the scenario. Reads and refusals go to the first task of each
    target; each allowed POST to a task of its own, or to a closed or waiting task no earlier
    request changed: the scenario is rebuilt when there is none left; or to spare objects of
    the target's organisation made for it."""

    def __init__(self, engine, clock, client, copies: dict[str, int]) -> None:
        self.engine, self.clock, self.client, self.copies = engine, clock, client, copies
        self.token = token(client)
        self.spares = 0  # sets of spare objects made: a rebuild keeps them
        self.rebuild(build)

    def rebuild(self, how=rebuild) -> None:
        self.targets = how(self.engine, self.clock, self.copies)
        self.taken = dict.fromkeys(TARGETS, 0)  # copies of each target's task used so far
        self.used: set[tuple[str, str]] = (
            set()
        )  # (target, "closed" or "waiting"), or (plan, "draft")
        self.data = snapshot(self.engine)

    def target(self, case: Case, uses: str) -> Target | None:
        if case.target is None:
            return None
        if case.changes_data and uses == "spare":
            self.spares += 1
            with self.engine.context() as ctx:
                fresh = spare(ctx, case.target, self.spares)
            return replace(self.targets[case.target][0], spare=fresh)
        if uses == "nothing":
            return self.targets[case.target][0]
        if case.changes_data and uses == "task":
            if self.taken[case.target] + 1 >= self.copies[case.target]:
                self.rebuild()
            self.taken[case.target] += 1
            return self.targets[case.target][self.taken[case.target]]
        if case.changes_data:
            # the draft task is the plan's: starting it for one target starts it for all
            owner = self.targets[case.target][0].plan if uses == "draft" else case.target
            if (owner, uses) in self.used:
                self.rebuild()
            self.used.add((owner, uses))
        return self.targets[case.target][0]

    def version(self, task_id: int) -> int:
        with self.engine.context(write=False) as ctx:
            return ctx.session.get(Task, task_id).version

    def read(self, reader: Reader, target: Target | None) -> object:
        with self.engine.context(write=False) as ctx:
            return reader(ctx.session, target)

    def check(self, case: Case) -> str | None:
        """Make the request; what went against the table, or None."""
        call = CALLS[case.endpoint]
        target = self.target(case, call.uses)
        effect = call.effect if case.changes_data else None
        seen = self.read(effect, target) if effect else None
        if case.method == "GET":
            response = self.client.get(call.url(target))
        else:
            data = call.data(self.version, target) | {"csrf_token": self.token}
            response = self.client.post(call.url(target), data=data)
        got = outcome(response)
        before, self.data = self.data, snapshot(self.engine)
        if case.endpoint in SESSION_CHANGES and case.method == "POST":
            self.token = token(self.client)
        problems = []
        if got != case.expected:
            problems.append(f"expected {case.expected}, got {response.status_code} ({got})")
        if effect and got == OK and self.read(effect, target) == seen:
            problems.append("allowed, but nothing changed")
        if not effect and self.data != before:
            problems.append("the data changed")
            self.rebuild()  # the next requests find the scenario as built
        return f"{case}: {'; '.join(problems)}" if problems else None


def test_every_route_is_classified(app):
    missing = unclassified(app)
    assert not missing, "classify these routes (see the top of this file):\n" + "\n".join(missing)


@pytest.mark.parametrize("role", list(ROLES))
def test_who_may_do_what(role, app, organisation, clock):
    assert not unclassified(app), "classify every route first: test_every_route_is_classified"
    client = app.test_client()
    if ROLES[role]:
        sign_in(client, ROLES[role])
    walked = cases(app, role)
    posts = Counter(c.target for c in walked if c.changes_data and CALLS[c.endpoint].uses == "task")
    walk = Walk(organisation, clock, client, {t: 1 + posts[t] for t in TARGETS})
    failures = [problem for case in walked if (problem := walk.check(case))]
    assert not failures, f"{len(failures)} of {len(walked)} requests:\n" + "\n".join(failures)


def test_the_scenario_has_what_every_route_needs(organisation, clock):
    targets = build(organisation, clock, dict.fromkeys(TARGETS, 2))
    with organisation.context(write=False) as ctx:
        for name, (t, _) in targets.items():
            assert ctx.session.get(Report, t.report).status == "submitted", name
            assert ctx.session.get(ExtensionRequest, t.request).status == "pending", name
            assert ctx.session.get(Task, t.task).status == "reported", name
            assert (
                ctx.session.get(Unit, t.unit).code
                == {
                    OWN: "QLKHCN",
                    OTHER: "QLTDC",
                    OFFICE: "VPS",
                    ELSEWHERE: "VHXH",
                }[name]
            )
            spare = t.spare  # shared by the copies, in the target's organisation
            account, dormant = (
                ctx.session.get(User, spare.account),
                ctx.session.get(User, spare.dormant),
            )
            assert account.active and not dormant.active and account.unit_id == spare.home
            assert ctx.session.get(UnitAlias, spare.alias).unit_id == spare.unit
            assert ctx.session.get(Unit, spare.home).parent.code == (
                "VINHTUY" if name == ELSEWHERE else "LAICHAU"
            )
            notice = ctx.session.get(Notification, t.notification)
            assert notice.read_at is None and notice.user.username == LEADS[name][1]
        for username in filter(None, ROLES.values()):
            unread = Notification.read_at.is_(None) & (
                Notification.user_id == user(ctx, username).id
            )
            assert ctx.session.scalar(sa.select(sa.func.count()).where(unread)), username
