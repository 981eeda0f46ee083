"""The one working-day calendar of every deadline (classify, the API, the screening, the register).

A day is a working day when it is Monday to Friday and not in a public holiday, or when it
is a make-up working day (调休上班). Two sources, in this order:

1. ``data/holidays.toml``: the State Council's notices, whole years at a time, as the station
   typed them. It overrides the package for its years, so a new year's notice (published in
   November) can be added before the package is updated.
2. the ``chinesecalendar`` package (import name ``chinese_calendar``), for the other years it
   covers (2004 to 2026 in version 1.11). It agrees with the file on every day of 2024-2026
   (``tests/triage/test_calendar.py``).

A year neither covers is counted Monday to Friday, and every deadline that crosses such a
year is marked *provisional* (``provisional_years``) so the station rechecks it once the
notice is added. ``strict=True`` refuses such dates instead (``CalendarError``).

Dates are accepted from ``FIRST_YEAR`` to ``LAST_YEAR`` (``check_year``); deadlines may run
two years past it. Anything else is a ``CalendarError`` (an ``InputError``), never an
``OverflowError``. Counting is a binary search in a cumulative table of working days, so a
deadline costs microseconds whatever its length.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from triage import paths
from triage.register.errors import CalendarError

FIRST_YEAR, LAST_YEAR = 2000, 2099  # the dates the library accepts (intake dates, register dates)
_FIRST = dt.date(FIRST_YEAR, 1, 1)
_END = dt.date(LAST_YEAR + 2, 12, 31)  # a deadline counted from LAST_YEAR may end up to here


@dataclass(frozen=True)
class Holiday:
    name_zh: str
    name_en: str
    first: dt.date
    last: dt.date
    makeup_workdays: tuple[dt.date, ...]


def check_year(day: dt.date, what: str = "date") -> dt.date:
    """``day`` if its year is between FIRST_YEAR and LAST_YEAR, else ``CalendarError``."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CalendarError(f"{what}: expected a date between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31, "
                            f"found {day.isoformat()}")
    return day


def _years_text(years) -> str:
    """(2004, 2005, ..., 2026) -> '2004-2026'; gaps as commas."""
    out, run = [], []
    for y in sorted(years):
        if run and y != run[-1] + 1:
            out.append(run)
            run = []
        run.append(y)
    if run:
        out.append(run)
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in out)


