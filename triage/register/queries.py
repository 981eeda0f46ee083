"""Filters for listing the register: overdue, due within N days, by deputy, by agency ..."""
from __future__ import annotations

import datetime as dt

from triage.errors import InputError
from triage.register.states import OPEN_STATUSES, parse_kind, parse_status

MAX_DAYS = 36500  # a hundred years: further than any deadline, and still a date


def filter_views(views: list[dict], today: dt.date, *, status=None, kind=None, overdue: bool = False,
                 due_within: int | None = None, deputy: str | None = None, agency: str | None = None,
                 year: int | None = None, category: str | None = None, tier: str | None = None) -> list[dict]:
    """Keep the suggestions matching every filter given.

    ``overdue``: still owed an answer (assigned, in progress or look-back) and past the deadline.
    ``due_within``: still owed an answer and due today or within that many calendar days.
    ``deputy`` / ``agency``: part of a responsible deputy's or the deputy group's name /
    of the lead agency's or a co-organiser's name. ``year``: the year it was raised
    (assigned), or created for drafts. ``category`` / ``tier``: code or Chinese name."""
    statuses = {parse_status(s) for s in ([status] if isinstance(status, str) else status or [])}
    kind = parse_kind(kind) if kind else None
    if due_within is not None and (isinstance(due_within, bool) or not isinstance(due_within, int)
                                   or not 0 <= due_within <= MAX_DAYS):
        raise InputError(f"due within: expected a number of days from 0 to {MAX_DAYS}, found {due_within!r}")
    out = []
    for v in views:
        deadline = dt.date.fromisoformat(v["deadline"]) if v["deadline"] else None
        if statuses and v["status"] not in statuses:
            continue
        if kind and v["kind"] != kind:
            continue
        if overdue and not v["overdue"]:
            continue
        if due_within is not None and not (v["status"] in OPEN_STATUSES and deadline is not None
                                           and today <= deadline <= today + dt.timedelta(days=due_within)):
            continue
        if deputy and not any(deputy.strip() in name for name in v["deputies"] + [v["deputy_group"] or ""]):
            continue
        if agency and not any(agency.strip() in name for name in [v["lead_agency"] or ""] + v["co_organisers"]):
            continue
        if year and int((v["raised_on"] or v["created_on"])[:4]) != int(year):
            continue
        if category and category not in (v["category"], v["category_zh"]):
            continue
        if tier and tier not in (v["tier"], v["tier_zh"]):
            continue
        out.append(v)
    if overdue or due_within is not None:
        out.sort(key=lambda v: (v["deadline"] or "9999", v["id"]))
    return out
