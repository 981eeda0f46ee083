"""Batch classification of opinion tables: ``triage classify``.

The input is read in chunks and each chunk is triaged in one vectorised call, so memory
stays flat however long the file; with ``jobs > 1`` chunks go to a process pool (forked
from the process holding the model on Linux, so the model is not loaded again; elsewhere
each worker loads it once). Only the texts, dates and deputies of a chunk travel to a
worker and only the output columns come back. Output is written atomically."""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from triage.model.scoring import format_term
from triage.errors import InputError
from triage.files.io import DATE_COLUMNS, DEPUTY_COLUMNS, TEXT_COLUMNS, AtomicTableWriter, find_column, read_chunks
from triage.routing import parse_date

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

    def add(self, out, bad_dates: int) -> None:
        """Count one chunk's output (a table, or its output columns as lists)."""
        self.rows += len(out["category"])
        self.needs_review += int(sum(out["needs_review"]))
        self.reasons.update(r for r in list(out["review_reason"]) if r)
        self.categories.update(c for c in list(out["category"]) if c)
        self.tiers.update(t for t in list(out["tier"]) if t)
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
    cols, bad = triage_columns(model, *_inputs(df, text_col, date_col, deputy_col))
    return attach(df, cols), bad


def _inputs(df, text_col, date_col, deputy_col):
    n = len(df)
    return (df[text_col].tolist(), df[date_col].tolist() if date_col else [None] * n,
            df[deputy_col].tolist() if deputy_col else [None] * n)


def triage_columns(model, texts: list, date_values: list, deputies: list) -> tuple[dict[str, list], int]:
    """The output columns (``OUTPUT_COLUMNS``) for these texts, and how many dates were unreadable."""
    dates, bad = [], 0
    for v in date_values:
        try:
            dates.append(parse_date(v))
        except InputError:
            dates.append(None)
            bad += 1
    cols = model.predict_columns(texts, dates, deputies, alternatives=False, terms_as_text=True)
    out = {name: cols[name] for name in OUTPUT_COLUMNS}
    for name in ("category", "tier", "review_reason", "lead_agency", "deadline"):
        out[name] = [v or "" for v in out[name]]
    return out, bad


def attach(df: pd.DataFrame, cols: dict[str, list]) -> pd.DataFrame:
    out = df.copy()
    for name in OUTPUT_COLUMNS:
        out[name] = cols[name]
    return out


# --- process pool: one model per worker --------------------------------------------------
# On Linux the workers are forked from the process that already holds the model (no second
# load; its arrays stay shared between the processes); elsewhere each worker loads it once.
_WORKER = {}


def _init_worker(model_path: str | None) -> None:
    if model_path is not None:
        from triage.store.folder import load

        _WORKER["model"] = load(model_path).warm_up()


def _work(args):
    """Texts, dates and deputies of one chunk in; its output columns out (small to send back)."""
    return triage_columns(_WORKER["model"], *args)


def _pool(model, jobs: int):
    import gc
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods():
        _WORKER["model"] = model.warm_up()
        gc.freeze()  # what exists now is never collected: the forked workers keep sharing its pages
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker, initargs=(None,))
    path = getattr(model, "path_", None)
    if not path:
        raise InputError("jobs > 1 needs a model loaded from a model folder")
    return ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(path,))


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


def _paired(chunks, run):
    """(chunk, result) pairs of ``run`` (an in-order map over chunks), keeping each input chunk
    until its result arrives (at most the map's window of them)."""
    from collections import deque

    held = deque()

    def feed():
        for c in chunks:
            held.append(c)
            yield c

    for result in run(feed()):
        yield held.popleft(), result


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

    pool = _pool(model, jobs) if jobs > 1 and len(first) else None  # before the progress bar's thread: forks
    bar = tqdm(unit=" rows", disable=not progress, file=sys.stderr, mininterval=0.5)
    try:
        with AtomicTableWriter(dst) as writer:
            if len(first) == 0:
                writer.write(triage_frame(model, first, text_col, date_col, deputy_col)[0])
            chunks_in = all_chunks()
            if pool is not None:
                pairs = _paired(chunks_in, lambda cs: _bounded_map(
                    pool, _work, (_inputs(c, text_col, date_col, deputy_col) for c in cs), window=2 * jobs))
            else:
                pairs = ((c, triage_columns(model, *_inputs(c, text_col, date_col, deputy_col))) for c in chunks_in)
            for chunk, (cols, bad) in pairs:
                writer.write(attach(chunk, cols))
                summary.add(cols, bad)
                bar.update(len(chunk))
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
            import gc

            gc.unfreeze()
    summary.seconds = time.perf_counter() - start
    return summary


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
