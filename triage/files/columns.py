"""Column vocabularies: the names a column may have in the files stations send, finding a
column by them, checking a header row, and the bilingual headers of files for people."""
from __future__ import annotations

import re

from triage.errors import InputError

TEXT_COLUMNS = ("text", "内容", "意见", "意见内容", "留言详情")
DATE_COLUMNS = ("visit_date", "intake_date", "date", "走访日期", "收集日期", "日期", "留言时间")
DEPUTY_COLUMNS = ("deputy", "代表", "联系代表", "记录代表")
ENTERPRISE_COLUMNS = ("enterprise", "企业", "企业名称", "单位")

# The columns ``triage classify`` adds, as a workbook for people shows them (Chinese, then the
# machine name, so a reviewed workbook can be read back); the *_name columns sit beside the codes.
HEADERS = {
    "category": "类别 category", "category_name": "类别名称 category name", "subtopic": "子议题 subtopic",
    "out_of_scope_kind": "范围外类型 out of scope kind",
    "tier": "层级 tier", "tier_name": "层级名称 tier name",
    "category_probability": "类别概率 category probability", "tier_probability": "层级概率 tier probability",
    "needs_review": "需复核 needs review", "review_reason": "复核原因 review reason",
    "lead_agency": "牵头单位 lead agency", "deadline": "办理期限 deadline", "explanation": "依据词 explanation",
}
_MACHINE = {label: name for name, label in HEADERS.items()}

# A first row that holds a long number (phone, ID card) or a long text is data, not a header:
# such a row is never repeated in a message (it is personal data).
_DATA_LIKE = re.compile(r"\d{5,}|\d{3}[- ]\d{4}|.{25,}", re.S)


def machine_name(header: str) -> str:
    """``'类别 category'`` -> ``'category'``: a workbook written for people reads back with the
    column names the library uses; any other header is returned unchanged."""
    return _MACHINE.get(header, header)


def looks_like_data(columns) -> bool:
    return any(_DATA_LIKE.search(str(c)) for c in columns)


def _found(cols: list[str]) -> str:
    if looks_like_data(cols):
        return (f"found a first row of {len(cols)} cells that looks like data, not column names "
                f"(is the header row missing?)")
    return f"found columns {cols}"


def find_column(columns, wanted: str | None, candidates, what: str, required: bool = True) -> str | None:
    cols = [str(c) for c in columns]
    if wanted:
        if wanted in cols:
            return wanted
        raise InputError(f"column {wanted!r} not found; {_found(cols)}")
    lowered = {c.strip().lower(): c for c in cols}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    if required:
        raise InputError(f"no {what} column: expected one of {list(candidates)} (or name it with --{what}-column), "
                         f"{_found(cols)}")
    return None


def check_header(columns, name) -> None:
    cols = [str(c) for c in columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup and not looks_like_data(dup):
        raise InputError(f"{name}: duplicate column names {dup}; expected each column name once")
    if dup:
        raise InputError(f"{name}: expected a header row with column names, {_found(cols)}")
    if cols and all(not c.strip() for c in cols):
        raise InputError(f"{name}: expected a header row with column names, found an empty first row")
