"""Response examples of ``/v1/suggestions`` for the OpenAPI documentation (taken from a real run)."""

SUGGESTION = {
    "id": 1, "code": "S-2025-001", "kind": "suggestion", "kind_zh": "建议", "title": "向林农收购原木开不出收购发票,进项无法抵扣",
    "category": "tax", "category_zh": "税收与税改", "tier": "transfer", "tier_zh": "分级转", "status": "in_progress",
    "status_zh": "办理中", "lead_agency": "区税务局", "co_organisers": ["区林业局"], "deputies": ["周建华"],
    "deputy_group": None, "supervision": "group", "supervision_zh": "代表小组督办", "working_days": 20,
    "deadline": "2025-07-21", "overdue": False, "days_overdue": 0, "raised_on": "2025-06-23", "answered_on": None,
    "answer": None, "satisfaction": None, "satisfaction_zh": None, "closed_on": None, "look_backs": 0,
    "created_on": "2025-06-20", "created_at": "2025-06-20T02:15:35+00:00", "created_by": "王站长 (api#1)",
    "updated_at": "2025-06-24T03:40:11+00:00", "version": 3,
    "problems": [{"problem_id": "P1", "text": "向林农收购原木开不出收购发票,进项无法抵扣", "category": "tax",
                  "tier": "transfer", "enterprises": ["甲木业", "乙板材"], "opinion_ids": ["2025-06-001", "2025-06-014"],
                  "source": "screening-2025-06.xlsx"}],
    "enterprises": ["乙板材", "甲木业"], "opinion_ids": ["2025-06-001", "2025-06-014"],
}
LISTED = {"count": 1, "items": [{k: v for k, v in SUGGESTION.items() if k not in ("problems", "enterprises", "opinion_ids")}]}
EVENT = {
    "suggestion": "S-2025-001", "version": 2, "at": "2025-06-23T01:02:03+00:00", "effective_on": "2025-06-23",
    "actor": "api#1", "action": "assign", "status_from": "draft", "status_to": "assigned",
    "changes": {"co_organisers": [[], ["区林业局"]], "deputies": [[], ["周建华"]], "deadline": [None, "2025-07-21"],
                "working_days": [90, 20], "raised_on": [None, "2025-06-23"], "status": ["draft", "assigned"]},
    "note": None,
}
HISTORY = {"code": "S-2025-001", "events": [EVENT]}
STATS = {
    "today": "2025-06-30", "since": None, "first_year": 2021,
    "headline_zh": "2021年以来共提出建议16件（办结14件）、议案4件（办结3件）",
    "headline_en": "Since 2021: 16 suggestions raised, 14 completed; 4 motions raised, 3 completed.",
    "totals": {"suggestion": {"raised": 16, "completed": 14}, "motion": {"raised": 4, "completed": 3}},
    "by_year": [{"year": 2021, "suggestion": {"raised": 3, "completed": 3}, "motion": {"raised": 1, "completed": 1}}],
    "by_category": [{"category": "tax", "category_zh": "税收与税改", "raised": 5, "completed": 4,
                     "suggestion": {"raised": 4, "completed": 3}, "motion": {"raised": 1, "completed": 1}}],
    "by_tier": [{"tier": "key", "tier_zh": "重点提", "raised": 9, "completed": 7,
                 "suggestion": {"raised": 5, "completed": 4}, "motion": {"raised": 4, "completed": 3}}],
    "by_status": {"draft": 1, "assigned": 1, "in_progress": 1, "answered": 0, "closed": 17, "look_back": 1},
    "satisfaction": {"satisfied": 11, "basically_satisfied": 6, "dissatisfied": 0}, "look_backs": 1,
    "overdue": [{"code": "S-2024-003", "kind": "suggestion", "title": "历史问题13", "status": "in_progress",
                 "lead_agency": "区税务局", "deputies": ["周建华"], "deputy_group": None, "deadline": "2024-06-12",
                 "days_overdue": 383}],
    "handling": {"closed": 17, "average_days": 95.4, "median_days": 80, "average_working_days": 95.3,
                 "working_days_counted": 4},
}


def ok(example, status: int = 200) -> dict:
    return {status: {"description": "OK", "content": {"application/json": {"example": example}}}}


def created(example) -> dict:
    """OpenAPI entry of a 201 answer: the example and the ``Location`` header."""
    return {201: {"description": "Created; `Location` names the new one / 已创建，Location 头给出其地址",
                  "headers": {"Location": {"description": "path of the new suggestion, e.g. /v1/suggestions/S-2025-001",
                                           "schema": {"type": "string"}}},
                  "content": {"application/json": {"example": example}}}}
