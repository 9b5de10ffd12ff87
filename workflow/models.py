"""The data model. Typed SQLAlchemy 2 declarative mapping, portable across SQLite and PostgreSQL.

Conventions: enumerations are strings with a CHECK constraint (native enums differ between the
two databases); instants are stored in UTC and refused when naive; deadlines are plain dates;
constraint names come from one naming convention so that migrations are stable.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from workflow.timing import Frequency, Timing, TimingKind

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC; a naive value is a bug and is refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it off the class
        datetime: UTCDateTime,
        dict[str, Any]: sa.JSON,
        list[str]: sa.JSON,
    }


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


# --- units and people ------------------------------------------------------------------------

UNIT_KINDS = (
    "province",
    "ward",
    "commune",
    "office",
    "department",
    "division",
    "center",
    "agency",
    "press",
    "group",
    "other",
)


class Unit(Timestamped, Base):
    __tablename__ = "units"
    __table_args__ = (_check_in("kind", UNIT_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    name_key: Mapped[str] = mapped_column(sa.String(255), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    def lineage(self) -> list[Unit]:
        """This unit and its ancestors, nearest first."""
        chain: list[Unit] = []
        unit: Unit | None = self
        while unit is not None and unit not in chain:
            chain.append(unit)
            unit = unit.parent
        return chain

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


unit_group_members = sa.Table(
    "unit_group_members",
    Base.metadata,
    sa.Column("group_id", sa.ForeignKey("unit_groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True),
)


class UnitGroup(Timestamped, Base):
    """A phrase that stands for several units, within the plans of one scope unit.

    "Các phòng, đơn vị thuộc Sở" in a plan of the Department means the Department's divisions;
    the same words in a ward's plan mean the ward's offices. So a group belongs to a scope.
    """

    __tablename__ = "unit_groups"
    __table_args__ = (sa.UniqueConstraint("scope_unit_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(sa.String(255))
    name_key: Mapped[str] = mapped_column(sa.String(255))

    scope: Mapped[Unit] = relationship()
    members: Mapped[list[Unit]] = relationship(secondary=unit_group_members, order_by=Unit.id)


class UnitAlias(Base):
    """Another spelling of a unit or group name, meaningful within a scope (None: everywhere)."""

    __tablename__ = "unit_aliases"
    __table_args__ = (
        sa.UniqueConstraint("scope_unit_id", "key"),
        sa.CheckConstraint("(unit_id IS NULL) <> (group_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    alias: Mapped[str] = mapped_column(sa.String(255))
    key: Mapped[str] = mapped_column(sa.String(255), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit_groups.id", ondelete="CASCADE")
    )

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    group: Mapped[UnitGroup | None] = relationship()


ROLES = ("unit_head", "unit_delegate", "office", "leadership", "admin")


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (_check_in("role", ROLES, "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # flask-login's id: replaced when the password changes, which signs out other sessions
    session_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[Unit | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


# --- plans -----------------------------------------------------------------------------------

PLAN_STATUSES = ("active", "superseded")


class Plan(Timestamped, Base):
    """A plan (kế hoạch). Its ``code`` identifies it; its ``number`` is as printed.

    A draft's number has a blank ("…/KH-UBND") and several drafts may share it; a complete
    number is unique (checked on import, see :func:`is_draft_number`).
    """

    __tablename__ = "plans"
    __table_args__ = (_check_in("status", PLAN_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    number: Mapped[str] = mapped_column(sa.String(64), index=True)
    title: Mapped[str] = mapped_column(sa.Text)
    issuer_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    issuer_text: Mapped[str] = mapped_column(sa.String(255), default="")
    issued_on: Mapped[date | None]
    issued_text: Mapped[str] = mapped_column(sa.String(255), default="")
    implements: Mapped[list[str]] = mapped_column(default=list)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    reporting_regime: Mapped[str] = mapped_column(sa.String(255))
    reporting_regime_text: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(255), default="")

    issuer: Mapped[Unit | None] = relationship()
    supersedes: Mapped[Plan | None] = relationship(remote_side=[id], foreign_keys=[supersedes_id])
    sections: Mapped[list[Section]] = relationship(
        back_populates="plan", order_by="Section.position", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[Task]] = relationship(back_populates="plan", order_by="Task.position")
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="plan", order_by="Indicator.position"
    )

    def __repr__(self) -> str:
        return f"<Plan {self.number}>"


def is_draft_number(number: str) -> bool:
    return "…" in number or "..." in number or number.startswith("/")


class Section(Base):
    """A roman-numeral group of an appendix."""

    __tablename__ = "sections"
    __table_args__ = (sa.UniqueConstraint("plan_id", "kind", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16), default="task")
    position: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.Text)

    plan: Mapped[Plan] = relationship(back_populates="sections")


# --- tasks -----------------------------------------------------------------------------------

TASK_STATUSES = ("draft", "waiting", "in_progress", "reported", "closed", "cancelled", "superseded")
TIMING_KINDS = tuple(k.value for k in TimingKind)
FREQUENCIES = tuple(f.value for f in Frequency)
UNIT_ROLES = ("lead", "cooperating")


class Task(Timestamped, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "ref"),
        _check_in("status", TASK_STATUSES, "status"),
        _check_in("timing_kind", TIMING_KINDS, "timing_kind"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        sa.Index("ix_tasks_plan_id_status", "plan_id", "status"),  # the board's states per plan
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"))
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"))
    ref: Mapped[str] = mapped_column(sa.String(32))
    number: Mapped[str] = mapped_column(sa.String(16), default="")
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.Text)
    name_key: Mapped[str] = mapped_column(sa.Text)
    outputs: Mapped[str] = mapped_column(sa.Text, default="")
    lead_units_text: Mapped[str] = mapped_column(sa.Text, default="")
    cooperating_units_text: Mapped[str] = mapped_column(sa.Text, default="")

    timing_raw: Mapped[str] = mapped_column(sa.Text, default="")
    timing_kind: Mapped[str] = mapped_column(sa.String(16))
    timing_deadline: Mapped[date | None]
    timing_start: Mapped[date | None]
    timing_frequency: Mapped[str | None] = mapped_column(sa.String(16))
    timing_anchor_day: Mapped[int | None]
    timing_anchor_month: Mapped[int | None]
    timing_trigger: Mapped[str | None] = mapped_column(sa.Text)

    status: Mapped[str] = mapped_column(sa.String(16), default="draft", index=True)
    progress: Mapped[int] = mapped_column(default=0)
    started_on: Mapped[date | None]
    reporting_since: Mapped[date | None]  # periodic reports are owed from this day on
    closed_on: Mapped[date | None]
    trigger_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("trigger_documents.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tasks.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    section: Mapped[Section | None] = relationship()
    unit_links: Mapped[list[TaskUnit]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskUnit.position"
    )
    due_items: Mapped[list[DueItem]] = relationship(
        back_populates="task", order_by="[DueItem.due_date, DueItem.id]"
    )
    trigger_document: Mapped[TriggerDocument | None] = relationship()
    superseded_by: Mapped[Task | None] = relationship(remote_side=[id])

    @property
    def timing(self) -> Timing:
        return Timing(
            kind=TimingKind(self.timing_kind),
            raw=self.timing_raw,
            deadline=self.timing_deadline,
            start=self.timing_start,
            frequency=Frequency(self.timing_frequency) if self.timing_frequency else None,
            anchor_day=self.timing_anchor_day,
            anchor_month=self.timing_anchor_month,
            trigger=self.timing_trigger,
        )

    @timing.setter
    def timing(self, timing: Timing) -> None:
        self.timing_raw = timing.raw
        self.timing_kind = timing.kind.value
        self.timing_deadline = timing.deadline
        self.timing_start = timing.start
        self.timing_frequency = timing.frequency.value if timing.frequency else None
        self.timing_anchor_day = timing.anchor_day
        self.timing_anchor_month = timing.anchor_month
        self.timing_trigger = timing.trigger

    def units(self, role: str) -> list[Unit]:
        return [link.unit for link in self.unit_links if link.role == role]

    @property
    def lead_units(self) -> list[Unit]:
        return self.units("lead")

    @property
    def cooperating_units(self) -> list[Unit]:
        return self.units("cooperating")

    @property
    def needs_review(self) -> bool:
        """An unreadable timing is imported as it is and flagged, never guessed."""
        return self.timing_kind == TimingKind.UNKNOWN

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.ref} {self.status}>"


class UnitLink:
    """A unit's part in a task or an indicator: lead or cooperating, in the order written."""

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    position: Mapped[int] = mapped_column(default=0)

    @declared_attr
    def unit(cls) -> Mapped[Unit]:
        return relationship(lazy="joined")


