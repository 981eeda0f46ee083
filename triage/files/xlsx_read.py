"""Reading an Excel workbook's sheet in chunks, every cell as text, formulas never evaluated."""
from __future__ import annotations

import math
import zipfile

import pandas as pd

from triage.errors import InputError
from triage.files.columns import check_header, machine_name
from triage.files.formats import shown


def cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v.is_integer():
            return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def open_workbook(path, name=None):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)  # formulas are never evaluated
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(f"{name or shown(path)}: expected an Excel .xlsx workbook, found an unreadable file "
                         f"({type(exc).__name__})") from None


def xlsx_sheets(path) -> list[str]:
    wb = open_workbook(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _has_rows(ws) -> bool:
    return any(any(c is not None and str(c).strip() for c in row) for row in ws.iter_rows(max_row=5, values_only=True))


def pick_sheet(wb, name: str, sheet: str | None):
    """The sheet named ``sheet`` (or numbered, from 1); without one, the only sheet holding
    anything. Several sheets with data and no choice is an error listing them."""
    names = list(wb.sheetnames)
    if sheet is not None:
        if sheet in names:
            return wb[sheet]
        if sheet.isdigit() and 1 <= int(sheet) <= len(names):
            return wb.worksheets[int(sheet) - 1]
        raise InputError(f"{name}: sheet {sheet!r} not found; the workbook has sheets {names}")
    if len(names) == 1:
        return wb.worksheets[0]
    filled = [ws for ws in wb.worksheets if _has_rows(ws)]
    if len(filled) == 1:
        return filled[0]
    if not filled:
        return wb.worksheets[0]
    raise InputError(f"{name}: the workbook has {len(filled)} sheets with data {[ws.title for ws in filled]}; "
                     f"expected --sheet naming the one to read")


def xlsx_chunks(path, name: str, chunksize: int, sheet: str | None = None):
    wb = open_workbook(path, name)
    try:
        ws = pick_sheet(wb, name, sheet)
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{name}: expected a header row in sheet {ws.title!r}, found an empty sheet")
        names = [cell_text(c).strip() for c in header]
        while names and not names[-1]:
            names.pop()
        names = [machine_name(c) for c in names]
        check_header(names, name)
        width = len(names)
        buf = []
        try:
            for row in rows:
                cells = [cell_text(c) for c in row[:width]]
                buf.append(cells + [""] * (width - len(cells)))
                if len(buf) >= chunksize:
                    yield pd.DataFrame(buf, columns=names, dtype=str)
                    buf = []
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as exc:
            raise InputError(f"{name}: the workbook is damaged or truncated ({type(exc).__name__})") from None
        if buf:
            yield pd.DataFrame(buf, columns=names, dtype=str)
    finally:
        wb.close()
