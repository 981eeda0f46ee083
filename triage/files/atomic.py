"""The one atomic writer: every file the library writes goes through here.

A file is written to a temporary name in the same folder, flushed and fsynced, given the
usual permissions (``0o666`` less the umask; ``mkstemp`` would leave it ``0600``), renamed
over the target, and the folder is fsynced so the rename survives a power cut. A reader
sees either the old file or the complete new one, never half of it.

    write_bytes(path, b"...")
    write_text(path, "...")                      # UTF-8 unless told otherwise
    with atomic_open(path, "w", newline="") as fh:   # stream a large file
        fh.write(...)

Errors of the operating system (folder missing, no permission, disk full) become one
``InputError`` naming the file, never a traceback; the temporary file is removed.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from triage.errors import InputError

__all__ = ["atomic_open", "write_bytes", "write_text", "default_mode", "fsync_dir"]


def default_mode() -> int:
    """The permissions a plain ``open`` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(folder: str | Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None,
                what: str = "output") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it replaces ``path``.

    mode: ``"w"`` (text) or ``"wb"`` (bytes). what: how errors name the file ("output",
    "model card"...). On an exception inside the block nothing is written."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', not {mode!r}")
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{what} folder not found: {path.parent}")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"could not write {what} {path.name} in {path.parent}: {exc.strerror or exc}") from None
    try:
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"could not write {what} {path.name}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes(path: str | Path, data: bytes, what: str = "output") -> Path:
    with atomic_open(path, "wb", what=what) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8", what: str = "output") -> Path:
    with atomic_open(path, "w", encoding=encoding, newline="", what=what) as fh:
        fh.write(text)
    return Path(path)