class TaskUnit(UnitLink, Base):
    __tablename__ = "task_units"
    __table_args__ = (
        _check_in("role", UNIT_ROLES, "role"),
        sa.Index("ix_task_units_unit_role", "unit_id", "role"),
    )

    task_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    task: Mapped[Task] = relationship(back_populates="unit_links")


# --- indicators ------------------------------------------------------------------------------

COMPARATORS = ("≥", ">", "≤", "<", "=")


class Indicator(Timestamped, Base):
    __tablename__ = "indicators"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "ref"),
        sa.CheckConstraint(
            f"comparator IS NULL OR comparator IN ({', '.join(repr(c) for c in COMPARATORS)})",
            name="comparator",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"))
    ref: Mapped[str] = mapped_column(sa.String(32))
    number: Mapped[str] = mapped_column(sa.String(16), default="")
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str | None] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.Text)
    measure: Mapped[str] = mapped_column(sa.String(128), default="")
    target_text: Mapped[str] = mapped_column(sa.Text, default="")
    comparator: Mapped[str | None] = mapped_column(sa.String(2))
    target_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    horizon_year: Mapped[int | None]
    central_agency: Mapped[str] = mapped_column(sa.Text, default="")
    lead_units_text: Mapped[str] = mapped_column(sa.Text, default="")
    cooperating_units_text: Mapped[str] = mapped_column(sa.Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="indicators")
    section: Mapped[Section | None] = relationship()
    unit_links: Mapped[list[IndicatorUnit]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="IndicatorUnit.position"
    )

    def units(self, role: str) -> list[Unit]:
        return [link.unit for link in self.unit_links if link.role == role]


