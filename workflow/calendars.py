"""Deadline feeds for calendar clients (DESIGN §5): which due items a feed holds, and the
iCalendar text that Google, Outlook, Apple Calendar and Thunderbird subscribe to.

A feed is a condition on tasks (with their plan joined) for one scope: a unit (the tasks it
leads), a person (what their unit leads or cooperates on; the Office and leadership: their
organisation), an organisation, or a plan. Whoever reads a feed reads it *as its subscriber*:
the scope's condition is always joined with :func:`workflow.board.visible_to` for that
subscriber, so a feed never shows more than the screens would.

Each due item is one all-day event on its effective date, with a UID that lives as long as
the item and the item's SEQUENCE, which the engine raises whenever the date moves or the item
is satisfied, reopened or cancelled. Cancelled items stay in the feed as ``STATUS:CANCELLED``
so that subscribed clients remove them rather than keep a stale copy.

Ongoing tasks appear by their periodic report dates only (they have no completion deadline);
tasks waiting for guidance do not appear until they are released: their due items do not
exist before then. Building a feed takes a fixed number of SQL statements.
"""

from __future__ import annotations

import calendar as _calendar
import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from icalendar import Alarm, Calendar, Event, vDuration
from sqlalchemy.orm import Session, contains_eager, joinedload
from sqlalchemy.sql.elements import ColumnElement

from workflow import stamp_cache
from workflow.board import (
    in_scope,
    led_by,
    organisation_unit_ids,
    units_of_organisation,
    visible_to,
)
from workflow.config import Settings
from workflow.errors import NotFound, PermissionDenied
from workflow.messages import N_
from workflow.models import CalendarSubscription, DueItem, Plan, Task, Unit, User
from workflow.permissions import SEES_EVERYTHING, in_organisation, organisation
from workflow.queries import lead_units_of
from workflow.rules import Rules
from workflow.wording import STATE_VI, day, shorten, task_url, what_is_due

SCOPES = ("unit", "person", "organisation", "plan")
DAYS_BACK = 60
MONTHS_AHEAD = 15
REFRESH = timedelta(hours=1)
PRODID = "-//nhiemvu//Lịch hạn nhiệm vụ//VI"
TIMEZONE = "Asia/Ho_Chi_Minh"

CATEGORY_VI = {"deadline": "Hạn hoàn thành", "occurrence": "Kỳ thực hiện", "report": "Báo cáo"}


@dataclass(frozen=True)
class Window:
    """The days a feed covers, both ends included."""

    start: date
    end: date

    @classmethod
    def around(
        cls, today: date, days_back: int = DAYS_BACK, months_ahead: int = MONTHS_AHEAD
    ) -> Window:
        index = today.month - 1 + months_ahead
        year, month = today.year + index // 12, index % 12 + 1
        day = min(today.day, _calendar.monthrange(year, month)[1])
        return cls(today - timedelta(days=days_back), date(year, month, day))

    @classmethod
    def configured(cls, settings: Settings, today: date) -> Window:
        """The window of ``[feeds]`` in the instance configuration."""
        return cls.around(today, settings.feed_days_back, settings.feed_months_ahead)


@dataclass(frozen=True)
class Feed:
    """One scope as a subscriber reads it: a name and a condition on Task (Plan joined)."""

    scope: str
    scope_id: int
    name: str
    description: str
    condition: ColumnElement[bool]


def _refuse(user: User, what: str, name: object) -> PermissionDenied:
    return PermissionDenied(
        N_("%(user)s may not subscribe to the calendar of %(what)s %(name)s"),
        user=user.username,
        what=what,
        name=name,
    )


