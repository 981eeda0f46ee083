"""Batch classification of opinion tables: ``triage classify``.

The input is read in chunks and each chunk is triaged in one vectorised call, so memory
stays flat however long the file; with ``jobs > 1`` chunks go to a process pool whose
workers load the model once each. Output is written atomically."""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .engine import format_term
from .errors import InputError
from .io import DATE_COLUMNS, DEPUTY_COLUMNS, TEXT_COLUMNS, AtomicTableWriter, find_column, read_chunks
from .routing import parse_date

OUTPUT_COLUMNS = ("category", "tier", "category_probability", "tier_probability", "needs_review", "review_reason",
                  "lead_agency", "deadline", "explanation")


@dataclass
class BatchSummary:
    rows: int = 0
    needs_review: int = 0
    reasons: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    tiers: Counter = field(default_factory=Counter)
    bad_dates: int = 0
    replaced_columns: list = field(default_factory=list)
    seconds: float = 0.0
    output: str = ""

    def add(self, out: pd.DataFrame, bad_dates: int) -> None:
        self.rows += len(out)
        self.needs_review += int(out["needs_review"].sum())
        self.reasons.update(r for r in out["review_reason"] if r)
        self.categories.update(c for c in out["category"] if c)
        self.tiers.update(t for t in out["tier"] if t)
        self.bad_dates += bad_dates

    def to_dict(self) -> dict:
        return {"rows": self.rows, "needs_review": self.needs_review, "review_reasons": dict(self.reasons),
                "categories": dict(self.categories), "tiers": dict(self.tiers), "bad_dates": self.bad_dates,
                "replaced_columns": self.replaced_columns, "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows / self.seconds, 1) if self.seconds else None,
                "output": self.output}


def format_terms(terms: list[dict]) -> str:
    return "; ".join(format_term(t["term"], t["weight"]) for t in terms)


def triage_frame(model, df: pd.DataFrame, text_col: str, date_col: str | None = None,
                 deputy_col: str | None = None) -> tuple[pd.DataFrame, int]:
    """Triage one table: every input column kept, the output columns added (replacing
    same-named ones). Returns the table and the number of unreadable intake dates."""
    dates, bad = [], 0
    for v in (df[date_col] if date_col else [None] * len(df)):
        try:
            dates.append(parse_date(v))
        except InputError:
            dates.append(None)
            bad += 1
    deputies = list(df[deputy_col]) if deputy_col else [None] * len(df)
    cols = model.predict_columns(df[text_col].tolist(), dates, deputies, alternatives=False, terms_as_text=True)
    out = df.copy()
    for name in ("category", "tier"):
        out[name] = [v or "" for v in cols[name]]
    out["category_probability"] = cols["category_probability"]
    out["tier_probability"] = cols["tier_probability"]
    out["needs_review"] = cols["needs_review"]
    for name in ("review_reason", "lead_agency", "deadline"):
        out[name] = [v or "" for v in cols[name]]
    out["explanation"] = cols["explanation"]
    return out, bad


# --- process pool: one model per worker, loaded by the initializer -----------------------
_WORKER = {}


def _init_worker(model_path: str) -> None:
    from .artifacts import load

    _WORKER["model"] = load(model_path).warm_up()


def _work(args):
    df, text_col, date_col, deputy_col = args
    return triage_frame(_WORKER["model"], df, text_col, date_col, deputy_col)


def _bounded_map(pool, fn, items, window):
    """Like ``pool.map`` in order, but with at most ``window`` chunks in flight, so a
    million-row input is never read into memory ahead of the workers."""
    from collections import deque

    pending = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def classify_file(src, dst, model, *, text_column: str | None = None, date_column: str | None = None,
                  deputy_column: str | None = None, chunksize: int = 5000, jobs: int = 1,
                  progress: bool = False) -> BatchSummary:
    """Triage every row of ``src`` into ``dst`` (CSV, XLSX or JSONL by extension).

    Rows with empty or unusable text are kept and marked ``needs_review`` with a reason.
    ``jobs > 1`` needs a model loaded from disk (``model.path_``)."""
    from tqdm import tqdm

    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise InputError(f"the output {dst} is the input file; expected a different output path")
    start = time.perf_counter()
    summary = BatchSummary(output=str(dst))
    chunks = read_chunks(src, chunksize)
    first = next(chunks, None)
    if first is None:
        first = pd.DataFrame()
    text_col = find_column(first.columns, text_column, TEXT_COLUMNS, "text")
    date_col = find_column(first.columns, date_column, DATE_COLUMNS, "date", required=False)
    deputy_col = find_column(first.columns, deputy_column, DEPUTY_COLUMNS, "deputy", required=False)
    summary.replaced_columns = [c for c in OUTPUT_COLUMNS if c in first.columns]

    def all_chunks():
        if len(first):
            yield first
        yield from chunks

    bar = tqdm(unit=" rows", disable=not progress, file=sys.stderr, mininterval=0.5)
    pool = None
    try:
        with AtomicTableWriter(dst) as writer:
            if len(first) == 0:
                writer.write(triage_frame(model, first, text_col, date_col, deputy_col)[0])
            if jobs > 1:
                path = getattr(model, "path_", None)
                if not path:
                    raise InputError("jobs > 1 needs a model loaded from a model folder")
                pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(path,))
                results = _bounded_map(pool, _work, ((c, text_col, date_col, deputy_col) for c in all_chunks()),
                                       window=2 * jobs)
            else:
                results = (triage_frame(model, c, text_col, date_col, deputy_col) for c in all_chunks())
            for out, bad in results:
                writer.write(out)
                summary.add(out, bad)
                bar.update(len(out))
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    summary.seconds = time.perf_counter() - start
    return summary


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
