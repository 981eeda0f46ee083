"""Formula escaping (CSV/formula injection): a cell a spreadsheet would run as a formula gets
a leading apostrophe, so Excel and WPS show it as text.

A formula is a cell whose first character other than spaces is ``= + - @`` or their
full-width forms ``＝ ＋ － ＠`` (WPS and Excel with a Chinese input method accept both), or
a cell starting with a tab or carriage return. A plain signed number (``-5``, ``+86``) is left
as it is. Header cells are escaped like any other."""
from __future__ import annotations

import re

import pandas as pd

FORMULA_SIGNS = "=+-@＝＋－＠"
_CELL = re.compile(r"[\t\r]|[\s\u3000]*[" + re.escape(FORMULA_SIGNS) + "]")
_SIGNS = frozenset(FORMULA_SIGNS + "\t\r")


def is_formula(value) -> bool:
    if not isinstance(value, str) or not _CELL.match(value):
        return False
    try:
        float(value)
        return False  # a plain signed number is not a formula
    except ValueError:
        return True


def escape_formula(value):
    """Neutralise a spreadsheet formula in one exported cell."""
    return "'" + value if is_formula(value) else value


def unescape_formula(text: str) -> str:
    """The cell as it was before ``escape_formula`` (for readers of the workbooks we write)."""
    return text[1:] if text.startswith("'") and is_formula(text[1:]) else text


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``escape_formula`` on every cell of a table (a copy where any cell changes). Only text
    columns are looked at, and only those with a cell starting with a sign or a space are
    checked cell by cell: a million-row export spends its time writing, not here."""
    fixed = {}
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype.kind in "biufcmM":  # numbers, booleans, dates: never a formula
            continue
        values = col.tolist()
        firsts = {v[:1] for v in values if isinstance(v, str)}  # a column is clean when no cell starts
        if not any(f in _SIGNS or f.isspace() for f in firsts):  # with a sign or a space: most are
            continue
        hits = [j for j, v in enumerate(values) if is_formula(v)]
        if hits:
            for j in hits:
                values[j] = "'" + values[j]
            fixed[i] = values
    if not fixed:
        return df
    df = df.copy()
    for i, values in fixed.items():
        df.isetitem(i, pd.Series(values, index=df.index, dtype=object))
    return df