def feed_for(session: Session, user: User, scope: str, scope_id: int) -> Feed:
    """The feed of ``scope``/``scope_id`` as ``user`` may read it; refused when they may not.

    unit: a member of the unit, or the Office/leadership of its organisation; person: oneself
    only; organisation (a top-level unit): the Office and leadership of it; plan: whoever may
    see at least one of its tasks. An administrator may read every feed.
    """
    if user is None or not user.active:
        raise PermissionDenied(N_("nobody signed in may not subscribe to a calendar"))
    seen = visible_to(session, user)
    overseer = user.role in SEES_EVERYTHING
    if scope == "unit":
        unit = _get(session, Unit, scope_id, N_("unit %(id)s does not exist"))
        if not (
            user.role == "admin"
            or user.unit_id == unit.id
            or (overseer and in_organisation(user, unit))
        ):
            raise _refuse(user, "unit", unit.name)
        feed = unit_feed(unit)
        return Feed(feed.scope, unit.id, feed.name, feed.description, sa.and_(feed.condition, seen))
    if scope == "person":
        if scope_id != user.id:
            raise _refuse(user, "person", scope_id)
        condition = seen
        if user.role == "admin":
            condition = in_scope(organisation_unit_ids(session, user))
        where = user.unit.name if user.unit is not None else "toàn hệ thống"
        if overseer and user.unit is not None:
            where = organisation(user.unit).name
        return Feed(
            scope,
            user.id,
            f"Hạn nhiệm vụ của tôi – {where}",
            f"Các hạn hoàn thành và hạn báo cáo mà {where} theo dõi",
            condition,
        )
    if scope == "organisation":
        unit = _get(session, Unit, scope_id, N_("unit %(id)s does not exist"))
        if unit.parent_id is not None or not (
            user.role == "admin" or (overseer and in_organisation(user, unit))
        ):
            raise _refuse(user, "organisation", unit.name)
        ids = units_of_organisation(session, unit.id)
        return Feed(
            scope,
            unit.id,
            f"Hạn nhiệm vụ – {unit.name}",
            f"Mọi hạn hoàn thành và hạn báo cáo của {unit.name}",
            sa.and_(in_scope(ids), seen),
        )
    if scope == "plan":
        plan = _get(session, Plan, scope_id, N_("plan %(id)s does not exist"))
        if user.role != "admin" and not session.scalar(
            sa.select(sa.literal(True))
            .select_from(Task)
            .join(Task.plan)
            .where(Task.plan_id == plan.id, seen)
            .limit(1)
        ):
            raise _refuse(user, "plan", plan.number)
        return Feed(
            scope,
            plan.id,
            f"Hạn nhiệm vụ – {plan.number}",
            f"Các hạn của Kế hoạch {plan.number}: {plan.title}",
            sa.and_(Task.plan_id == plan.id, seen),
        )
    raise NotFound(N_("calendar scope %(scope)s does not exist"), scope=scope)


def unit_feed(unit: Unit) -> Feed:
    """The tasks ``unit`` leads, unrestricted: for the operator's command line."""
    return Feed(
        "unit",
        unit.id,
        f"Hạn nhiệm vụ – {unit.name}",
        f"Các hạn hoàn thành và hạn báo cáo của nhiệm vụ do {unit.name} chủ trì",
        led_by(unit.id),
    )


@dataclass(frozen=True)
class Offer:
    """A feed the Calendars page offers: its scope and the name of what it covers."""

    scope: str
    scope_id: int
    name: str


def offered_feeds(session: Session, user: User) -> list[Offer]:
    """The feeds ``user`` may subscribe to, by :func:`feed_for`'s rules: oneself; one's unit
    (the Office and leadership: every unit and the whole of their organisation); each plan
    of which they see a task. An administrator: everything. Three queries."""
    overseer = user.role == "admin" or (user.role in SEES_EVERYTHING and user.unit_id is not None)
    units: list[Unit] = [user.unit] if user.unit is not None else []
    if overseer:
        query = sa.select(Unit).order_by(Unit.name)
        ids = organisation_unit_ids(session, user)
        units = list(session.scalars(query if ids is None else query.where(Unit.id.in_(ids))))
    plans = sa.select(Plan).order_by(Plan.number, Plan.id)
    if user.role != "admin":
        seen = sa.select(Task.id).where(Task.plan_id == Plan.id, visible_to(session, user))
        plans = plans.where(seen.exists())
    return [
        Offer("person", user.id, user.full_name),
        *(Offer("organisation", u.id, u.name) for u in units if overseer and u.parent_id is None),
        *(Offer("unit", u.id, u.name) for u in units),
        *(Offer("plan", p.id, f"{p.number} – {shorten(p.title)}") for p in session.scalars(plans)),
    ]


