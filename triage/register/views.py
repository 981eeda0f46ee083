"""Plain, JSON-ready dictionaries of suggestions and events (what the CLI prints and the
API returns): dates as ISO strings, codes with their Chinese names."""
from __future__ import annotations

import datetime as dt

from triage.register.states import KINDS, OPEN_STATUSES, SATISFACTION, STATUSES, SUPERVISION


def to_json(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _name(taxonomy, what: str, code):
    if code is None:
        return None
    try:
        return (taxonomy.category(code) if what == "category" else taxonomy.tier(code)).name_zh
    except Exception:  # a code the current taxonomy no longer has: show the code
        return code


def suggestion_view(s, taxonomy, today: dt.date, full: bool = True) -> dict:
    overdue = s.status in OPEN_STATUSES and s.deadline is not None and s.deadline < today
    problems = list(s.problems) if full else None
    v = {
        "id": s.id, "code": s.code, "kind": s.kind, "kind_zh": KINDS[s.kind][0], "title": s.title,
        "category": s.category, "category_zh": _name(taxonomy, "category", s.category),
        "tier": s.tier, "tier_zh": _name(taxonomy, "tier", s.tier),
        "status": s.status, "status_zh": STATUSES[s.status][0],
        "lead_agency": s.lead_agency, "co_organisers": list(s.co_organisers or []),
        "deputies": list(s.deputies or []), "deputy_group": s.deputy_group,
        "supervision": s.supervision, "supervision_zh": SUPERVISION[s.supervision],
        "working_days": s.working_days, "deadline": to_json(s.deadline),
        "overdue": overdue, "days_overdue": (today - s.deadline).days if overdue else 0,
        "raised_on": to_json(s.raised_on), "answered_on": to_json(s.answered_on), "answer": s.answer,
        "satisfaction": s.satisfaction, "satisfaction_zh": SATISFACTION.get(s.satisfaction),
        "closed_on": to_json(s.closed_on), "look_backs": s.look_backs,
        "created_on": to_json(s.created_on), "created_at": to_json(s.created_at), "created_by": s.created_by,
        "updated_at": to_json(s.updated_at), "version": s.version,
    }
    if full:
        v["problems"] = [{
            "problem_id": p.problem_ref, "text": p.text, "category": p.category, "tier": p.tier,
            "enterprises": list(p.enterprises or []), "opinion_ids": list(p.opinion_ids or []), "source": p.source,
        } for p in problems]
        v["enterprises"] = sorted({e for p in problems for e in (p.enterprises or [])})
        v["opinion_ids"] = [o for p in problems for o in (p.opinion_ids or [])]
    return v


def event_view(e, code: str) -> dict:
    return {
        "suggestion": code, "version": e.version, "at": to_json(e.at), "effective_on": to_json(e.effective_on),
        "actor": e.actor, "action": e.action, "status_from": e.status_from, "status_to": e.status_to,
        "changes": dict(e.changes or {}), "note": e.note,
    }
