"""The Excel workbook the deputies fill in at the screening meeting.

Sheets: a guide (说明), one sheet per category holding the opinions of its candidate
problems (one row per opinion, grouped and ranked by problem), a review sheet (复核) with
every opinion flagged ``needs_review``, and a hidden sheet of code lists behind the
drop-down menus. The deputies fill in three columns per row: confirmed category, confirmed
tier, decision (keep / merge / drop), plus ``merge_into`` for a merge.
``triage.screening.filled`` (the one reader) reads the filled workbook back.

All texts are masked (done by ``triage.screening.month``) and every cell written is escaped
against formula injection."""
from __future__ import annotations

import io
import re
from pathlib import Path

from triage.files.atomic import write_bytes
from triage.files.io import escape_formula

# (key, Chinese label): the header of a column is "中文 key"; the reader goes by the key.
COLUMNS = (
    ("problem_id", "问题编号"), ("rank", "排序"), ("problem_opinions", "意见数"), ("problem_enterprises", "企业数"),
    ("recurring_months", "往月出现"), ("suggested_tier", "建议层级"), ("lead_agency", "主办单位"),
    ("deadline", "办理期限"), ("record_id", "意见编号"), ("enterprise", "企业"), ("deputy", "代表"),
    ("visit_date", "走访日期"), ("text", "意见内容"), ("category", "预测类别"), ("category_probability", "类别概率"),
    ("tier", "预测层级"), ("needs_review", "需复核"), ("review_reason", "复核原因"),
    ("confirmed_category", "确认类别"), ("confirmed_tier", "确认层级"), ("decision", "决定"),
    ("merge_into", "并入问题"), ("note", "备注"),
)
INPUT_KEYS = ("confirmed_category", "confirmed_tier", "decision", "merge_into", "note")
DECISIONS = (("keep", "保留"), ("merge", "合并"), ("drop", "删除"))
REVIEW_SHEET = "复核 review"
GUIDE_SHEET = "说明 guide"
LISTS_SHEET = "lists"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def header(key: str) -> str:
    return f"{dict(COLUMNS)[key]} {key}"


def header_key(cell) -> str | None:
    """The column key of a header cell ("确认类别 confirmed_category" -> "confirmed_category")."""
    if cell is None:
        return None
    parts = str(cell).split()
    return parts[-1] if parts and parts[-1] in dict(COLUMNS) else None


def category_sheet_name(category) -> str:
    return _BAD_SHEET_CHARS.sub("", f"{category.code} {category.name_zh}")[:31]


def option(code: str, name: str) -> str:
    """A drop-down entry: the code and its Chinese name ("tax 税收与税改")."""
    return f"{code} {name}"


def _row(o, p, tax) -> dict:
    cat = tax.category(o.category).name_zh if o.category else ""
    return {
        "problem_id": p.id if p else "", "rank": p.rank if p else None,
        "problem_opinions": p.n_opinions if p else None, "problem_enterprises": p.n_enterprises if p else None,
        "recurring_months": ", ".join(p.recurring_months) if p else "",
        "suggested_tier": option(p.tier, tax.tier(p.tier).name_zh) + (" ↑" if p.escalated else "") if p else "",
        "lead_agency": p.lead_agency if p else (o.referral or ""), "deadline": (p.deadline or "") if p else "",
        "record_id": o.record_id, "enterprise": o.enterprise, "deputy": o.deputy, "visit_date": o.visit_date,
        "text": o.text, "category": option(o.category, cat) if o.category else "",
        "category_probability": o.category_probability if o.category else None,
        "tier": option(o.tier, tax.tier(o.tier).name_zh) if o.tier else "",
        "needs_review": "是 yes" if o.needs_review else "", "review_reason": _reason(o, tax),
    }


def _reason(o, tax) -> str:
    """The review reason; for an out-of-scope text with its kind: ``out_of_scope: 劳动与工资``."""
    if o.review_reason == "out_of_scope" and o.out_of_scope_kind:
        return f"out_of_scope: {tax.kind(o.out_of_scope_kind).name_zh}"
    return o.review_reason or ""