def _get(session: Session, model: type, key: int, missing: str):
    found = session.get(model, key)
    if found is None:
        raise NotFound(missing, id=key)
    return found


def _items_query(feed: Feed, window: Window) -> sa.Select:
    return (
        sa.select(DueItem)
        .join(DueItem.task)
        .join(Task.plan)
        .where(feed.condition, DueItem.due_date.between(window.start, window.end))
    )


def due_items(session: Session, feed: Feed, window: Window) -> list[DueItem]:
    """The feed's due items in the window, each with its task and plan loaded (one query)."""
    query = (
        _items_query(feed, window)
        .options(contains_eager(DueItem.task).contains_eager(Task.plan))
        .order_by(DueItem.due_date, DueItem.id)
    )
    return list(session.scalars(query).unique())


def task_items(session: Session, task: Task) -> list[DueItem]:
    """Every due item of one task, for a one-off download (the caller checked VIEW)."""
    return list(
        session.scalars(
            sa.select(DueItem)
            .join(DueItem.task)
            .join(Task.plan)
            .where(DueItem.task_id == task.id)
            .options(contains_eager(DueItem.task).contains_eager(Task.plan))
            .order_by(DueItem.due_date, DueItem.id)
        ).unique()
    )


@dataclass(frozen=True)
class Version:
    """What changes whenever the feed's text could: for ETag and Last-Modified."""

    count: int
    last_modified: datetime | None
    window: Window
    base_url: str

    @property
    def etag(self) -> str:
        stamp = self.last_modified.timestamp() if self.last_modified else 0
        key = f"{self.count}|{stamp:.6f}|{self.window.start}|{self.window.end}|{self.base_url}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def feed_version(session: Session, feed: Feed, window: Window, base_url: str) -> Version:
    """The count and latest change of the feed's items, their tasks and plans, and of the unit
    names the events show: one query, far cheaper than building the feed."""
    inner = _items_query(feed, window).with_only_columns(
        DueItem.id.label("id"),
        DueItem.updated_at.label("item_at"),
        Task.updated_at.label("task_at"),
        Plan.updated_at.label("plan_at"),
    )
    sub = inner.subquery()
    count, *stamps = session.execute(
        sa.select(
            sa.func.count(sub.c.id),
            sa.func.max(sub.c.item_at),
            sa.func.max(sub.c.task_at),
            sa.func.max(sub.c.plan_at),
            sa.select(sa.func.max(Unit.updated_at)).scalar_subquery(),
        )
    ).one()
    found = [_aware(s) for s in stamps if s is not None]
    return Version(int(count), max(found) if found else None, window, base_url)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite returns max() of a column as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- the iCalendar text ----------------------------------------------------------------------


def summary(item: DueItem, leads: list[str]) -> str:
    """``[Hạn] Báo cáo tháng 11/2026 – Phòng Quản lý KH&CN – <the task, shortened>``."""
    who = ", ".join(leads) or item.task.lead_units_text or "chưa rõ đơn vị chủ trì"
    return f"[Hạn] {what_is_due(item)} – {who} – {shorten(item.task.name)}"


def description(item: DueItem, leads: list[str], url: str) -> str:
    task, plan = item.task, item.task.plan
    lines = [
        f"Kế hoạch: {plan.number} – {shorten(plan.title, 200)}",
        f"Nhiệm vụ {task.ref}: {task.name}",
        f"Đơn vị chủ trì: {', '.join(leads) or task.lead_units_text}",
        f"Thời gian theo kế hoạch: {task.timing_raw}",
        f"Hạn: {day(item.due_date)}",
    ]
    if item.nominal_date != item.due_date:
        lines.append(f"Ngày theo văn bản: {day(item.nominal_date)}")
    if item.extended_to is not None:
        lines.append(f"Đã gia hạn đến: {day(item.extended_to)}")
    lines.append(
        f"Trạng thái: {STATE_VI.get(item.status, item.status)}"
        f" (nhiệm vụ {STATE_VI.get(task.status, task.status)})"
    )
    lines.append(f"Xem nhiệm vụ: {url}")
    return "\n".join(lines)


