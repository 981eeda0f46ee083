"""The confirmed problems a suggestion or motion is created from (read by ``problems`` from
a problems file, or by ``screening_workbook`` from the deputies' filled screening workbook)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConfirmedProblem:
    text: str
    category: str | None = None
    tier: str | None = None
    enterprises: tuple[str, ...] = ()
    opinion_ids: tuple[str, ...] = ()
    problem_id: str | None = None
    source: str | None = None


@dataclass
class ProblemSet:
    problems: list[ConfirmedProblem]
    source: str
    not_confirmed: list[str] = field(default_factory=list)  # ids (or row numbers) left out