class IndicatorUnit(UnitLink, Base):
    __tablename__ = "indicator_units"
    __table_args__ = (_check_in("role", UNIT_ROLES, "role"),)

    indicator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True
    )
    indicator: Mapped[Indicator] = relationship(back_populates="unit_links")


ASSESSMENTS = ("met", "not_met")


class IndicatorValue(Base):
    """A value of an indicator for one period, as a unit reported it.

    Append-only: a correction is a new row, so an indicator's rows in order are the history of
    its values and the latest row of an (indicator, period) is that period's value
    (:mod:`workflow.indicators` refuses to change or delete a row at flush time). ``value_text``
    is what the unit wrote; ``value`` the number read from it (None when it is not one);
    ``assessment`` the reporter's judgement, given only for a target written in words.
    """

    __tablename__ = "indicator_values"
    __table_args__ = (
        sa.CheckConstraint(
            f"assessment IS NULL OR assessment IN ({', '.join(repr(a) for a in ASSESSMENTS)})",
            name="assessment",
        ),
        sa.Index("ix_indicator_values_indicator_id_period_key", "indicator_id", "period_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(sa.ForeignKey("indicators.id"))
    period_key: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    value_text: Mapped[str] = mapped_column(sa.String(255))
    assessment: Mapped[str | None] = mapped_column(sa.String(8))
    source_note: Mapped[str] = mapped_column(sa.Text, default="")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    reported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reported_at: Mapped[datetime]

    indicator: Mapped[Indicator] = relationship()
    unit: Mapped[Unit | None] = relationship()
    reported_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<IndicatorValue {self.indicator_id} {self.period_key} {self.value_text!r}>"


# --- due items, reports, extensions, triggers --------------------------------------------------

DUE_KINDS = ("deadline", "occurrence", "report")
DUE_STATUSES = ("open", "satisfied", "cancelled")


class DueItem(Timestamped, Base):
    """Everything that can be late: a deadline, a recurring occurrence, a periodic report.

    ``nominal_date`` is what the plan's text or regime says; ``due_date`` the effective date
    after the Civil Code roll-forward (and after a granted extension, whose nominal date is
    ``extended_to``). ``original_due_date`` keeps the effective date before any extension.
    Calendars, reminders, escalation and the overdue board all read these rows.
    """

    __tablename__ = "due_items"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "kind", "period_key"),
        _check_in("kind", DUE_KINDS, "kind"),
        _check_in("status", DUE_STATUSES, "status"),
        sa.Index("ix_due_items_status_due_date", "status", "due_date"),
        # A task's open items in date order. Narrow on purpose: SQLite, without statistics, takes
        # a wide index for dearer than ix_due_items_status_due_date and then walks every open
        # item of the database, in date order, to find one task's (300 ms at 100k tasks).
        sa.Index("ix_due_items_task_id_status_due_date", "task_id", "status", "due_date"),
        # Everything the overdue board reads of an item, so its counts never visit the table.
        sa.Index(
            "ix_due_items_board",
            "task_id",
            "kind",
            "status",
            "due_date",
            "satisfied_on",
            "cancelled_on",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    period_key: Mapped[str] = mapped_column(sa.String(16))
    nominal_date: Mapped[date]
    original_due_date: Mapped[date]
    due_date: Mapped[date]
    extended_to: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    satisfied_at: Mapped[datetime | None]
    satisfied_on: Mapped[date | None]
    cancelled_on: Mapped[date | None]
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    sequence: Mapped[int] = mapped_column(default=0)

    task: Mapped[Task] = relationship(back_populates="due_items")
    report: Mapped[Report | None] = relationship(
        back_populates="due_items", foreign_keys=[report_id]
    )

    def __repr__(self) -> str:
        return f"<DueItem {self.kind} {self.period_key} {self.due_date} {self.status}>"


REPORT_STATUSES = ("submitted", "accepted", "returned")


class Report(Base):
    """A lead unit's report on a task: text and progress in percent.

    The due items it satisfies point at it (a completion report can satisfy a period's report
    and the task's deadline at once); returning it reopens them.
    """

    __tablename__ = "reports"
    __table_args__ = (
        _check_in("status", REPORT_STATUSES, "status"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    # khó khăn, vướng mắc, đề xuất, kiến nghị: what the Office's consolidated report gathers
    difficulties: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    progress: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_note: Mapped[str] = mapped_column(sa.Text, default="")

    task: Mapped[Task] = relationship()
    due_items: Mapped[list[DueItem]] = relationship(
        back_populates="report", foreign_keys="DueItem.report_id", order_by="DueItem.id"
    )
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


EXTENSION_STATUSES = ("pending", "granted", "refused")


class ExtensionRequest(Base):
    """Đề nghị gia hạn: a lead unit asks for more time on one due item."""

    __tablename__ = "extension_requests"
    __table_args__ = (_check_in("status", EXTENSION_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id"), index=True)
    due_item_id: Mapped[int] = mapped_column(sa.ForeignKey("due_items.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    proposed_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    requested_at: Mapped[datetime]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    granted_date: Mapped[date | None]
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")

    task: Mapped[Task] = relationship()
    due_item: Mapped[DueItem] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])


class TriggerDocument(Base):
    """The guidance a conditional task waits for; one document can release several tasks."""

    __tablename__ = "trigger_documents"
    __table_args__ = (sa.UniqueConstraint("issuer", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(64))
    issued_on: Mapped[date]
    issuer: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


EXPLANATION_STATUSES = ("open", "answered")


class ExplanationRequest(Base):
    """Yêu cầu giải trình: leadership asks the lead unit to explain a delay, by a date.

    The question and the unit's answer both stay on the row and in the task's history.
    """

    __tablename__ = "explanation_requests"
    __table_args__ = (
        _check_in("status", EXPLANATION_STATUSES, "status"),
        sa.Index("ix_explanation_requests_status_answer_by", "status", "answer_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id"), index=True)
    question: Mapped[str] = mapped_column(sa.Text)
    answer_by: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    requested_at: Mapped[datetime]
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    task: Mapped[Task] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    def days_late(self, today: date) -> int:
        """Days past the answer date as of ``today``; 0 while the answer is not late."""
        return max((today - self.answer_by).days, 0)


# --- history ---------------------------------------------------------------------------------


class TaskEvent(Base):
    """The append-only history of a task: who did what, when, from which state to which.

    Written in the same transaction as the change it records; never updated or deleted
    (:mod:`workflow.history` refuses it at flush time).
    """

    __tablename__ = "task_events"
    __table_args__ = (sa.Index("ix_task_events_task_at", "task_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id"))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    task: Mapped[Task] = relationship()
    actor: Mapped[User | None] = relationship()


# --- calendar subscriptions ------------------------------------------------------------------

CALENDAR_SCOPES = ("unit", "person", "organisation", "plan")


class CalendarSubscription(Base):
    """A calendar feed someone subscribed to: a scope, read as its owner, at a token URL.

    Only the SHA-256 of the token is stored; the token itself is shown once, when it is made.
    A revoked subscription keeps its row (who had which feed, until when) and answers 404.
    """

    __tablename__ = "calendar_subscriptions"
    __table_args__ = (
        _check_in("scope", CALENDAR_SCOPES, "scope"),
        sa.UniqueConstraint("token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(16))
    scope_id: Mapped[int]
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


# --- reminders, escalation and notifications -------------------------------------------------

ESCALATION_KINDS = ("reminder", "escalation", "guidance")


class Escalation(Base):
    """One step of a rule that fired for one due item (or, for ``guidance``, one waiting task):
    a reminder before the date, an escalation after it, or a question to the Office whether a
    waiting task's guidance has arrived. Unique per (due item or task, step): a step fires once,
    ever, however often the sweep runs; its notifications are written in the same transaction.
    """

    __tablename__ = "escalations"
    __table_args__ = (
        _check_in("kind", ESCALATION_KINDS, "kind"),
        sa.UniqueConstraint("due_item_id", "step"),
        sa.UniqueConstraint("task_id", "step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    due_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("due_items.id"))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tasks.id"))
    step: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(16))
    days: Mapped[int]  # before or after the date, as the rule said when it fired
    counting: Mapped[str] = mapped_column(sa.String(16))  # "calendar" or "working"
    recipients: Mapped[list[str]]  # "lead_unit", "unit_head", "office", "leadership"
    rule_file: Mapped[str] = mapped_column(sa.String(255))
    fires_on: Mapped[date]
    fired_at: Mapped[datetime]

    due_item: Mapped[DueItem | None] = relationship()
    task: Mapped[Task | None] = relationship()


class Notification(Base):
    """What one person is told, in the app (the notification centre) and, when they have an
    address, by e-mail (an :class:`OutboxMessage`). ``key`` makes each notice unique: a step's
    notice to a person, a person's digest of a day."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("key"),
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(96))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    escalation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("escalations.id"))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tasks.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    task: Mapped[Task | None] = relationship()
    escalation: Mapped[Escalation | None] = relationship()


OUTBOX_STATUSES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    """An e-mail waiting to leave, written in the transaction that decided to send it.

    The sender delivers pending messages whose ``next_attempt_at`` has come, then marks them
    sent; a refusal or an unreachable server leaves the message pending with its error and a
    later attempt (back-off), until ``failed`` after the last attempt. ``message_id`` is the
    Message-ID header: a message resent after a crash between delivery and marking carries
    the same id, so mail systems can recognise the copy.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        _check_in("status", OUTBOX_STATUSES, "status"),
        sa.UniqueConstraint("message_id"),
        sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notifications.id"))
    message_id: Mapped[str] = mapped_column(sa.String(255))
    to_address: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(sa.Text, default="")

    notification: Mapped[Notification | None] = relationship()


class SchedulerLock(Base):
    """Who runs the scheduled jobs: one row per lock name, held by one process until its lease
    expires (renewed while it lives), so a second scheduler, on this machine or another, waits.
    A plain row works the same on SQLite and PostgreSQL."""

    __tablename__ = "scheduler_locks"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime]


class JobRun(Base):
    """When each scheduled job last ran: how a restarted scheduler knows what it missed (it
    runs each missed job once, not once per missed run) and what the Office sees of it."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_started_at: Mapped[datetime]
    last_finished_at: Mapped[datetime | None]
    runs: Mapped[int] = mapped_column(default=0)
    holder: Mapped[str] = mapped_column(sa.String(255), default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")


class BoardStamp(Base):
    """One row whose ``stamp`` changes, by database triggers, in every transaction that writes
    what the overdue board counts (due items, tasks, their units, plans, units): what
    :mod:`workflow.stamp_cache` keys its counts by. See migration 0007 for the triggers."""

    __tablename__ = "board_stamps"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[str] = mapped_column(sa.String(36))


class ImportUpload(Base):
    """A plan file the Office uploaded, kept between its preview and its commit (or cancel).

    Only its uploader reaches it, by an unguessable token; it is refused after a day and
    removed by the next upload; committing it removes it.
    """

    __tablename__ = "import_uploads"
    __table_args__ = (sa.UniqueConstraint("token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    plan_code: Mapped[str | None] = mapped_column(sa.String(64))
    create_units: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(index=True)

    user: Mapped[User] = relationship()
