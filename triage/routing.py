"""Routing: the three clarities of an assignment (lead agency, deadline, deputy).

The deadline counts the tier's ``deadline_days`` in working days from the intake date, with
the same calendar as the register (``triage.calendar``: public holidays and make-up working
days), so ``triage classify``, the API, the screening and the register give one date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from triage.calendar import FIRST_YEAR, LAST_YEAR, load_calendar
from triage.errors import InputError
from triage.taxonomy import Taxonomy


@dataclass(frozen=True)
class Routing:
    lead_agency: str
    lead_agency_en: str
    deadline_days: int
    deadline: str | None  # ISO date, None when no intake date was given
    deputy: str | None


def _in_range(day: dt.date, field: str, text=None) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        found = (text or day.isoformat())[:40]
        raise InputError(f"{field}: expected a date between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31, "
                         f"found {found!r}")
    return day


FIRST_DATE, LAST_DATE = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)  # the dates the calendar can route


def parse_date(value: object, field: str = "intake date", within: bool = True) -> dt.date | None:
    """Accept a date, a datetime, or text such as 2025-06-25, 2025/6/25, 2025.06.25,
    2025年6月25日 or 20250625; empty means no date. Dates outside ``FIRST_DATE``..``LAST_DATE``
    are refused unless ``within`` is False (a caller that words its own message)."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return _in_range(value.date(), field) if within else value.date()
    if isinstance(value, dt.date):
        return _in_range(value, field) if within else value
    text = str(value).strip()
    if not text:
        return None
    head = text.split("T")[0].split(" ")[0]
    for src, dst in (("年", "-"), ("月", "-"), ("日", ""), ("/", "-"), (".", "-")):
        head = head.replace(src, dst)
    try:
        if head.isdigit() and len(head) == 8:
            day = dt.date(int(head[:4]), int(head[4:6]), int(head[6:]))
        else:
            y, m, d = (int(p) for p in head.split("-"))
            day = dt.date(y, m, d)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"{field}: expected a date like 2025-06-25, found {text[:40]!r}") from None
    return _in_range(day, field, text) if within else day


@lru_cache(maxsize=65536)
def working_deadline(start: dt.date, days: int) -> dt.date:
    """``days`` working days after ``start`` in the default calendar (memoised: a batch of a
    month's opinions has a few dozen distinct dates)."""
    return load_calendar().add_working_days(start, days)


def route(taxonomy: Taxonomy, category: str | None, tier: str, intake_date=None, deputy: str | None = None, *,
          subtopic: str | None = None, kind: str | None = None) -> Routing:
    """Lead agency from the subtopic when it names one, else from the category; for an
    out-of-scope ``kind`` (no category), the agency to refer it to. Deadline from the tier
    counted in working days from the intake date. A date outside the calendar raises ``InputError``."""
    if kind:
        k = taxonomy.kind(kind)
        agency, agency_en = k.referral_zh, k.referral_en
    else:
        cat = taxonomy.category(category)
        sub = taxonomy.subtopic(subtopic) if subtopic else None
        if sub is not None and sub.lead_agency_zh:
            agency, agency_en = sub.lead_agency_zh, sub.lead_agency_en or cat.lead_agency_en
        else:
            agency, agency_en = cat.lead_agency_zh, cat.lead_agency_en
    t = taxonomy.tier(tier)
    start = parse_date(intake_date)
    deadline = working_deadline(start, t.deadline_days).isoformat() if start else None
    return Routing(
        lead_agency=agency,
        lead_agency_en=agency_en,
        deadline_days=t.deadline_days,
        deadline=deadline,
        deputy=(str(deputy).strip() or None) if deputy is not None else None,
    )
