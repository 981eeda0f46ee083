"""Reading opinion tables in chunks: CSV, TSV and tab-separated .txt in any encoding of
``triage.files.encoding``, JSONL, XLSX (``triage.files.xlsx_read``), and standard input (``-``).
Every cell comes back as a string; empty cells are ``""``."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from triage.errors import InputError
from triage.files.columns import check_header, machine_name
from triage.files.encoding import BY_LINE, ByLineText, detect_encoding, open_text
from triage.files.formats import file_format, is_stdio, shown

csv.field_size_limit(1 << 30)  # a long opinion is not an error


def read_chunks(path, chunksize: int = 5000, sheet: str | None = None, fmt: str | None = None) -> Iterator[pd.DataFrame]:
    """Yield the table in DataFrames of at most ``chunksize`` rows, every cell a string.

    path: a file, or ``-`` for standard input. sheet: for a workbook, the sheet to read
    (required when it has several). fmt: ``csv``, ``tsv``, ``xlsx`` or ``jsonl`` instead of the
    extension (``-`` without it: a workbook, JSON lines or CSV/TSV as its first bytes show)."""
    if is_stdio(path):
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("expected a table on standard input (a pipe or a redirected file), found a terminal")
        return _from_stdin(chunksize, sheet, fmt and file_format(path, fmt))
    fmt = file_format(path, fmt)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {shown(path)}")
    return _chunks(path, shown(path), chunksize, sheet, fmt)


def _chunks(path: Path, name: str, chunksize, sheet, fmt):
    if fmt == "xlsx":
        from triage.files.xlsx_read import xlsx_chunks

        return xlsx_chunks(path, name, chunksize, sheet)
    if fmt == "jsonl":
        return _jsonl_chunks(path, name, chunksize)
    return _csv_chunks(path, name, chunksize, "\t" if fmt == "tsv" else None)


def _from_stdin(chunksize, sheet, fmt):
    """Standard input is copied to a temporary file first: the encoding and the workbook
    format need to see the whole of it."""
    fd, tmp = tempfile.mkstemp(prefix="triage-stdin-")
    try:
        with os.fdopen(fd, "wb") as fh:
            shutil.copyfileobj(sys.stdin.buffer, fh, 1 << 20)
        yield from _chunks(Path(tmp), "standard input", chunksize, sheet, fmt or _sniff(tmp))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _sniff(path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if text.startswith(b"{") else "csv"


def _csv_chunks(path: Path, name: str, chunksize: int, sep: str | None):
    enc = detect_encoding(path, name)
    names, sep, first = _csv_head(path, name, enc, sep)
    check_header(names, name)
    if first is not None and len(first) > len(names):
        extra = "a trailing separator?" if not any(c.strip() for c in first[len(names):]) else "a value too many"
        raise InputError(f"{name}: row 2 (the first data row) has {len(first)} fields but the header has "
                         f"{len(names)} ({extra}); expected one field per column")
    source = path if enc not in (BY_LINE,) else ByLineText(path, name)
    try:
        reader = pd.read_csv(source, encoding=enc if enc != BY_LINE else None, sep=sep, dtype=str,
                             keep_default_na=False, chunksize=chunksize, header=0, names=names, index_col=False,
                             quoting=csv.QUOTE_MINIMAL, engine="c")
        for chunk in reader:
            yield chunk
    except pd.errors.ParserError as exc:
        raise InputError(f"{name}: not a readable {'TSV' if sep == chr(9) else 'CSV'}: {exc}") from None
    finally:
        if source is not path:
            source.close()


def _csv_head(path, name, enc, sep):
    """The header row (bilingual headers of our own workbooks mapped back), the separator
    (a tab when the header row has more tabs than commas, unless told), and the first data row."""
    with open_text(path, enc, name) as fh:
        line = fh.readline()
    if sep is None:
        sep = "\t" if line.count("\t") > line.count(",") else ","
    with open_text(path, enc, name) as fh:
        rows = csv.reader(fh, delimiter=sep)
        header, first = next(rows, None), next(rows, None)
    if not header or not any(c.strip() for c in header):
        raise InputError(f"{name}: expected a header row with column names, found an empty first line")
    names = [c.strip() for c in header]
    if names[0].startswith("\ufeff"):
        names[0] = names[0][1:]
    names = [machine_name(c) for c in names]
    return names, sep, first


def _value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _jsonl_chunks(path: Path, name: str, chunksize: int):
    """One JSON object per line. Lines end at ``\\n`` only: a carriage return inside a value
    (escaped or raw) stays in the value. A first pass collects every key (a key first seen far
    down is a column of every chunk) and checks every line, so a bad line stops the run early."""
    enc = detect_encoding(path, name)
    columns: dict[str, None] = {}
    for _, rec in _records(path, name, enc):
        columns.update(dict.fromkeys(rec))
    if not columns and not any(True for _ in _records(path, name, enc)):
        raise InputError(f"{name}: expected JSON lines, found an empty file")
    buf = []
    for _, rec in _records(path, name, enc):
        buf.append({k: _value(v) for k, v in rec.items()})
        if len(buf) >= chunksize:
            yield pd.DataFrame(buf, columns=list(columns), dtype=str).fillna("")
            buf = []
    if buf:
        yield pd.DataFrame(buf, columns=list(columns), dtype=str).fillna("")


def _records(path, name, enc):
    with open_text(path, enc, name) as fh:
        for lineno, line in enumerate(_lines(fh), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line, strict=False)
            except json.JSONDecodeError as exc:
                raise InputError(f"{name}:{lineno}: expected one JSON object per line, found invalid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InputError(f"{name}:{lineno}: expected a JSON object, found {type(rec).__name__}")
            yield lineno, rec


def _lines(fh):
    """The lines of a text stream split at ``\\n`` alone (a text file splits at ``\\r`` too)."""
    rest = ""
    for piece in iter(lambda: fh.read(1 << 16), ""):
        rest += piece
        *whole, rest = rest.split("\n")
        yield from whole
    if rest:
        yield rest
