"""Pages of a long list: one COUNT and one LIMIT/OFFSET query, whatever the list's length.

Every list pages the same way: a page number below 1 is page 1 and one beyond the last is the
last page (an empty list has one, empty, page), so a stale or hand-edited link still shows
something sensible rather than an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

PER_PAGE = 50
T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def map(self, build: Callable[[list[T]], Sequence[U]]) -> Page[U]:
        """The same page with its items made into something else (all at once, not per row)."""
        return replace(self, items=list(build(self.items)))  # type: ignore[arg-type]


def page_number(raw: str | None) -> int:
    """A page number from a query string: anything that is not a whole number is page 1."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def paginate(
    session: Session,
    query: sa.Select,
    page: int = 1,
    per_page: int = PER_PAGE,
    *,
    scalars: bool = False,
    total: int | None = None,
) -> Page[Any]:
    """Page ``page`` of ``query`` (which must be ordered), clamped to the pages there are.

    ``scalars`` returns the first column of each row (ORM entities) rather than rows; ``total``
    is the number of rows of ``query`` when the caller has already counted them (no COUNT then).
    """
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, not {per_page}")
    if total is None:
        counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        total = session.scalar(counted) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    if total == 0:
        return Page([], page, per_page, 0)
    result = session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars() if scalars else result.all())
    return Page(items, page, per_page, total)
