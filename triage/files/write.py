"""Writing tables chunk by chunk, atomically (``triage.files.atomic``): nothing appears at the
output until the last chunk is written and the file closed; on any error nothing is left.

- CSV: machine-friendly, UTF-8 with a BOM (so Excel shows Chinese), RFC 4180: rows end with
  CRLF and every field holding a comma, quote, ``\\r`` or ``\\n`` is quoted, so a cell never
  splits a row; formulas escaped, header cells included.
- TSV (``.tsv``, ``.txt``): the same, tab-separated.
- JSONL: one JSON object per row, UTF-8, values as they are (no escaping: not a spreadsheet).
- XLSX: a workbook for people (``triage.files.xlsx_write``).
- ``-``: standard output (no BOM; a workbook only when standard output is not a terminal).
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import sys
from pathlib import Path

import pandas as pd

from triage.errors import InputError, OutputError
from triage.files.atomic import atomic_open
from triage.files.escape import escape_formula, escape_formulas
from triage.files.formats import is_stdio, output_format, shown

LINE_END = "\r\n"


class TableWriter:
    """Write DataFrame chunks to ``path`` (or ``-``) in the format of its extension or ``fmt``.

    names: for workbooks, ``{"category": {code: name}, "tier": {code: name}}`` shown beside
    the codes. Use as a context manager, or call ``close()`` (``abort()`` on failure)."""

    def __init__(self, path, fmt: str | None = None, names: dict | None = None):
        self.fmt = output_format(path, fmt)
        self.stdout = is_stdio(path)
        self.path = None if self.stdout else Path(path)
        self.name = "standard output" if self.stdout else shown(path)
        self.names = names
        self.columns: list[str] | None = None
        self.rows = 0
        self._stack = contextlib.ExitStack()
        self._fh = self._sheet = None
        if self.stdout and self.fmt == "xlsx" and sys.stdout.isatty():
            raise InputError("refusing to write a workbook to a terminal; expected standard output to be "
                             "redirected to a file or a pipe (or use --format csv)")
        if not self.stdout:
            self._raw = self._stack.enter_context(atomic_open(self.path, "wb"))  # fails early: folder, rights

    # -------------------------------------------------------------------------- writing
    def write(self, df: pd.DataFrame) -> None:
        try:
            self._write(df)
        except BaseException as exc:
            self._fail(exc)
            if isinstance(exc, OSError):
                raise OutputError(f"could not write {self.name}: {exc.strerror or exc}; nothing was written") from None
            raise

    def _write(self, df: pd.DataFrame) -> None:
        if self.columns is None:
            self.columns = [str(c) for c in df.columns]
            self._open(df)
        elif [str(c) for c in df.columns] != self.columns:
            new = [str(c) for c in df.columns if str(c) not in self.columns]
            if new:
                raise InputError(f"rows further down the input have columns {new} that the first rows did not "
                                 f"have; expected the same columns in every row")
            df = df.reindex(columns=self.columns)
        if self.fmt in ("csv", "tsv"):  # formatted in memory, then encoded once per chunk
            buf = io.StringIO()
            escape_formulas(df).to_csv(buf, header=False, index=False, sep=self._sep, lineterminator=LINE_END)
            self._fh.write(buf.getvalue())
        elif self.fmt == "jsonl":
            self._fh.write("".join(json.dumps(rec, ensure_ascii=False, default=str) + "\n"
                                   for rec in df.to_dict(orient="records")))
        else:
            self._sheet.write(df, first_row=self.rows)
        self.rows += len(df)

    @property
    def _sep(self) -> str:
        return "\t" if self.fmt == "tsv" else ","

    def _open(self, first: pd.DataFrame) -> None:
        if self.fmt == "xlsx":
            from triage.files.xlsx_write import PeopleSheet

            self._sheet = PeopleSheet(self.columns, first, self.names)
            return
        if self.stdout:
            self._fh = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=False)
        else:
            if self.fmt in ("csv", "tsv"):
                self._raw.write(codecs.BOM_UTF8)  # so Excel shows Chinese
            self._fh = io.TextIOWrapper(self._raw, encoding="utf-8", newline="")
        if self.fmt in ("csv", "tsv"):
            csv.writer(self._fh, delimiter=self._sep, lineterminator=LINE_END).writerow(
                [escape_formula(c) for c in self.columns])

    # -------------------------------------------------------------------------- closing
    def close(self):
        """Finish the file (``None`` for standard output, else its path)."""
        if self.columns is None:
            self.abort()
            raise InputError("nothing to write: the input had no header")
        try:
            if self._sheet is not None:
                if self.stdout:
                    buf = io.BytesIO()
                    self._sheet.save(buf)
                    sys.stdout.buffer.write(buf.getvalue())
                else:
                    self._sheet.save(self._raw)
            elif self._fh is not None:
                self._fh.flush()
                self._fh.detach()  # the raw file stays open for atomic_open to fsync and rename
            if self.stdout:
                sys.stdout.buffer.flush()
            self._stack.close()
        except BaseException as exc:
            self._fail(exc)
            if isinstance(exc, OSError):
                raise OutputError(f"could not write {self.name}: {exc.strerror or exc}; nothing was written") from None
            raise
        return self.path

    def abort(self) -> None:
        self._fail(InputError("aborted"))

    def _fail(self, exc: BaseException) -> None:
        """Drop the temporary file (``atomic_open`` sees the error and writes nothing)."""
        stack, self._stack = self._stack, contextlib.ExitStack()
        if self._sheet is not None:
            self._sheet.discard()
            self._sheet = None
        with contextlib.suppress(BaseException):
            stack.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self._fail(exc)
        return False

