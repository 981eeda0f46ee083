"""Confirmed problems of a screening: the input a suggestion or motion is created from.

A problems file is a table (CSV in UTF-8 or GBK, XLSX, JSONL) or a JSON file (a list of
objects, or an object with a ``problems`` list), one confirmed problem per row:

    column         also accepted as           required  meaning
    problem_id     id, 问题编号, 编号          no        the problem's id in the screening
    text           problem, 问题, 问题描述, 内容 yes       the problem as the deputies confirmed it
    category       类别                        no        category code or Chinese name (tax / 税收与税改)
    tier           层级                        no        tier code or Chinese name (key / 重点提)
    enterprises    enterprise, 企业, 涉及企业   no        enterprises raising it, separated by ; 、 , or |
    opinion_ids    opinions, 意见编号           no        ids of the original opinions, same separators
    confirmed      确认, 是否确认               no        when present, only rows marked 是/yes/true/1/√ are taken

In JSON, ``enterprises`` and ``opinion_ids`` may also be lists. The deputies' filled-in
screening workbook of ``triage screen`` is recognised by its columns and read by
``screening_workbook.read_screening_workbook`` (decision keep / merge / drop).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from triage.errors import InputError
from triage.files.io import find_column, read_chunks
from triage.register.records import ConfirmedProblem, ProblemSet
from triage.register.screening_workbook import is_screening_workbook, read_screening_workbook

__all__ = ["COLUMNS", "ConfirmedProblem", "ProblemSet", "problems_from_records", "read_problems", "split_list"]

COLUMNS = {
    "problem_id": ("problem_id", "id", "问题编号", "编号"),
    "text": ("text", "problem", "问题", "问题描述", "内容"),
    "category": ("category", "类别"),
    "tier": ("tier", "层级"),
    "enterprises": ("enterprises", "enterprise", "企业", "涉及企业"),
    "opinion_ids": ("opinion_ids", "opinions", "意见编号"),
    "confirmed": ("confirmed", "确认", "是否确认"),
}
_YES = {"是", "yes", "y", "true", "1", "√", "✓", "✔", "确认", "已确认"}
_NO = {"否", "no", "n", "false", "0", "", "未确认", "×", "✗"}
_SPLIT = re.compile(r"[;；、,，|\n]+")


def split_list(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(s for v in value for s in split_list(v))
    return tuple(p.strip() for p in _SPLIT.split(str(value)) if p.strip())


def _truth(value, where: str) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InputError(f"{where}: 'confirmed' must be 是/否 (yes/no, true/false, 1/0), found {str(value)[:20]!r}")


def problems_from_records(records, source: str = "input") -> ProblemSet:
    """Build the problem set from dictionaries (keys as in the table above)."""
    if not isinstance(records, list):
        raise InputError(f"{source}: expected a list of problems, found {type(records).__name__}")
    if records and not all(isinstance(r, dict) for r in records):
        raise InputError(f"{source}: expected every problem to be an object with a 'text'")
    keys = list(dict.fromkeys(k for r in records for k in r))
    cols = {name: find_column(keys, None, cands, name, required=False) for name, cands in COLUMNS.items()}
    if records and cols["text"] is None:
        raise InputError(f"{source}: no problem text: expected a field named one of {list(COLUMNS['text'])}, "
                         f"found {keys}")
    out, left_out = [], []
    for i, rec in enumerate(records, 1):
        where = f"{source}: problem {i}"
        get = lambda name: rec.get(cols[name]) if cols[name] else None  # noqa: E731
        pid = str(get("problem_id")).strip() if get("problem_id") not in (None, "") else None
        if cols["confirmed"] and not _truth(get("confirmed"), where):
            left_out.append(pid or f"#{i}")
            continue
        text = str(get("text") or "").strip()
        if not text:
            raise InputError(f"{where}: expected the problem's text, found an empty {cols['text']!r}")
        out.append(ConfirmedProblem(
            text=text,
            category=str(get("category")).strip() or None if get("category") is not None else None,
            tier=str(get("tier")).strip() or None if get("tier") is not None else None,
            enterprises=split_list(get("enterprises")), opinion_ids=split_list(get("opinion_ids")),
            problem_id=pid, source=source))
    return ProblemSet(out, source, left_out)


def read_problems(path: str | Path) -> ProblemSet:
    """Read a problems file (CSV, XLSX, JSONL or JSON)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"problems file not found: {path.name}")
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path.name}: expected a UTF-8 JSON file, found invalid JSON ({exc})") from None
        if isinstance(raw, dict):
            if "problems" not in raw:
                raise InputError(f"{path.name}: expected a list of problems or an object with 'problems', found keys {list(raw)}")
            raw = raw["problems"]
        return problems_from_records(raw, path.name)
    if path.suffix.lower() == ".xlsx":
        if is_screening_workbook(path):
            return read_screening_workbook(path)
    frames = list(read_chunks(path))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return problems_from_records(table.to_dict(orient="records"), path.name)
