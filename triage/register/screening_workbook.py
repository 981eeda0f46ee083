"""Confirmed problems from the deputies' filled-in screening workbook (``triage screen``,
``triage.screening.workbook``; read with the one reader, ``triage.screening.filled``): one row
per opinion, grouped by candidate problem, on one sheet per category plus the review sheet;
the deputies fill in ``decision`` (keep 保留 / merge 合并 / drop 删除), ``merge_into``,
``confirmed_category`` and ``confirmed_tier``.

A problem is confirmed when at least one of its opinions is kept or merged into it. Its
text is that of its first kept opinion (the sheet lists a problem's opinions from its
representative on), its category and tier the deputies' confirmed ones (else the predicted
category and the suggested tier), its enterprises and opinion ids those of every opinion
kept in it or merged into it. A kept opinion outside any problem (review sheet) becomes a
problem of its own, named by its record id. Opinions listed on two sheets count once.
"""
from __future__ import annotations

from pathlib import Path

from triage.errors import InputError
from triage.register.records import ConfirmedProblem, ProblemSet
from triage.screening.filled import decision as parse_decision
from triage.screening.filled import read_sheets


def is_screening_workbook(path: str | Path) -> bool:
    """True for an .xlsx whose sheets have the screening workbook's columns."""
    if Path(path).suffix.lower() != ".xlsx":
        return False
    try:
        sheets = read_sheets(path)
    except InputError as exc:
        if "expected sheets with the columns" in str(exc):
            return False
        raise
    return any({"record_id", "problem_id", "decision"} <= set(sh.keys) for sh in sheets)


def _code(value: str) -> str | None:
    """'tax 税收与税改' -> 'tax'; 'key 重点提 ↑' -> 'key'; '重点提' -> '重点提' (the register
    checks the code or name against its taxonomy)."""
    text = value.replace("↑", "").strip()
    return text.split()[0] if text else None


def read_screening_workbook(path: str | Path) -> ProblemSet:
    path = Path(path)
    source = path.name
    rows, where, decided = [], {}, {}
    for sheet in read_sheets(path):
        if not {"record_id", "decision"} <= set(sheet.keys):
            continue
        for n, row in sheet.rows:
            rid = row.get("record_id", "").strip()
            if not rid:
                continue
            raw = row.get("decision", "").strip()
            try:
                decision = parse_decision(raw)
            except ValueError:
                raise InputError(f"{source}: sheet {sheet.title!r} row {n}: decision must be keep 保留, merge 合并 or "
                                 f"drop 删除, found {raw[:30]!r}") from None
            if rid in where:  # the same opinion on a category sheet and on the review sheet
                if decision and decided.get(rid) and decision != decided[rid]:
                    raise InputError(f"{source}: opinion {rid} has decision {decided[rid]!r} at {where[rid]} but "
                                     f"{decision!r} on sheet {sheet.title!r} row {n}; expected one decision")
                if decision and not decided.get(rid):
                    decided[rid] = decision
                    rows[[r["record_id"] for r in rows].index(rid)].update(decision=decision,
                                                                           merge_into=row.get("merge_into", ""))
                continue
            where[rid], decided[rid] = f"sheet {sheet.title!r} row {n}", decision
            rows.append({"record_id": rid, "problem_id": row.get("problem_id", "").strip() or None,
                         "decision": decision, "merge_into": row.get("merge_into", ""),
                         "text": row.get("text", "").strip(), "enterprise": row.get("enterprise", "").strip(),
                         "category": _code(row.get("category", "")),
                         "suggested_tier": _code(row.get("suggested_tier", "")), "tier": _code(row.get("tier", "")),
                         "confirmed_category": _code(row.get("confirmed_category", "")),
                         "confirmed_tier": _code(row.get("confirmed_tier", "")), "where": where[rid]})
    if not rows:
        raise InputError(f"{source}: expected a screening workbook with record_id and decision columns, found no opinions")
    return _problems(rows, source)


def _problems(rows: list[dict], source: str) -> ProblemSet:
    problem_ids = {r["problem_id"] for r in rows if r["problem_id"]}
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r["decision"] == "keep":
            groups.setdefault(r["problem_id"] or r["record_id"], []).append(r)
    for r in rows:
        if r["decision"] == "merge":
            target = str(r["merge_into"] or "").strip()
            if target not in problem_ids:
                raise InputError(f"{source}: {r['where']}: merge_into must name a problem of the workbook (e.g. "
                                 f"{sorted(problem_ids)[0] if problem_ids else 'P001'}), found {target[:30]!r}")
            groups.setdefault(target, []).append(r)
    problems = []
    for pid, members in groups.items():
        kept = [m for m in members if m["decision"] == "keep"] or members
        first = kept[0]
        category = next((m["confirmed_category"] for m in kept if m["confirmed_category"]), None) or first["category"]
        tier = (next((m["confirmed_tier"] for m in kept if m["confirmed_tier"]), None) or first["suggested_tier"]
                or first["tier"])
        problems.append(ConfirmedProblem(
            text=first["text"], category=category, tier=tier,
            enterprises=tuple(dict.fromkeys(m["enterprise"] for m in members if m["enterprise"])),
            opinion_ids=tuple(m["record_id"] for m in members), problem_id=pid, source=source))
    left_out = sorted(problem_ids - set(groups))
    return ProblemSet(problems, source, left_out)
