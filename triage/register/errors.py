"""Errors of the register. All are ``TriageError`` subclasses, so the CLI prints them as one
``Error: ...`` line (exit code 2) and the service turns them into a 4xx JSON error."""
from __future__ import annotations

from triage.errors import InputError, TriageError


class RegisterError(TriageError):
    """The register database is missing, not initialised, or at another schema revision."""


class NotFoundError(TriageError):
    """No suggestion with that number or code."""


class CalendarError(InputError):
    """A date lies outside the years the holiday calendar covers, or the calendar file is bad."""


class TransitionError(TriageError):
    """The action is not allowed from the suggestion's current status."""

    def __init__(self, message: str, *, current: str, allowed: list[str], attempted: str):
        super().__init__(message)
        self.current, self.allowed, self.attempted = current, allowed, attempted


class ConflictError(TriageError):
    """Another client changed the suggestion since the caller read it (optimistic version check)."""

    def __init__(self, message: str, *, expected: int | None, current: int | None):
        super().__init__(message)
        self.expected, self.current = expected, current
