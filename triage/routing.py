"""Routing: the three clarities of an assignment (lead agency, deadline, deputy)."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from triage.errors import InputError
from triage.taxonomy import Taxonomy


@dataclass(frozen=True)
class Routing:
    lead_agency: str
    lead_agency_en: str
    deadline_days: int
    deadline: str | None  # ISO date, None when no intake date was given
    deputy: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def parse_date(value: object, field: str = "intake date") -> dt.date | None:
    """Accept a date, a datetime, or text such as 2025-06-25, 2025/6/25, 2025.06.25,
    2025年6月25日 or 20250625; empty means no date."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    head = text.split("T")[0].split(" ")[0]
    for src, dst in (("年", "-"), ("月", "-"), ("日", ""), ("/", "-"), (".", "-")):
        head = head.replace(src, dst)
    try:
        if head.isdigit() and len(head) == 8:
            return dt.date(int(head[:4]), int(head[4:6]), int(head[6:]))
        y, m, d = (int(p) for p in head.split("-"))
        return dt.date(y, m, d)
    except (ValueError, TypeError):
        raise InputError(f"{field}: expected a date like 2025-06-25, found {text[:40]!r}") from None


def route(taxonomy: Taxonomy, category: str, tier: str, intake_date=None, deputy: str | None = None) -> Routing:
    """Lead agency from the category, deadline from the tier counted from the intake date."""
    cat = taxonomy.category(category)
    t = taxonomy.tier(tier)
    start = parse_date(intake_date)
    deadline = (start + dt.timedelta(days=t.deadline_days)).isoformat() if start else None
    return Routing(
        lead_agency=cat.lead_agency_zh,
        lead_agency_en=cat.lead_agency_en,
        deadline_days=t.deadline_days,
        deadline=deadline,
        deputy=(str(deputy).strip() or None) if deputy is not None else None,
    )