class WorkCalendar:
    """Working days for the covered years. Build with ``load_calendar``.

    years: the years of the holidays file; holidays: its ``Holiday`` entries; package: the
    days of the chinesecalendar package as (years, {day: holiday name}, {day: name of the
    holiday a make-up day belongs to}), used for its years that the file does not hold."""

    def __init__(self, years, holidays, notices=None, source: str = "calendar", strict: bool = False,
                 package=None):
        self.strict = strict
        self.file_years = tuple(sorted(years))
        self.holidays = tuple(holidays)
        self.notices = dict(notices or {})
        self.source = source
        pkg_years, pkg_off, pkg_makeup = package or ((), {}, {})
        own = set(self.file_years)
        self.package_years = tuple(sorted(set(pkg_years) - own))
        self.years = tuple(sorted(own | set(pkg_years)))
        self._off = {d: n for d, n in pkg_off.items() if d.year not in own}
        self._makeup = {d: n for d, n in pkg_makeup.items() if d.year not in own}
        for h in self.holidays:
            day = h.first
            while day <= h.last:
                self._off[day] = h.name_zh
                day += dt.timedelta(days=1)
            for m in h.makeup_workdays:
                self._makeup[m] = h.name_zh
        self._cum = None

    # ---- the table -------------------------------------------------------------------------
    def _table(self) -> np.ndarray:
        """cum[i]: working days from FIRST_YEAR-01-01 up to and including day i."""
        if self._cum is None:
            base, n = _FIRST.toordinal(), _END.toordinal() - _FIRST.toordinal() + 1
            work = (np.arange(base, base + n) - 1) % 7 < 5  # ordinal 1 (0001-01-01) was a Monday
            for day in self._off:
                if _FIRST <= day <= _END:
                    work[day.toordinal() - base] = False
            for day in self._makeup:
                if _FIRST <= day <= _END:
                    work[day.toordinal() - base] = True
            self._cum = np.cumsum(work, dtype=np.int64)
        return self._cum

    def _index(self, day: dt.date) -> int:
        if not _FIRST <= day <= _END:
            raise CalendarError(f"{day.isoformat()} is outside the working-day calendar "
                                f"({_FIRST.isoformat()} to {_END.isoformat()})")
        return day.toordinal() - _FIRST.toordinal()

    # ---- questions ---------------------------------------------------------------------------
    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def provisional_years(self, start: dt.date, end: dt.date) -> list[int]:
        """Years between ``start`` and ``end`` whose holidays are known to neither source
        (counted Monday to Friday)."""
        lo, hi = sorted((start, end))
        covered = set(self.years)
        return [y for y in range(lo.year, hi.year + 1) if y not in covered]

    def _check(self, day: dt.date) -> None:
        if self.strict and day.year not in self.years:
            raise CalendarError(
                f"the holiday calendar covers the years {_years_text(self.years)}; {day.isoformat()} is outside it. "
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
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
            raise CalendarError(f"a deadline needs at least 1 working day, found {days!r}")
        self._check(start)
        cum = self._table()
        target = int(cum[self._index(start)]) + int(days)
        if target > int(cum[-1]):
            raise CalendarError(f"{days} working days after {start.isoformat()} is beyond the working-day "
                                f"calendar (it ends {_END.isoformat()})")
        end = dt.date.fromordinal(_FIRST.toordinal() + int(np.searchsorted(cum, target, side="left")))
        self._check(end)
        return end

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when ``end`` is
        before ``start``), so that ``working_days_between(d, add_working_days(d, n)) == n``."""
        self._check(start)
        self._check(end)
        cum = self._table()
        return int(cum[self._index(end)] - cum[self._index(start)])


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise CalendarError(f"{where}: expected a TOML date like 2025-10-01, found {value!r}")


def parse_calendar(raw: dict, source: str = "calendar", strict: bool = False, package=None) -> WorkCalendar:
    """Check a holidays file's content (see data/holidays.toml); ``package``: see ``WorkCalendar``."""
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
    return WorkCalendar(years, holidays, notices, source, strict, package)


@lru_cache(maxsize=1)
def package_days() -> tuple[tuple[int, ...], dict, dict]:
    """The years the chinesecalendar package covers, its holidays and its make-up working
    days (both by Chinese holiday name); no years when the package is missing."""
    try:
        import chinese_calendar as cc
    except ImportError:  # pragma: no cover - a declared dependency; the file still works alone
        return (), {}, {}
    zh = {h.value: h.chinese for h in cc.Holiday}
    years = []
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        try:
            cc.is_workday(dt.date(y, 6, 1))
        except NotImplementedError:  # the package's own word: no data for that year
            continue
        years.append(y)
    covered = set(years)
    off = {d: zh.get(n, n) for d, n in cc.holidays.items() if d.year in covered}
    makeup = {d: zh.get(n, n) for d, n in cc.workdays.items() if d.year in covered and d.weekday() >= 5}
    return tuple(years), off, makeup


def load_calendar(path: str | Path | None = None, strict: bool = False, package: bool = True) -> WorkCalendar:
    """The calendar: a holidays file (default: ``holidays.toml`` of the data folder) over the
    chinesecalendar package (``package=False``: the file alone)."""
    path = Path(path) if path else paths.data_dir() / "holidays.toml"
    return _load(str(path.resolve()), strict, package)


@lru_cache(maxsize=8)
def _load(path: str, strict: bool = False, package: bool = True) -> WorkCalendar:
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalendarError(f"holiday calendar not found: {name}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CalendarError(f"holiday calendar {name} is not valid UTF-8 TOML: {exc}") from None
    return parse_calendar(raw, name, strict, package_days() if package else None)
