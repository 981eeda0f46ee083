"""A workbook for people: the sheet ``triage`` with a frozen header row, a filter on every
column, column widths fitted to the first rows, bilingual headers for the columns the library
adds (``类别 category``), category and tier names beside their codes, probabilities as
percentages and yes/no as 是/否.

Written streaming (openpyxl's write-only mode), so memory stays flat. Excel's limits are
refused with a message, never cut silently: a cell holds at most 32,767 characters and a
sheet 1,048,576 rows. Control characters Excel cannot store are shown as U+FFFD."""
from __future__ import annotations

import math

import pandas as pd

from triage.errors import OutputError
from triage.files.columns import HEADERS
from triage.files.escape import escape_formula

MAX_CELL = 32_767
MAX_ROWS = 1_048_576
PERCENT = ("category_probability", "tier_probability")
YES_NO = ("needs_review",)
NAMED = ("category", "tier")  # a *_name column follows each, when names are given
SHEET = "triage"


def _width(text: str) -> float:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text[:80])


class PeopleSheet:
    def __init__(self, columns: list[str], first: pd.DataFrame, names: dict | None):
        import openpyxl
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.utils import get_column_letter

        self._illegal = ILLEGAL_CHARACTERS_RE
        self.names = {k: v for k, v in (names or {}).items() if k in columns}
        self.columns = columns
        self.out: list[str] = []  # the sheet's columns: the input's, with the *_name ones inserted
        for c in columns:
            self.out.append(c)
            if c in self.names:
                self.out.append(f"{c}_name")
        self.wb = openpyxl.Workbook(write_only=True)
        self.ws = self.wb.create_sheet(SHEET)
        self.ws.freeze_panes = "A2"
        sample = self._rows(first.head(200), 0, check=False)
        for j, col in enumerate(self.out):
            head = HEADERS.get(col, col)
            seen = [_width(str(r[j])) for r in sample if r[j] is not None]
            wide = max([_width(head)] + seen)
            self.ws.column_dimensions[get_column_letter(j + 1)].width = min(60.0, max(8.0, wide + 2))
        self._letters = get_column_letter(len(self.out))
        self.ws.append([escape_formula(HEADERS.get(c, c)) for c in self.out])
        self.rows = 0

    def _rows(self, df: pd.DataFrame, first_row: int, check: bool = True) -> list[list]:
        rows = []
        where = {c: i for i, c in enumerate(df.columns.astype(str))}
        data = [df.iloc[:, i].tolist() for i in range(df.shape[1])]
        for k in range(len(df)):
            row = []
            for c in self.columns:
                v = data[where[c]][k] if c in where else None
                row.append(self._value(c, v, first_row + k, check))
                if c in self.names:
                    row.append(self.names[c].get(v, "") if isinstance(v, str) else "")
            rows.append(row)
        return rows

    def _value(self, col: str, v, index: int, check: bool):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if col in YES_NO and isinstance(v, (bool, str)):
            return "是" if v in (True, "True", "true", "1") else "否" if v in (False, "False", "false", "0") else v
        if isinstance(v, str):
            if check and len(v) > MAX_CELL:
                raise OutputError(f"row {index + 2}, column {col!r}: a cell of {len(v):,} characters; an Excel cell "
                                  f"holds at most {MAX_CELL:,}; expected shorter texts, or write CSV or JSONL instead")
            if self._illegal.search(v):
                v = self._illegal.sub("\ufffd", v)
            return escape_formula(v)
        return v

    def write(self, df: pd.DataFrame, first_row: int) -> None:
        from openpyxl.cell import WriteOnlyCell

        if first_row + len(df) >= MAX_ROWS:
            raise OutputError(f"an Excel sheet holds at most {MAX_ROWS - 1:,} rows under its header; found more; "
                              f"expected a smaller input, or write CSV or JSONL instead")
        percent = [j for j, c in enumerate(self.out) if c in PERCENT]
        for row in self._rows(df, first_row):
            for j in percent:
                if isinstance(row[j], (int, float)):
                    cell = WriteOnlyCell(self.ws, value=row[j])
                    cell.number_format = "0.0%"
                    row[j] = cell
            self.ws.append(row)
        self.rows = first_row + len(df)

    def save(self, fh) -> None:
        self.ws.auto_filter.ref = f"A1:{self._letters}{self.rows + 1}"
        self.wb.save(fh)

    def discard(self) -> None:
        """Drop an unfinished sheet: close its stream and remove openpyxl's temporary file."""
        import contextlib
        import os

        with contextlib.suppress(Exception):
            self.ws.close()
        out = getattr(getattr(self.ws, "_writer", None), "out", None)
        if isinstance(out, str):
            with contextlib.suppress(OSError):
                os.remove(out)
