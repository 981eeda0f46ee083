"""The register's machinery under every action (``core.Register``): the connection, the
transaction, finding a suggestion, checking dates and codes, and the one path every change
goes through (``_change``).

``_change``: load, check the optimistic version the caller read (``expected_version``),
check the status machine, apply, append one event (who, when, what), commit. The
``version`` column is also checked by the UPDATE itself, so two clients racing on the same
suggestion cannot both win: the loser gets ``ConflictError`` (a caller that gave no version
is retried on fresh data instead, so its change is applied after the other one, never over it).

Dates: every date the register is given lies between 2000-01-01 and the end of next year
(``register_date``); a date of the past that was typed wrong is corrected with a recorded
correction (``corrections``), never by editing the history.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from triage import paths
from triage.calendar import load_calendar
from triage.errors import InputError
from triage.register.db import database_url, make_engine
from triage.register.errors import ConflictError, NotFoundError
from triage.register.migrate import check_current
from triage.register.models import Event, Suggestion
from triage.register.views import suggestion_view, to_json
from triage.routing import parse_date
from triage.taxonomy import load_taxonomy
from triage.text import clean

CHINA = dt.timezone(dt.timedelta(hours=8))  # no daylight saving time
FIRST_DAY = dt.date(2000, 1, 1)
CORRECTION = "correct_date"  # the action of a date correction (see ``corrections``)


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def text_value(value, what: str, limit: int | None = None) -> str:
    text = clean(value)
    if not text:
        raise InputError(f"{what}: expected text, found nothing")
    if limit and len(text) > limit:
        raise InputError(f"{what}: expected at most {limit} characters, found {len(text)}")
    return text


def names(values, what: str) -> list[str]:
    out = []
    for v in values or ():
        v = str(v).strip()
        if v and v not in out:
            out.append(text_value(v, what, 200))
    return out


def register_date(value, what: str, today: dt.date) -> dt.date:
    """A date for the register: from 2000-01-01 to the end of next year, else ``InputError``."""
    last = dt.date(today.year + 1, 12, 31)
    expected = f"{what}: expected a date between {FIRST_DAY} and {last}"
    try:
        day = parse_date(value, what)
    except InputError as exc:
        if "expected a date between" in str(exc):
            raise InputError(f"{expected}, found {str(value)[:40]!r}") from None
        raise
    if day is None:
        raise InputError(f"{expected}, found nothing")
    if not FIRST_DAY <= day <= last:
        raise InputError(f"{expected}, found {day.isoformat()!r}")
    return day


def effective_dates(events) -> dict[int, dt.date]:
    """The date each change happened (by the version it produced), after the recorded corrections."""
    out = {e.version: e.effective_on for e in events if e.action != CORRECTION}
    for e in sorted(events, key=lambda e: e.version):
        if e.action == CORRECTION:
            target = (e.changes or {}).get("corrects_version", [None, None])[1]
            if target in out:
                out[target] = e.effective_on
    return out


class RegisterBase:
    """Connection, transactions and checks; the actions are in ``core.Register``."""

    def __init__(self, db=None, *, taxonomy=None, calendar=None, today=None, check: bool = True):
        self.url = database_url(db)
        self.engine = make_engine(self.url)
        try:
            if check:
                check_current(self.engine, self.url)
        except Exception:
            self.engine.dispose()
            raise
        self._taxonomy, self._calendar = taxonomy, calendar
        self.today = today or today_in_china
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def taxonomy(self):
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(paths.taxonomy_path())
        return self._taxonomy

    @property
    def calendar(self):
        if self._calendar is None:
            self._calendar = load_calendar()
        return self._calendar

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def session(self):
        """A transaction; a stale optimistic version at flush or commit becomes ``ConflictError``."""
        ses = self._sessions()
        try:
            yield ses
            ses.commit()
        except StaleDataError:
            ses.rollback()
            raise ConflictError("the suggestion was changed by another client at the same time; "
                                "reload it and try again", expected=None, current=None) from None
        except BaseException:
            ses.rollback()
            raise
        finally:
            ses.close()

    # ---- finding and checking ------------------------------------------------------------
    def _load(self, ses, ref) -> Suggestion:
        text = str(ref).strip()
        if text.isascii() and text.isdigit():  # not '¹': isdigit() alone lets it through to int()
            number = int(text)
            s = ses.get(Suggestion, number) if number < 2**63 else None  # beyond a database integer
        else:
            s = ses.scalar(select(Suggestion).where(Suggestion.code == text.upper()))
            if s is None:  # a code given up by a date correction still finds its suggestion
                for e in ses.scalars(select(Event).where(Event.action == CORRECTION)):
                    if (e.changes or {}).get("code", [None])[0] == text.upper():
                        s = e.suggestion
        if s is None:
            raise NotFoundError(f"no suggestion or motion {text[:40]!r} in the register (give its number or code, "
                                f"e.g. 3 or S-2025-003)")
        return s

    def _last_day(self, s: Suggestion) -> dt.date | None:
        dates = effective_dates(s.events) if s.id is not None else {}
        return max(dates.values()) if dates else None

    def _day(self, ses, s: Suggestion | None, on) -> dt.date:
        today = self.today()
        day = register_date(on, "date", today) if on not in (None, "") else today
        if day > today:
            raise InputError(f"date {day} is in the future (today is {today}); record things when they happen")
        last = self._last_day(s) if s is not None else None
        if last and day < last:
            raise InputError(f"date {day} is before the last recorded change of {s.code} ({last}); "
                             f"the history is kept in order")
        return day

    def _code(self, value, what: str):
        """Category or tier code from a code or its Chinese name."""
        tax = self.taxonomy
        entries = tax.categories if what == "category" else tax.tiers
        text = str(value or "").strip()
        for e in entries:
            if text in (e.code, e.name_zh) or text.lower() == e.code:
                return e.code
        options = ", ".join(f"{e.code} ({e.name_zh})" for e in entries)
        raise InputError(f"{what}: expected one of {options}, found {text[:40]!r}")

    def _deadline(self, start: dt.date, deadline, working_days):
        if deadline not in (None, ""):
            day = register_date(deadline, "deadline", self.today())
            if day <= start:
                raise InputError(f"deadline {day} must be after the date it is set ({start})")
            return day, None
        if isinstance(working_days, bool) or not isinstance(working_days, int) or working_days < 1:
            raise InputError(f"working days: expected a whole number of at least 1, found {working_days!r}")
        return self.calendar.add_working_days(start, working_days), working_days

    def _set_deadline(self, s, changes, start: dt.date, deadline, working_days) -> None:
        due, n = self._deadline(start, deadline, working_days)
        self._set(s, changes, "deadline", due)
        self._set(s, changes, "working_days", n)
        if n is not None:
            years = self.calendar.provisional_years(start, due)
            if years:
                changes["deadline_provisional"] = [None, (
                    f"holidays of {', '.join(map(str, years))} are not in the calendar yet: counted Monday to Friday; "
                    f"recheck the deadline once the State Council's notice is added / 假期安排尚未录入，按周一至周五计算，待公布后复核")]

    def _view(self, s: Suggestion, full: bool = True) -> dict:
        return suggestion_view(s, self.taxonomy, self.today(), full=full)

    @staticmethod
    def _set(s: Suggestion, changes: dict, name: str, value) -> None:
        old = getattr(s, name)
        if old != value:
            changes[name] = [to_json(old), to_json(value)]
            setattr(s, name, value)

    # ---- the one path of every change ------------------------------------------------------
    def _change(self, ref, action: str, actor, expected_version, on, apply, note=None, day_of=None) -> dict:
        """day_of(ses, s) -> the date of the change (default: ``on`` checked by ``_day``)."""
        actor = text_value(actor, "who (actor)", 120)
        if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)):
            raise InputError(f"version: expected a whole number, found {expected_version!r}")
        day_of = day_of or (lambda ses, s: self._day(ses, s, on))
        attempts = 1 if expected_version is not None else 5
        for attempt in range(attempts):
            try:
                with self.session() as ses:
                    s = self._load(ses, ref)
                    if expected_version is not None and s.version != expected_version:
                        raise ConflictError(
                            f"{s.code} is at version {s.version}, but this change was based on version "
                            f"{expected_version}: someone else changed it meanwhile; reload it and try again",
                            expected=expected_version, current=s.version)
                    day, before, changes = day_of(ses, s), s.status, {}
                    apply(s, day, changes)
                    stamp = now()
                    s.updated_at = stamp  # always an UPDATE, so the version is checked and bumped
                    ses.add(Event(suggestion=s, version=s.version + 1, at=stamp, effective_on=day, actor=actor,
                                  action=action, status_from=before, status_to=s.status, changes=changes,
                                  note=note))
                    ses.flush()
                    return self._view(s)
            except ConflictError:
                if attempt + 1 >= attempts:
                    raise
        raise AssertionError("unreachable")
