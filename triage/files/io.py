"""Reading opinion tables in chunks (CSV in any of the encodings Chinese offices produce,
XLSX, JSONL) and writing them atomically (a temporary file renamed into place, so a crash
never leaves half an output)."""
from __future__ import annotations

import codecs
import io
import json
import math
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from triage.errors import InputError, OutputError

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
TEXT_COLUMNS = ("text", "内容", "意见", "意见内容", "留言详情")
DATE_COLUMNS = ("visit_date", "intake_date", "date", "走访日期", "收集日期", "日期", "留言时间")
DEPUTY_COLUMNS = ("deputy", "代表", "联系代表", "记录代表")
ENTERPRISE_COLUMNS = ("enterprise", "企业", "企业名称", "单位")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: expected a file ending in {', '.join(sorted(FORMATS))}, found {suffix or 'no extension'!r}")
    return FORMATS[suffix]


BY_LINE = "utf-8/gb18030 by line"


def detect_encoding(path: str | Path) -> str:
    """'utf-8-sig' when the whole file is valid UTF-8 (with or without BOM); otherwise
    ``BY_LINE``: each line is read as UTF-8 or else as GB18030 (a superset of GBK and
    GB2312, as Excel on Chinese Windows saves CSV). That also reads files whose lines were
    pasted together from both encodings. A line valid in neither is an error."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            _decode_line(line, path, lineno)
    return BY_LINE


def _decode_line(line: bytes, path, lineno: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return line.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: line {lineno}: expected text in UTF-8 or GBK/GB18030, found undecodable "
                             f"bytes at column {exc.start + 1}") from None


class _ByLineText(io.TextIOBase):
    """A read-only text stream over a binary file, decoding each line on its own."""

    def __init__(self, path):
        self._path = path
        self._fh = open(path, "rb")
        self._lineno = 0
        self._buf = ""

    def readable(self):
        return True

    def readline(self, size=-1):
        if self._buf:
            line, self._buf = self._buf, ""
            return line
        raw = self._fh.readline()
        if not raw:
            return ""
        self._lineno += 1
        text = _decode_line(raw, self._path, self._lineno)
        return text[1:] if self._lineno == 1 and text.startswith("\ufeff") else text

    def read(self, size=-1):
        parts, n = [], 0
        while size is None or size < 0 or n < size:
            line = self.readline()
            if not line:
                break
            parts.append(line)
            n += len(line)
        text = "".join(parts)
        if size is not None and 0 <= size < len(text):
            text, self._buf = text[:size], text[size:]
        return text

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        self._fh.close()
        super().close()


def open_text(path, encoding: str):
    if encoding == BY_LINE:
        return _ByLineText(path)
    return open(path, encoding=encoding, newline="")


def find_column(columns, wanted: str | None, candidates, what: str, required: bool = True) -> str | None:
    cols = [str(c) for c in columns]
    if wanted:
        if wanted in cols:
            return wanted
        raise InputError(f"column {wanted!r} not found; found columns {cols}")
    lowered = {c.strip().lower(): c for c in cols}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    if required:
        raise InputError(f"no {what} column: expected one of {list(candidates)} (or name it with --{what}-column), "
                         f"found columns {cols}")
    return None


def _check_header(columns, path):
    cols = [str(c) for c in columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise InputError(f"{path}: duplicate column names {dup}; expected each column name once")
    blank = [i + 1 for i, c in enumerate(cols) if not c.strip()]
    if blank and len(blank) == len(cols):
        raise InputError(f"{path}: expected a header row with column names, found an empty first row")


def read_chunks(path: str | Path, chunksize: int = 5000, sheet: str | None = None) -> Iterator[pd.DataFrame]:
    """Yield the table in DataFrames of at most ``chunksize`` rows, every cell a string.

    sheet: for a workbook, the sheet to read (default: the first)."""
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    if fmt == "csv":
        return _csv_chunks(path, chunksize)
    if fmt == "xlsx":
        return _xlsx_chunks(path, chunksize, sheet)
    return _jsonl_chunks(path, chunksize)


def _csv_chunks(path, chunksize):
    enc = detect_encoding(path)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    names = _csv_header(path, enc, sep)
    _check_header(names, path)
    source = path if enc != BY_LINE else _ByLineText(path)
    try:
        reader = pd.read_csv(source, encoding=enc if enc != BY_LINE else None, sep=sep, dtype=str,
                             keep_default_na=False, chunksize=chunksize, header=0, names=names)
        for chunk in reader:
            yield chunk
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from None
    finally:
        if source is not path:
            source.close()


def _csv_header(path, enc, sep):
    import csv

    with open_text(path, enc) as fh:
        row = next(csv.reader(fh, delimiter=sep), None)
    if not row:
        raise InputError(f"{path}: expected a CSV with a header row, found an empty first line")
    return [c.strip() for c in row]


def _cell(v) -> str:
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


def xlsx_sheets(path) -> list[str]:
    wb = _open_workbook(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _open_workbook(path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)  # formulas are never evaluated
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: expected an Excel .xlsx workbook, found an unreadable file ({type(exc).__name__})") from None


def _xlsx_chunks(path, chunksize, sheet=None):
    wb = _open_workbook(path)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError(f"{path}: sheet {sheet!r} not found; the workbook has sheets {wb.sheetnames}")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: expected a header row in sheet {ws.title!r}, found an empty sheet")
        names = [_cell(c).strip() for c in header]
        while names and not names[-1]:
            names.pop()
        _check_header(names, path)
        width = len(names)
        buf = []
        try:
            for row in rows:
                cells = [_cell(c) for c in row[:width]]
                if not any(cells) and len(row) <= width:
                    cells = cells + [""] * (width - len(cells))
                buf.append(cells + [""] * (width - len(cells)))
                if len(buf) >= chunksize:
                    yield pd.DataFrame(buf, columns=names, dtype=str)
                    buf = []
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as exc:
            raise InputError(f"{path}: the workbook is damaged or truncated ({type(exc).__name__})") from None
        if buf:
            yield pd.DataFrame(buf, columns=names, dtype=str)
    finally:
        wb.close()


def _jsonl_chunks(path, chunksize):
    enc = detect_encoding(path)
    columns: list[str] | None = None
    buf = []
    with open_text(path, enc) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: expected one JSON object per line, found invalid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, found {type(rec).__name__}")
            if columns is None:
                columns = list(rec)
            extra = [k for k in rec if k not in columns]
            if extra:
                columns += extra
            buf.append({k: ("" if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                            if isinstance(v, (dict, list)) else str(v)) for k, v in rec.items()})
            if len(buf) >= chunksize:
                yield pd.DataFrame(buf, columns=columns, dtype=str).fillna("")
                buf = []
    if buf:
        yield pd.DataFrame(buf, columns=columns, dtype=str).fillna("")
    elif columns is None:
        raise InputError(f"{path}: expected JSON lines, found an empty file")


def escape_formula(value):
    """Neutralise spreadsheet formulas in exported text (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
            return value  # a plain signed number is not a formula
        except ValueError:
            return "'" + value
    return value


_FORMULA_FIRST = frozenset(c[0] for c in _FORMULA_START)
_FORMULA_LINE = re.compile("^[" + re.escape("".join(sorted(_FORMULA_FIRST))) + "]", re.M)


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``escape_formula`` on every cell of a table (a copy where any cell changes). Only text
    columns are looked at, and only their cells starting with a formula character go
    through ``escape_formula``: a million-row export spends its time writing, not here."""
    fixed = {}
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype.kind in "biufcmM":  # numbers, booleans, dates: never a formula
            continue
        values = col.tolist()
        try:  # one scan of the whole column finds most columns clean at once
            if not _FORMULA_LINE.search("\n".join(values)):
                continue
        except TypeError:  # a cell that is not text (empty cells are NaN)
            pass
        hits = [j for j, v in enumerate(values) if isinstance(v, str) and v[:1] in _FORMULA_FIRST]
        if hits:
            for j in hits:
                values[j] = escape_formula(values[j])
            fixed[i] = values
    if not fixed:
        return df
    df = df.copy()
    for i, values in fixed.items():
        df.isetitem(i, pd.Series(values, index=df.index, dtype=object))
    return df


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove temporary files that an earlier, killed run left beside ``path``
    (``.NAME.PID.*.tmp`` whose process no longer exists)."""
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2:].split(".")
        if not parts or not parts[0].isdigit():
            continue
        pid = int(parts[0])
        try:
            os.kill(pid, 0)
            continue  # that run is still going
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