def host_of(base_url: str) -> str:
    return urlsplit(base_url).hostname or "nhiemvu"


def event_sequence(item: DueItem) -> int:
    """The event's SEQUENCE: the item's own (raised when its date moves, when it is satisfied,
    reopened or cancelled, and when a lead unit or the plan is renamed) plus its task's
    version (raised by every change of the task: its name, state or reports, which the
    event's text shows). Both only grow, so the sum rises whenever the event changes."""
    return item.sequence + item.task.version - 1


def event(item: DueItem, leads: list[str], base_url: str, reminder_days: Iterable[int]) -> Event:
    """One due item as an all-day event; reminders (VALARM) ``reminder_days`` before it, those
    of the escalation rule of its lead unit, while it is open."""
    url = task_url(base_url, item.task_id)
    stamp = max(_aware(item.updated_at), _aware(item.task.updated_at))
    ev = Event()
    ev.add("uid", f"due-{item.id}@{host_of(base_url)}")
    ev.add("dtstamp", stamp)
    ev.add("last-modified", stamp)
    ev.add("sequence", event_sequence(item))
    ev.add("dtstart", item.due_date)
    ev.add("dtend", item.due_date + timedelta(days=1))
    ev.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy all day
    ev.add("summary", summary(item, leads))
    ev.add("description", description(item, leads, url))
    ev.add("url", url)
    ev.add("categories", [CATEGORY_VI.get(item.kind, item.kind)])
    ev.add("status", "CANCELLED" if item.status == "cancelled" else "CONFIRMED")
    if item.status == "open":
        for days in reminder_days:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Còn {days} ngày: {summary(item, leads)}")
            alarm.add("trigger", timedelta(days=-days))
            ev.add_component(alarm)
    return ev


class EventTexts:
    """The text of each event, kept between requests: icalendar writes an event once per change
    of anything it shows, and a feed is the calendar's header with its events' texts inside.

    Writing an event is most of a feed's cost (building components and folding lines), while a
    feed's events rarely change between two polls, and a unit's, a person's, a plan's and the
    organisation's feeds share theirs. The key holds everything an event's text is made of, so
    a stale text is never served; the least recently used go first past ``max_bytes``. Safe
    across the web server's threads."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.made = self.reused = 0
        self._texts: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self.size = 0

    def get(self, key: tuple, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
                self.reused += 1
                return text
        text = make()
        with self._lock:
            self.made += 1
            if key not in self._texts and len(text) <= self.max_bytes:
                self._texts[key] = text
                self.size += len(text)
                while self.size > self.max_bytes:
                    self.size -= len(self._texts.popitem(last=False)[1])
        return text


EVENT_TEXTS = EventTexts()


def _event_key(item: DueItem, names: list[str], base_url: str, days: tuple[int, ...]) -> tuple:
    """What an event's text is made of: the item, its task and plan as they last changed, the
    lead units' names, where links point and when to remind."""
    task = item.task
    stamps = (item.updated_at, task.updated_at, task.version, task.plan.updated_at)
    return (item.id, *stamps, tuple(names), base_url, days)


def build(
    session: Session, items: list[DueItem], name: str, about: str, base_url: str, rules: Rules
) -> bytes:
    """The VCALENDAR text of ``items`` (task and plan loaded); lead units in one more query."""
    leads = lead_units_of(session, (item.task_id for item in items))
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", about)
    cal.add("x-wr-timezone", TIMEZONE)
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    texts = []
    for item in items:
        units = leads.get(item.task_id, [])
        days = rules.for_unit(units[0].code if units else None).reminder_days
        names = [u.name for u in units]
        texts.append(
            EVENT_TEXTS.get(
                _event_key(item, names, base_url, days),
                lambda item=item, names=names, days=days: event(
                    item, names, base_url, days
                ).to_ical(),
            )
        )
    header = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    return header[: -len(end)] + b"".join(texts) + end


def build_feed(session: Session, feed: Feed, window: Window, base_url: str, rules: Rules) -> bytes:
    items = due_items(session, feed, window)
    return build(session, items, feed.name, feed.description, base_url, rules)


