"""Statistics of the register: raised and completed per year, type, category and tier (the
"16 suggestions raised, 14 completed" line), status, overdue items, handling time.

"Raised" means assigned to an agency (drafts are not counted); "completed" (办结) means
closed after the proposer rated the answer 满意 or 基本满意. Handling time runs from the
day it was raised to the day it was closed.
"""
from __future__ import annotations

import datetime as dt
import statistics

from triage.register.errors import CalendarError
from triage.register.states import KINDS, SATISFACTION, STATUSES


def _count(items) -> dict:
    return {"raised": len(items), "completed": sum(v["status"] == "closed" for v in items)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def headline(totals: dict, first_year: int | None) -> tuple[str, str]:
    """('2021年以来共提出建议16件（办结14件）、议案4件（办结3件）', 'Since 2021: 16 suggestions ...')."""
    if first_year is None:
        return "尚无已提出的建议或议案", "No suggestion or motion raised yet."
    s, m = totals["suggestion"], totals["motion"]
    zh = (f"{first_year}年以来共提出建议{s['raised']}件（办结{s['completed']}件）、"
          f"议案{m['raised']}件（办结{m['completed']}件）")
    en = (f"Since {first_year}: {_plural(s['raised'], 'suggestion')} raised, {s['completed']} completed; "
          f"{_plural(m['raised'], 'motion')} raised, {m['completed']} completed.")
    return zh, en


def compute_stats(views: list[dict], today: dt.date, calendar=None, since: int | None = None) -> dict:
    """Statistics over suggestion views (``Register.all()``); ``since`` keeps the years from it on."""
    raised = [v for v in views if v["raised_on"] and (since is None or int(v["raised_on"][:4]) >= since)]
    years = sorted({int(v["raised_on"][:4]) for v in raised})
    totals = {k: _count([v for v in raised if v["kind"] == k]) for k in KINDS}
    by_year = [{"year": y, **{k: _count([v for v in raised if v["kind"] == k and v["raised_on"].startswith(str(y))])
                              for k in KINDS}} for y in years]

    def group(key: str, label: str):
        out = []
        for code in sorted({v[key] for v in raised}):
            items = [v for v in raised if v[key] == code]
            out.append({key: code, f"{key}_zh": items[0][label], **_count(items),
                        **{k: _count([v for v in items if v["kind"] == k]) for k in KINDS}})
        return out

    overdue = sorted((v for v in views if v["overdue"]), key=lambda v: (-v["days_overdue"], v["id"]))
    closed = [v for v in raised if v["status"] == "closed" and v["closed_on"]]
    days = [(dt.date.fromisoformat(v["closed_on"]) - dt.date.fromisoformat(v["raised_on"])).days for v in closed]
    work = []
    if calendar is not None:
        for v in closed:
            start, end = dt.date.fromisoformat(v["raised_on"]), dt.date.fromisoformat(v["closed_on"])
            if calendar.provisional_years(start, end):  # outside the years the calendar covers: not exact
                continue
            try:
                work.append(calendar.working_days_between(start, end))
            except CalendarError:
                pass
    zh, en = headline(totals, years[0] if years else None)
    return {
        "today": today.isoformat(), "since": since, "first_year": years[0] if years else None,
        "headline_zh": zh, "headline_en": en,
        "totals": totals, "by_year": by_year,
        "by_category": group("category", "category_zh"), "by_tier": group("tier", "tier_zh"),
        "by_status": {s: sum(v["status"] == s for v in views) for s in STATUSES},
        "satisfaction": {s: sum(v["satisfaction"] == s for v in raised if v["status"] == "closed") for s in SATISFACTION},
        "look_backs": sum(v["look_backs"] for v in raised),
        "overdue": [{k: v[k] for k in ("code", "kind", "title", "status", "lead_agency", "deputies", "deputy_group",
                                       "deadline", "days_overdue")} for v in overdue],
        "handling": {
            "closed": len(closed),
            "average_days": round(statistics.fmean(days), 1) if days else None,
            "median_days": statistics.median(days) if days else None,
            "average_working_days": round(statistics.fmean(work), 1) if work else None,
            "working_days_counted": len(work),
        },
    }
