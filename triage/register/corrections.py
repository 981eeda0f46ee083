"""Correcting a date typed wrong (issue 13): the history stays append-only.

``Register.correct_date(ref, on, reason=..., actor=...)`` appends one ``correct_date`` event
that names the change it corrects (``corrects_version``, default: the latest change), its
old and new date (``effective_on``) and the reason (the note). The dates derived from that
change are set again: ``created_on`` (and, when the year changes, the code: S-2024-007
created on a mistaken 2024 date becomes the next free S-2025 number; the old code still
finds it), ``raised_on``, ``answered_on``, ``closed_on``, and a deadline counted in working
days from it. The corrected date must lie between the dates of the changes before and
after it, and not in the future. The events themselves are never changed.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from triage.errors import InputError
from triage.register.base import CORRECTION, effective_dates, register_date, text_value
from triage.register.errors import ConflictError
from triage.register.models import Suggestion
from triage.register.states import KINDS
from triage.register.views import to_json

DERIVED = ("raised_on", "answered_on", "closed_on")


def target_version(s: Suggestion, version) -> int:
    dates = effective_dates(s.events)
    if version is None:
        return max(dates)
    if isinstance(version, bool) or not isinstance(version, int) or version not in dates:
        changes = ", ".join(f"{v} ({dates[v]})" for v in sorted(dates))
        raise InputError(f"event: expected the version of a recorded change of {s.code} ({changes}), "
                         f"found {version!r}")
    return version


def check_day(reg, s: Suggestion, version: int, on) -> dt.date:
    """The corrected date of change ``version``: in range, not in the future, and in order."""
    today = reg.today()
    day = register_date(on, "date", today)
    if day > today:
        raise InputError(f"date {day} is in the future (today is {today}); a corrected date is a past one")
    dates = effective_dates(s.events)
    if dates[version] == day:
        raise InputError(f"change v{version} of {s.code} is already dated {day}; nothing to correct")
    before = [d for v, d in dates.items() if v < version]
    after = [d for v, d in dates.items() if v > version]
    if before and day < max(before):
        raise InputError(f"date {day} is before the change before it ({max(before)}); the history is kept in order")
    if after and day > min(after):
        raise InputError(f"date {day} is after the change after it ({min(after)}); the history is kept in order")
    return day


def apply(reg, ses, s: Suggestion, version: int, day: dt.date, changes: dict) -> None:
    """Record what the correction changes, and set the derived dates again."""
    events = {e.version: e for e in s.events}
    old = effective_dates(s.events)[version]
    changes["corrects_version"] = [None, version]
    changes["effective_on"] = [to_json(old), to_json(day)]
    event = events[version]
    if event.action == "create":
        reg._set(s, changes, "created_on", day)
        if day.year != s.year:
            with ses.no_autoflush:  # one UPDATE for the whole correction: one version
                seq = (ses.scalar(select(func.max(Suggestion.seq)).where(
                    Suggestion.kind == s.kind, Suggestion.year == day.year)) or 0) + 1
            reg._set(s, changes, "code", f"{KINDS[s.kind][1]}-{day.year}-{seq:03d}")
            reg._set(s, changes, "year", day.year)
            reg._set(s, changes, "seq", seq)
    recorded = event.changes or {}
    for name in DERIVED:
        if name in recorded and getattr(s, name) == old:
            reg._set(s, changes, name, day)
    setting_deadline = [v for v, e in events.items() if e.action != CORRECTION and "deadline" in (e.changes or {})]
    if setting_deadline and max(setting_deadline) == version and s.working_days is not None:
        reg._set_deadline(s, changes, day, None, s.working_days)


def correct_date(reg, ref, on, *, reason, actor, event=None, expected_version=None) -> dict:
    reason = text_value(reason, "reason", 500)
    picked = {}

    def day_of(ses, s):
        picked["version"] = target_version(s, event)
        return check_day(reg, s, picked["version"], on)

    def change(s, day, changes):
        apply(reg, object_session(s), s, picked["version"], day, changes)

    try:
        return reg._change(ref, CORRECTION, actor, expected_version, None, change, reason, day_of=day_of)
    except IntegrityError:  # another client took the same new number at the same moment
        raise ConflictError("another suggestion took the same number at the same time; try again",
                            expected=expected_version, current=None) from None
