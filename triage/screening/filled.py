"""The one reader of the deputies' filled screening workbook (written by
``triage.screening.workbook``), for both of its uses: training corrections
(``triage.screening.corrections``) and confirmed problems for the register
(``triage.register.screening_workbook``).

``read_sheets`` opens the workbook once and returns the sheets holding opinions (a
``record_id`` column and at least one of the columns the deputies fill in), each row as
text by column key: empty cells as "", dates as YYYY-MM-DD, the opinion text as the deputies
see it (the quote the writer put before a leading = + - @ taken off). ``choice`` reads a
drop-down value ("tax 税收与税改", "tax" or "税收与税改") back to its code."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from triage.errors import InputError
from triage.files.escape import unescape_formula
from triage.screening.workbook import COLUMNS, DECISIONS, header_key
from triage.text import normalise

FILLED_KEYS = ("decision", "confirmed_category", "confirmed_tier")


@dataclass
class Sheet:
    title: str
    keys: list  # column key per column (None for a column the writer did not make)
    rows: list  # (row number, {key: text}) for every row below the header


def cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def read_sheets(path) -> list[Sheet]:
    """The opinion sheets of a filled workbook (see the module's description)."""
    import zipfile

    import openpyxl

    path = Path(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InputError(f"workbook not found: {path.name}") from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path.name}: expected the .xlsx workbook written by 'triage screen', found an unreadable "
                         f"file ({type(exc).__name__})") from None
    sheets = []
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            keys = [header_key(c) for c in header]
            if "record_id" not in keys or not set(FILLED_KEYS) & set(keys):
                continue  # the guide, the code lists, or a sheet the deputies added
            out = []
            for n, raw in enumerate(rows, start=2):
                cells = {k: cell_text(raw[i]) if i < len(raw) else "" for i, k in enumerate(keys) if k}
                if "text" in cells:
                    cells["text"] = unescape_formula(cells["text"])
                out.append((n, cells))
            sheets.append(Sheet(ws.title, keys, out))
    finally:
        wb.close()
    if not sheets:
        raise InputError(f"{path.name}: expected sheets with the columns {['record_id', 'text', *FILLED_KEYS]} (a "
                         f"workbook written by 'triage screen'), found none")
    return sheets


def choice(value, entries, what: str):
    """The code of a drop-down value: a code ("tax"), an entry ("tax 税收与税改") or the Chinese
    name; None when empty; ``ValueError`` naming the list otherwise."""
    text = normalise(value).replace("↑", "").strip()
    if not text:
        return None
    first = text.split()[0].lower()
    for code, name in entries:
        if first == code or text == name or first == name or text.lower() == f"{code} {name}".lower():
            return code
    raise ValueError(f"expected a {what} from the list: {', '.join(f'{c} {n}' for c, n in entries)}")


def decision(value):
    """keep / merge / drop (or 保留 / 合并 / 删除) -> the code; None when empty."""
    return choice(value, DECISIONS, "decision")


__all__ = ["COLUMNS", "FILLED_KEYS", "Sheet", "cell_text", "choice", "decision", "read_sheets"]
