"""The working-day calendar: Chinese public holidays and make-up working days (调休上班).

A day is a working day when it is Monday to Friday and not in a public holiday, or when it
is a make-up working day. The holidays are data (``data/holidays.toml``), one entry per
holiday as published by the General Office of the State Council, whole years at a time.

A year the file does not cover yet (the notice for next year is usually published in
November) is counted Monday to Friday, and every deadline that crosses such a year is marked
*provisional* (``provisional_years``) so the station rechecks it once the notice is added.
``strict=True`` refuses such dates instead (``CalendarError``).
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from triage import paths
from triage.register.errors import CalendarError


@dataclass(frozen=True)
class Holiday:
    name_zh: str
    name_en: str
    first: dt.date
    last: dt.date
    makeup_workdays: tuple[dt.date, ...]


class WorkCalendar:
    """Working days for the covered years. Build with ``load_calendar``."""

    def __init__(self, years, holidays, notices=None, source: str = "calendar", strict: bool = False):
        self.strict = strict
        self.years = tuple(sorted(years))
        self.holidays = tuple(holidays)
        self.notices = dict(notices or {})
        self.source = source
        self._off: dict[dt.date, str] = {}
        self._makeup: dict[dt.date, str] = {}
        for h in self.holidays:
            day = h.first
            while day <= h.last:
                self._off[day] = h.name_zh
                day += dt.timedelta(days=1)
            for m in h.makeup_workdays:
                self._makeup[m] = h.name_zh

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def provisional_years(self, start: dt.date, end: dt.date) -> list[int]:
        """Years between ``start`` and ``end`` whose holidays are not in the file (counted Monday to Friday)."""
        lo, hi = sorted((start, end))
        return [y for y in range(lo.year, hi.year + 1) if y not in self.years]

    def _check(self, day: dt.date) -> None:
        if day.year not in self.years and self.strict:
            covered = ", ".join(str(y) for y in self.years)
            raise CalendarError(
                f"the holiday calendar covers the years {covered}; {day.isoformat()} is outside it. "
                f"Add the State Council's holiday notice for {day.year} to {self.source} "
                f"(or give the deadline as a date)")

    def is_working_day(self, day: dt.date) -> bool:
        self._check(day)
        if day in self._makeup:
            return True
        if day in self._off:
            return False
        return day.weekday() < 5

    def describe(self, day: dt.date) -> str:
        """'working day', 'weekend', 'holiday 春节' or 'make-up working day (春节)'."""
        self._check(day)
        if day in self._makeup:
            return f"make-up working day ({self._makeup[day]})"
        if day in self._off:
            return f"holiday {self._off[day]}"
        return "working day" if day.weekday() < 5 else "weekend"

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise CalendarError(f"a deadline needs at least 1 working day, found {days!r}")
        self._check(start)
        day, left = start, days
        while left:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when ``end`` is
        before ``start``), so that ``working_days_between(d, add_working_days(d, n)) == n``."""
        if end < start:
            return -self.working_days_between(end, start)
        self._check(start)
        self._check(end)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise CalendarError(f"{where}: expected a TOML date like 2025-10-01, found {value!r}")


def parse_calendar(raw: dict, source: str = "calendar", strict: bool = False) -> WorkCalendar:
    years = raw.get("years")
    if not isinstance(years, list) or not years or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
        raise CalendarError(f"{source}: expected 'years = [2024, 2025, ...]', found {years!r}")
    if len(set(years)) != len(years):
        raise CalendarError(f"{source}: duplicate years in {years}")
    entries = raw.get("holidays")
    if not isinstance(entries, list):
        raise CalendarError(f"{source}: expected [[holidays]] entries, found {type(entries).__name__}")
    holidays, seen_days = [], {}
    for i, e in enumerate(entries):
        where = f"{source}: holidays[{i}]"
        if not isinstance(e, dict):
            raise CalendarError(f"{where}: expected a table, found {e!r}")
        first, last = _date(e.get("first"), f"{where}.first"), _date(e.get("last"), f"{where}.last")
        name = str(e.get("name_zh") or "").strip()
        if not name:
            raise CalendarError(f"{where}: missing 'name_zh'")
        if last < first:
            raise CalendarError(f"{where} ({name}): 'last' {last} is before 'first' {first}")
        for d in (first, last):
            if d.year not in years:
                raise CalendarError(f"{where} ({name}): {d} is outside the covered years {years}")
        length = (last - first).days + 1
        if e.get("days") != length:
            raise CalendarError(f"{where} ({name}): {first} to {last} is {length} days, but 'days' says {e.get('days')!r}")
        makeup = tuple(_date(m, f"{where}.makeup_workdays") for m in e.get("makeup_workdays", []))
        for m in makeup:
            if m.weekday() < 5:
                raise CalendarError(f"{where} ({name}): make-up working day {m} is a {m:%A}, expected a Saturday or Sunday")
            if m.year not in years:
                raise CalendarError(f"{where} ({name}): make-up working day {m} is outside the covered years {years}")
        day = first
        while day <= last:
            if day in seen_days:
                raise CalendarError(f"{where} ({name}): {day} is already in holiday {seen_days[day]}")
            seen_days[day] = name
            day += dt.timedelta(days=1)
        holidays.append(Holiday(name, str(e.get("name_en", "")), first, last, makeup))
    clash = sorted(set(m for h in holidays for m in h.makeup_workdays) & set(seen_days))
    if clash:
        raise CalendarError(f"{source}: {clash[0]} is both a holiday and a make-up working day")
    notices = {int(k): str(v) for k, v in (raw.get("notices") or {}).items()}
    return WorkCalendar(years, holidays, notices, source, strict)


def load_calendar(path: str | Path | None = None, strict: bool = False) -> WorkCalendar:
    """Read and check a holidays file (default: ``holidays.toml`` of the data folder)."""
    path = Path(path) if path else paths.data_dir() / "holidays.toml"
    return _load(str(path.resolve()), strict)


@lru_cache(maxsize=8)
def _load(path: str, strict: bool = False) -> WorkCalendar:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalendarError(f"holiday calendar not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CalendarError(f"holiday calendar {path} is not valid UTF-8 TOML: {exc}") from None
    return parse_calendar(raw, path, strict)