class AtomicTableWriter:
    """Write DataFrame chunks to CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX or JSONL
    according to the extension. Nothing appears at ``path`` until ``close()`` succeeds;
    on error the temporary file is removed."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.fmt = file_format(self.path)
        parent = self.path.parent
        if not parent.is_dir():
            raise OutputError(f"output folder not found: {parent}")
        remove_stale_temporaries(self.path)
        try:
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp")
        except OSError as exc:
            raise OutputError(f"cannot write into {parent}: {exc.strerror or exc}") from None
        os.close(fd)
        self.tmp = Path(tmp)
        self.columns: list[str] | None = None
        self._fh = None
        self._wb = self._ws = None

    def write(self, df: pd.DataFrame) -> None:
        try:
            self._write(df)
        except OSError as exc:
            self.abort()
            raise OutputError(f"could not write {self.path}: {exc.strerror or exc}; nothing was written") from None

    def _write(self, df: pd.DataFrame) -> None:
        if self.columns is None:
            self.columns = [str(c) for c in df.columns]
            self._open()
        elif [str(c) for c in df.columns] != self.columns:
            new = [c for c in df.columns if c not in self.columns]
            if self.fmt != "jsonl" and new:
                raise InputError(f"rows further down the input have columns {new} that the first rows did not have")
            df = df.reindex(columns=self.columns + new if self.fmt == "jsonl" else self.columns)
        if self.fmt == "csv":
            escape_formulas(df).to_csv(self._fh, header=False, index=False, lineterminator="\n")
        elif self.fmt == "jsonl":
            for rec in df.to_dict(orient="records"):
                self._fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        else:
            from openpyxl.cell import WriteOnlyCell

            for row in df.itertuples(index=False):
                cells = []
                for v in row:
                    v = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                    c = WriteOnlyCell(self._ws, value=escape_formula(v) if isinstance(v, str) else v)
                    cells.append(c)
                self._ws.append(cells)

    def _open(self):
        if self.fmt == "csv":
            self._fh = open(self.tmp, "w", encoding="utf-8-sig", newline="")
            pd.DataFrame(columns=self.columns).to_csv(self._fh, index=False, lineterminator="\n")
        elif self.fmt == "jsonl":
            self._fh = open(self.tmp, "w", encoding="utf-8")
        else:
            import openpyxl

            self._wb = openpyxl.Workbook(write_only=True)
            self._ws = self._wb.create_sheet("triage")
            self._ws.append([escape_formula(c) for c in self.columns])

    def close(self) -> Path:
        if self.columns is None:
            raise InputError("nothing to write: the input had no header")
        try:
            if self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            if self._wb is not None:
                self._wb.save(self.tmp)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise OutputError(f"could not write {self.path}: {exc.strerror or exc}; nothing was written") from None
        return self.path

    def abort(self) -> None:
        try:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
