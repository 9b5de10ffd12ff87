"""Plans as the Office reads them: the list of an organisation's plans, and one plan laid out
like its appendix — sections in order, each task with its STT, units, timing as written and as
read, and state — in a fixed number of queries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from workflow.board import organisation_unit_ids
from workflow.errors import NotFound
from workflow.indicators import IndicatorStanding, indicator_standings
from workflow.messages import N_, Message
from workflow.models import Plan, Section, Task, TaskUnit, User
from workflow.pagination import PER_PAGE, Page, paginate
from workflow.permissions import Action, require, require_organisation
from workflow.queries import name_matches, search_words


@dataclass(frozen=True)
class PlanSummary:
    plan: Plan
    states: Counter[str]

    @property
    def tasks(self) -> int:
        return sum(self.states.values())


@dataclass(frozen=True)
class AppendixSection:
    section: Section | None  # None: tasks listed before any section row
    tasks: list[Task]


@dataclass(frozen=True)
class PlanAppendix:
    plan: Plan
    superseded_by: Plan | None
    sections: list[AppendixSection]
    indicators: list[IndicatorStanding]  # as of the day the page is read
    drafts: int  # tasks not started yet, whatever ``words`` shows


def plans_for(
    session: Session, user: User, page: int = 1, per_page: int = PER_PAGE
) -> Page[PlanSummary]:
    """The plans of the user's organisation (every plan for an administrator), newest first,
    a page at a time."""
    require(user, Action.VIEW)
    query = sa.select(Plan).order_by(Plan.issued_on.desc().nulls_last(), Plan.id.desc())
    unit_ids = organisation_unit_ids(session, user)
    if unit_ids is not None:
        query = query.where(
            sa.or_(Plan.issuer_unit_id.in_(unit_ids), Plan.issuer_unit_id.is_(None))
        )
    found = paginate(session, query, page, per_page, scalars=True)
    return found.map(lambda plans: _summaries(session, plans))


def _summaries(session: Session, plans: list[Plan]) -> list[PlanSummary]:
    counts: dict[int, Counter[str]] = {plan.id: Counter() for plan in plans}
    rows = session.execute(
        sa.select(Task.plan_id, Task.status, sa.func.count())
        .where(Task.plan_id.in_(list(counts)))
        .group_by(Task.plan_id, Task.status)
    )
    for plan_id, status, count in rows:
        counts[plan_id][status] = count
    return [PlanSummary(plan, counts[plan.id]) for plan in plans]


def plan_appendix(
    session: Session, user: User, code: str, today: date, words: str = ""
) -> PlanAppendix:
    """The plan ``code`` as its appendix reads; with ``words``, only the tasks whose name has
    them, still under their sections (sections left without a task are dropped). Its
    indicators with their latest values as of ``today``."""
    plan = session.scalar(
        sa.select(Plan).where(Plan.code == code).options(selectinload(Plan.sections))
    )
    if plan is None:
        raise NotFound(N_("plan %(plan)s does not exist"), plan=repr(code))
    require(user, Action.VIEW)
    require_organisation(user, plan.issuer, Message(N_("see plan %(plan)s"), plan=plan.number))
    tasks = session.scalars(
        sa.select(Task)
        .where(Task.plan_id == plan.id, name_matches(words))
        .order_by(Task.position, Task.id)
        .options(selectinload(Task.unit_links).joinedload(TaskUnit.unit))
    ).all()
    by_section: dict[int | None, list[Task]] = {}
    for task in tasks:
        by_section.setdefault(task.section_id, []).append(task)
    sections = [AppendixSection(None, by_section[None])] if None in by_section else []
    sections += [
        AppendixSection(section, by_section.get(section.id, []))
        for section in plan.sections
        if section.kind == "task" and (section.id in by_section or not search_words(words))
    ]
    successor = session.scalar(sa.select(Plan).where(Plan.supersedes_id == plan.id))
    drafts = session.scalar(
        sa.select(sa.func.count()).where(Task.plan_id == plan.id, Task.status == "draft")
    )
    return PlanAppendix(
        plan, successor, sections, indicator_standings(session, plan.id, today), drafts
    )
