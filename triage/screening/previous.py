"""Earlier months for the screening: problems already raised, so a month's problem that
came up before is marked recurring."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from triage.errors import InputError
from triage.files.io import DATE_COLUMNS, TEXT_COLUMNS, find_column, read_chunks
from triage.routing import parse_date
from triage.screening.results import UNGROUPED_REASONS
from triage.text import clean


def load_previous(sources, model, month: str) -> list[dict]:
    """Problems of months before ``month``, from screening outputs (``problems-YYYY-MM.json``
    files, or folders holding them directly or one level down) or from opinion tables
    (CSV/XLSX/JSONL with a text and a date column: each row counts as raised in its month)."""
    out = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            files = sorted(src.glob("problems-*.json")) + sorted(src.glob("*/problems-*.json"))
            if not files:
                raise InputError(f"--previous {src.name}: expected problems-YYYY-MM.json files (written by "
                                 f"'triage screen') in the folder or its subfolders, found none")
            for f in files:
                out += _read_problems_json(f)
        elif src.suffix.lower() == ".json":
            out += _read_problems_json(src)
        elif src.is_file():
            out += _previous_from_table(src, model)
        else:
            raise InputError(f"--previous {src.name}: not found")
    return [p for p in out if p["month"] < month]


def _read_problems_json(path: Path) -> list[dict]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        probs = raw["problems"]
        return [{"month": str(p["month"]), "category": p["category"], "texts": list(p["texts"]),
                 "recurring_months": list(p.get("recurring_months", []))} for p in probs]
    except FileNotFoundError:
        raise InputError(f"--previous {path.name}: not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path.name}: expected a problems file written by 'triage screen', "
                         f"found unreadable content ({type(exc).__name__}: {exc})") from None


def _previous_from_table(path: Path, model) -> list[dict]:
    frames = list(read_chunks(path))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    text_col = find_column(df.columns, None, TEXT_COLUMNS, "text")
    date_col = find_column(df.columns, None, DATE_COLUMNS, "date")
    texts, months = [], []
    for t, d in zip(df[text_col], df[date_col]):
        try:
            d = parse_date(d)
        except InputError:
            d = None
        if d is not None and str(t).strip():
            texts.append(str(t))
            months.append(f"{d:%Y-%m}")
    preds = model.predict(texts) if texts else []
    return [{"month": m, "category": p.category, "texts": [clean(t)], "recurring_months": []}
            for t, m, p in zip(texts, months, preds)
            if p.category and p.review_reason not in UNGROUPED_REASONS]
