"""Batch classification of opinion tables: ``triage classify``.

The input is read in chunks and each chunk is triaged in one vectorised call, so memory
stays flat however long the file; with ``jobs > 1`` chunks go to a process pool (forked
from the process holding the model on Linux, so the model is not loaded again; elsewhere
each worker loads it once). Only the texts, dates and deputies of a chunk travel to a
worker and only the output columns come back. Workers end with their parent, however it
ends. Output is written atomically."""
from __future__ import annotations

import gc
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from triage.errors import InputError
from triage.files.columns import DATE_COLUMNS, DEPUTY_COLUMNS, TEXT_COLUMNS, find_column
from triage.files.formats import is_stdio, shown
from triage.files.read import read_chunks
from triage.files.write import TableWriter
from triage.routing import parse_date, route

OUTPUT_COLUMNS = ("category", "subtopic", "tier", "category_probability", "tier_probability", "needs_review",
                  "review_reason", "out_of_scope_kind", "lead_agency", "deadline", "explanation")
DERIVED_COLUMNS = ("category_name", "tier_name")  # shown beside the codes in workbooks: recomputed, never kept
AUTO_MIN_BYTES = {"xlsx": 1_500_000}  # smaller inputs (about 20,000 opinions) are done by one process
AUTO_MIN_BYTES_TEXT = 4_000_000


@dataclass
class BatchSummary:
    rows: int = 0
    needs_review: int = 0
    reasons: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    tiers: Counter = field(default_factory=Counter)
    bad_date_rows: list = field(default_factory=list)  # row numbers (the header is row 1) of unusable dates
    replaced_columns: list = field(default_factory=list)
    jobs: int = 1
    seconds: float = 0.0
    output: str = ""

    def add(self, out, bad: list[int], first_row: int) -> None:
        """Count one chunk's output columns; ``bad``: its rows with an unusable date."""
        self.rows += len(out["category"])
        self.needs_review += int(sum(out["needs_review"]))
        self.reasons.update(r for r in out["review_reason"] if r)
        self.categories.update(c for c in out["category"] if c)
        self.tiers.update(t for t in out["tier"] if t)
        self.bad_date_rows += [first_row + i + 2 for i in bad]


def auto_jobs(src, fmt: str | None, first_rows: int, chunksize: int) -> int:
    """Processes for ``--jobs auto``: one for an input that fits in one chunk or is small
    (under about 20,000 opinions by its size in bytes), else one per available CPU (at most 4)."""
    if first_rows < chunksize:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    if not is_stdio(src):
        ext = Path(src).suffix.lower()
        if os.path.getsize(src) < AUTO_MIN_BYTES.get(fmt or ext.lstrip("."), AUTO_MIN_BYTES_TEXT):
            return 1
    return max(1, min(4, cpus))


_ROUTABLE: dict = {}


def _routable(model, day) -> bool:
    """Whether every tier's deadline can be counted from ``day`` (9999-12-31 overflows)."""
    key = (id(model.taxonomy), day)
    if key not in _ROUTABLE:
        try:
            cat = model.taxonomy.category_codes[0]
            for tier in model.taxonomy.tier_codes:
                route(model.taxonomy, cat, tier, day)
            _ROUTABLE[key] = True
        except (OverflowError, ValueError, ArithmeticError, InputError):
            _ROUTABLE[key] = False
    return _ROUTABLE[key]


def triage_columns(model, texts: list, date_values: list, deputies: list) -> tuple[dict[str, list], list[int]]:
    """The output columns (``OUTPUT_COLUMNS``) for these texts, and the rows (0-based) whose
    date is unreadable or out of range: their deadline is left empty."""
    dates, bad = [], []
    for i, v in enumerate(date_values):
        try:
            day = parse_date(v)
        except InputError:
            day = False
        if day is False or (day is not None and not _routable(model, day)):
            day = None
            bad.append(i)
        dates.append(day)
    # A chunk makes many short-lived lists and strings, all freed by reference counting; the
    # cycle collector would walk them again and again for nothing (10% of a chunk's time,
    # measured on 50,000 corpus opinions). It is paused for the chunk and runs between chunks.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        cols = model.predict_columns(texts, dates, deputies, alternatives=False, terms_as_text=True)
    finally:
        if was_enabled:
            gc.enable()
    out = {name: cols[name] for name in OUTPUT_COLUMNS}
    for name in ("category", "subtopic", "tier", "review_reason", "out_of_scope_kind", "lead_agency", "deadline"):
        out[name] = [v or "" for v in out[name]]
    return out, bad


def _inputs(df, text_col, date_col, deputy_col):
    n = len(df)
    return (df[text_col].tolist(), df[date_col].tolist() if date_col else [None] * n,
            df[deputy_col].tolist() if deputy_col else [None] * n)


