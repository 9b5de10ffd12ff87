"""Errors a user can cause. Each carries one message fit to show as it is."""

from __future__ import annotations


class NhiemvuError(Exception):
    """Base of every error that is the user's to fix, not a bug."""


class NotFound(NhiemvuError):
    pass


class PermissionDenied(NhiemvuError):
    pass


class IllegalTransition(NhiemvuError):
    pass


class Conflict(NhiemvuError):
    """Someone else changed the record since it was read: reload and try again."""


class InvalidInput(NhiemvuError):
    pass


class ConfigError(NhiemvuError):
    pass


class ImportFailed(NhiemvuError):
    """An import found problems; nothing was written. ``problems`` names each row and column."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}, nothing imported")

    def __str__(self) -> str:
        return "\n".join([super().__str__(), *(f"  {p}" for p in self.problems)])