def write_workbook(result, path) -> Path:
    """Write the meeting workbook for a ``ScreeningResult``; returns the path."""
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    tax = result.taxonomy
    path = Path(path)
    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = GUIDE_SHEET
    lists = wb.create_sheet(LISTS_SHEET)
    options = {
        "confirmed_category": [option(c.code, c.name_zh) for c in tax.categories],
        "confirmed_tier": [option(t.code, t.name_zh) for t in tax.tiers],
        "decision": [option(k, z) for k, z in DECISIONS],
    }
    ranges = {}
    for col, (key, values) in enumerate(options.items(), 1):
        letter = get_column_letter(col)
        lists.cell(1, col, key)
        for r, v in enumerate(values, 2):
            lists.cell(r, col, escape_formula(v))
        ranges[key] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"

    by_problem = {p.id: p for p in result.problems}
    keys = [k for k, _ in COLUMNS]
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    top = Border(top=Side(style="thin", color="808080"))
    widths = {"text": 60, "enterprise": 22, "lead_agency": 18, "confirmed_category": 18, "confirmed_tier": 14,
              "decision": 12, "suggested_tier": 14, "category": 16, "tier": 12, "review_reason": 14, "note": 24}

    def sheet(title, rows):
        ws = wb.create_sheet(title)
        ws.append([escape_formula(header(k)) for k in keys])
        for c in ws[1]:
            c.font, c.fill = bold, head_fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
        last_problem = None
        for row in rows:
            ws.append([escape_formula(row.get(k)) if isinstance(row.get(k), str) else row.get(k) for k in keys])
            r = ws.max_row
            if row["problem_id"] and row["problem_id"] != last_problem:
                for c in ws[r]:
                    c.border = top
                ws.cell(r, 1).font = bold
                last_problem = row["problem_id"]
            ws.cell(r, keys.index("text") + 1).alignment = Alignment(wrap_text=True, vertical="top")
            for k in INPUT_KEYS:
                ws.cell(r, keys.index(k) + 1).fill = input_fill
        last = max(ws.max_row, 2)
        for key, ref in ranges.items():
            col = get_column_letter(keys.index(key) + 1)
            dv = DataValidation(type="list", formula1=f"={ref}", allow_blank=True, showErrorMessage=True,
                                errorTitle="代码无效 invalid code",
                                error="请从下拉列表中选择 / choose a value from the list")
            dv.add(f"{col}2:{col}{last + 200}")
            ws.add_data_validation(dv)
        for i, k in enumerate(keys, 1):
            ws.column_dimensions[get_column_letter(i)].width = widths.get(k, 10)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{ws.max_row}"
        return ws

    by_cat = {c.code: [] for c in tax.categories}
    for p in result.problems:
        for rid in p.record_ids:
            by_cat[p.category].append((rid, p))
    ops = {o.record_id: o for o in result.opinions}
    for c in tax.categories:
        sheet(category_sheet_name(c), [_row(ops[rid], p, tax) for rid, p in by_cat[c.code]])
    sheet(REVIEW_SHEET, [_row(o, by_problem.get(o.problem_id), tax) for o in result.review])
    wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames))
    _guide(guide, result, tax)

    buf = io.BytesIO()
    wb.save(buf)
    return write_bytes(path, buf.getvalue(), what="workbook")


def _guide(ws, result, tax) -> None:
    from openpyxl.styles import Font

    c = result.counts
    rule = result.rule
    lines = [
        (f"{result.month} 意见筛选表 / screening workbook", True),
        (f"来源 source: {result.source}; 模型 model: {result.model_version}", False),
        (f"本月意见 opinions in month: {c['in_month']}; 候选问题 candidate problems: {c['problems']}; "
         f"需复核 needs review: {c['needs_review']}", False),
        (f"未纳入 left out: {c['outside_month']} 条不在本月 outside the month, {c['undated']} 条无有效日期 without a date", False),
        ("", False),
        ("填写说明 / how to fill in", True),
        ("每行一条意见，按候选问题分组排序。请在黄色列填写：/ One row per opinion, grouped by candidate problem. "
         "Fill in the yellow columns:", False),
        ("  确认类别 confirmed_category、确认层级 confirmed_tier：不同意预测时从下拉列表选择；留空表示同意建议 "
         "/ pick from the list when the suggestion is wrong; blank = the suggestion stands", False),
        ("  决定 decision：keep 保留 / merge 合并（并在“并入问题 merge_into”填写目标问题编号，如 P003）/ drop 删除", False),
        ("  决定为 keep 或 merge 的行、以及填写了确认类别或层级的行，将作为纠正样本导入训练 "
         "/ rows decided keep or merge, and rows with a confirmed value, are imported as training corrections", False),
        ("导入 / import: triage corrections import 本文件.xlsx", False),
        ("", False),
        (f"升级规则 escalation: 同一问题有 {rule['escalate_min_enterprises']} 家及以上企业提出，建议层级为 "
         f"{rule['escalate_to_tier']}（标 ↑）/ a problem raised by at least {rule['escalate_min_enterprises']} "
         f"enterprises is suggested for {rule['escalate_to_tier']} (marked ↑)", False),
        (f"相似度阈值 similarity threshold: {result.similarity.get('threshold')}", False),
        ("", False),
        ("类别 categories", True),
    ]
    lines += [(f"  {cat.code} {cat.name_zh} — {cat.lead_agency_zh}", False) for cat in tax.categories]
    lines += [("层级 tiers", True)]
    lines += [(f"  {t.code} {t.name_zh} — {t.deadline_days} 天 days", False) for t in tax.tiers]
    for i, (text, bold) in enumerate(lines, 1):
        cell = ws.cell(i, 1, escape_formula(text))
        if bold:
            cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 120