def attach(df: pd.DataFrame, cols: dict[str, list]) -> pd.DataFrame:
    out = df.drop(columns=[c for c in DERIVED_COLUMNS if c in df.columns])
    for name in OUTPUT_COLUMNS:
        out[name] = cols[name]
    return out


def _names(model) -> dict:
    tax = model.taxonomy
    return {"category": {c.code: c.name_zh for c in tax.categories},
            "tier": {t.code: t.name_zh for t in tax.tiers}}


def classify_file(src, dst, model, *, text_column: str | None = None, date_column: str | None = None,
                  deputy_column: str | None = None, chunksize: int = 5000, jobs: int | str = "auto",
                  progress=None, sheet: str | None = None, in_format: str | None = None,
                  out_format: str | None = None) -> BatchSummary:
    """Triage every row of ``src`` into ``dst`` (CSV, TSV, XLSX or JSONL by extension or
    format; ``-`` for standard input or output).

    Rows with empty or unusable text are kept and marked ``needs_review`` with a reason.
    jobs: processes, or ``"auto"`` (``auto_jobs``). progress: called with each chunk's row count."""
    if not is_stdio(src) and not is_stdio(dst) and Path(src).resolve() == Path(dst).resolve():
        raise InputError(f"the output {shown(dst)} is the input file; expected a different output path")
    start = time.perf_counter()
    summary = BatchSummary(output=shown(dst))
    chunks = read_chunks(src, chunksize, sheet=sheet, fmt=in_format)
    first = next(chunks, None)
    if first is None:
        first = pd.DataFrame()
    text_col = find_column(first.columns, text_column, TEXT_COLUMNS, "text")
    date_col = find_column(first.columns, date_column, DATE_COLUMNS, "date", required=False)
    deputy_col = find_column(first.columns, deputy_column, DEPUTY_COLUMNS, "deputy", required=False)
    summary.replaced_columns = [c for c in OUTPUT_COLUMNS if c in first.columns]
    summary.jobs = auto_jobs(src, in_format, len(first), chunksize) if jobs == "auto" else int(jobs)

    def all_chunks():
        if len(first):
            yield first
        yield from chunks

    pool = _pool(model, summary.jobs) if summary.jobs > 1 and len(first) else None  # forks before any thread
    finished = False
    try:
        with TableWriter(dst, fmt=out_format, names=_names(model)) as writer:
            if len(first) == 0:
                writer.write(attach(first, triage_columns(model, [], [], [])[0]))
            for chunk, (cols, bad) in _results(model, pool, summary.jobs, all_chunks(), text_col, date_col, deputy_col):
                writer.write(attach(chunk, cols))
                summary.add(cols, bad, summary.rows)
                if progress is not None:
                    progress(len(chunk))
        finished = True
    finally:
        if pool is not None:
            _stop(pool, now=not finished)
    summary.seconds = time.perf_counter() - start
    return summary


# --- process pool: one model per worker, workers that end with their parent -------------
# On Linux the workers are forked from the process that already holds the model (no second
# load; its arrays stay shared between the processes); elsewhere each worker loads it once.
_WORKER = {}


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the parent dies, even by SIGKILL (Linux: PR_SET_PDEATHSIG),
    and, where that is missing, notice within a second that the parent is gone."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()


def _init_worker(model_path: str | None, parent: int) -> None:
    _die_with_parent(parent)
    if model_path is not None:
        from triage.store.folder import load

        _WORKER["model"] = load(model_path).warm_up()


def _work(args):
    """Texts, dates and deputies of one chunk in; its output columns out (small to send back)."""
    return triage_columns(_WORKER["model"], *args)


def _pool(model, jobs: int):
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" in multiprocessing.get_all_start_methods():
        _WORKER["model"] = model.warm_up()
        gc.freeze()  # what exists now is never collected: the forked workers keep sharing its pages
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker, initargs=(None, os.getpid()))
    path = getattr(model, "path_", None)
    if not path:
        raise InputError("jobs > 1 needs a model loaded from a model folder")
    return ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(path, os.getpid()))


def _stop(pool, now: bool) -> None:
    """Shut the pool down; ``now`` (an error, Ctrl-C, SIGTERM): queued chunks cancelled and
    running workers ended instead of waited for."""
    import gc

    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not now, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)
    gc.unfreeze()


def _results(model, pool, jobs, chunks, text_col, date_col, deputy_col):
    """(chunk, (columns, bad date rows)) in input order; with a pool, at most two chunks per
    worker in flight, so a million-row input is never read into memory ahead of the workers."""
    from collections import deque

    if pool is None:
        for c in chunks:
            yield c, triage_columns(model, *_inputs(c, text_col, date_col, deputy_col))
        return
    pending = deque()
    window = 2 * jobs
    for c in chunks:
        pending.append((c, pool.submit(_work, _inputs(c, text_col, date_col, deputy_col))))
        if len(pending) >= window:
            done, fut = pending.popleft()
            yield done, fut.result()
    while pending:
        done, fut = pending.popleft()
        yield done, fut.result()