def build_task(session: Session, task: Task, base_url: str, rules: Rules) -> bytes:
    name = f"Hạn nhiệm vụ {task.plan.number} {task.ref}"
    return build(session, task_items(session, task), name, shorten(task.name, 200), base_url, rules)


# --- subscriptions ---------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A subscription and its token: the only moment the token exists outside the URL."""

    subscription: CalendarSubscription
    token: str


def subscribe(session: Session, user: User, scope: str, scope_id: int, now: datetime) -> NewToken:
    """A new subscription of ``user`` to a feed they may read (refused otherwise)."""
    feed_for(session, user, scope, scope_id)
    token = secrets.token_urlsafe(32)
    subscription = CalendarSubscription(
        user=user, scope=scope, scope_id=scope_id, token_hash=token_hash(token), created_at=now
    )
    session.add(subscription)
    session.flush()
    return NewToken(subscription, token)


def _own(session: Session, user: User, subscription_id: int) -> CalendarSubscription:
    found = session.get(CalendarSubscription, subscription_id)
    if found is None or found.revoked_at is not None or found.user_id != user.id:
        raise NotFound(N_("calendar subscription %(id)s does not exist"), id=subscription_id)
    return found


def regenerate(session: Session, user: User, subscription_id: int, now: datetime) -> NewToken:
    """A new token for the same feed; the old URL stops working at once."""
    subscription = _own(session, user, subscription_id)
    feed_for(session, user, subscription.scope, subscription.scope_id)  # still allowed?
    token = secrets.token_urlsafe(32)
    subscription.token_hash = token_hash(token)
    subscription.created_at = now
    session.flush()
    return NewToken(subscription, token)


def revoke(session: Session, user: User, subscription_id: int, now: datetime) -> None:
    _own(session, user, subscription_id).revoked_at = now


def subscriptions(session: Session, user: User) -> list[CalendarSubscription]:
    """The user's live subscriptions, the newest first."""
    return list(
        session.scalars(
            sa.select(CalendarSubscription)
            .where(
                CalendarSubscription.user_id == user.id, CalendarSubscription.revoked_at.is_(None)
            )
            .order_by(CalendarSubscription.created_at.desc(), CalendarSubscription.id.desc())
        )
    )


def resolve(session: Session, token: str) -> Feed | None:
    """The feed behind a token, read as its owner today; None for an unknown or revoked token,
    or one whose owner may no longer read the feed (deactivated, moved to another unit)."""
    subscription = _subscription(session, token)
    return None if subscription is None else feed_of(session, subscription)


def _subscription(session: Session, token: str) -> CalendarSubscription | None:
    if not token or len(token) > 128:
        return None
    return session.scalar(
        sa.select(CalendarSubscription)
        .where(
            CalendarSubscription.token_hash == token_hash(token),
            CalendarSubscription.revoked_at.is_(None),
        )
        .options(joinedload(CalendarSubscription.user))
    )


def current_feed(
    session: Session, token: str, window: Window, base_url: str
) -> tuple[Feed, Version] | None:
    """:func:`resolve` and :func:`feed_version` together, kept per process while nothing a feed
    shows changed (:mod:`workflow.stamp_cache`): a calendar asking "changed?" then costs the
    token's lookup and the stamp. The token is looked up every time (a revoked one is refused
    at once); the rest is keyed by the owner's role, unit and standing, so an owner moved or
    deactivated is judged afresh."""
    subscription = _subscription(session, token)
    if subscription is None:
        return None
    owner = subscription.user
    key = ("feed", subscription.id, owner.role, owner.unit_id, owner.active, window, base_url)

    def compute() -> tuple[Feed, Version] | None:
        feed = feed_of(session, subscription)
        return None if feed is None else (feed, feed_version(session, feed, window, base_url))

    return stamp_cache.cached(session, key, compute)


def feed_of(session: Session, subscription: CalendarSubscription) -> Feed | None:
    """The subscription's feed as its owner may read it today; None if they no longer may."""
    try:
        return feed_for(session, subscription.user, subscription.scope, subscription.scope_id)
    except (PermissionDenied, NotFound):
        return None
