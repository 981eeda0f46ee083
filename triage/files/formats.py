"""File formats by extension (or ``--format``), ``-`` for standard input and output, and how
files are named in messages (never an absolute path: it can hold a user's name)."""
from __future__ import annotations

from pathlib import Path

from triage.errors import InputError

STDIO = "-"
FORMAT_NAMES = ("csv", "tsv", "xlsx", "jsonl")
# .txt is what Excel saves as "Unicode text" or "Text (tab delimited)": read with the
# separator its header row uses, written tab-separated.
FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "txt", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def is_stdio(path) -> bool:
    return str(path) == STDIO


def shown(path) -> str:
    """How a file is named in a message: as the user gave it when relative, by its name alone
    when absolute (``/home/张伟/…`` would show a person's name), ``standard input/output`` for ``-``."""
    if path is None:
        return "the file"
    if is_stdio(path):
        return "standard input/output"
    p = Path(path)
    return p.name or str(p) if p.is_absolute() else str(p)


def file_format(path, fmt: str | None = None) -> str:
    """``csv``, ``tsv``, ``txt`` (separator read from the header), ``xlsx`` or ``jsonl``.

    fmt: a ``--format`` value, which wins over the extension; ``-`` without one is CSV."""
    if fmt is not None:
        if fmt not in FORMAT_NAMES:
            raise InputError(f"expected a format among {', '.join(FORMAT_NAMES)}, found {fmt!r}")
        return fmt
    if is_stdio(path):
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{shown(path)}: expected a file ending in {', '.join(sorted(FORMATS))}, "
                         f"found {suffix or 'no extension'!r}")
    return FORMATS[suffix]


def output_format(path, fmt: str | None = None) -> str:
    """The format written: as ``file_format``, a ``.txt`` output being tab-separated."""
    found = file_format(path, fmt)
    return "tsv" if found == "txt" else found
