"""What every service needs, bundled: the session, the clock, the working calendar, the rules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from workflow.clock import Clock, SystemClock, local_date
from workflow.config import Settings, load_settings
from workflow.db import Database
from workflow.due import Generation
from workflow.rules import Rules, load_rules
from workflow.workdays import WorkingCalendar


@dataclass
class Context:
    session: Session
    clock: Clock
    calendar: WorkingCalendar
    settings: Settings
    rules: Rules

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return local_date(self.clock.now())

    def generation(self) -> Generation:
        return Generation(
            today=self.today(),
            horizon_months=self.settings.horizon_months,
            rules=self.rules,
            calendar=self.calendar,
        )


class Engine:
    """The engine as one object: settings, database and rules, loaded once per process."""

    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or load_settings()
        self.clock = clock or SystemClock()
        self.rules = load_rules(self.settings.rules_dir)
        self.calendar = WorkingCalendar(
            self.settings.extra_days_off, self.settings.extra_working_days
        )
        self.database = Database(self.settings.database_url)

    @contextmanager
    def context(self, write: bool = True) -> Iterator[Context]:
        with self.database.unit_of_work(write=write) as session:
            yield self.context_for(session)

    def context_for(self, session: Session) -> Context:
        return Context(session, self.clock, self.calendar, self.settings, self.rules)

    def close(self) -> None:
        self.database.dispose()
