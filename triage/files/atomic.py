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
``WriteError`` naming the file (an ``OutputError``, and an ``InputError`` for callers that
catch that), never a traceback; the temporary file is removed. The temporary name holds the
writer's process id (``.NAME.PID.xxxx.tmp``): one left by a killed run is removed by the next
write of the same file. Messages name the file, not its folder (an absolute path can hold a
user's name).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from triage.errors import InputError, OutputError

__all__ = ["atomic_open", "write_bytes", "write_text", "default_mode", "fsync_dir", "remove_stale_temporaries",
           "WriteError"]


class WriteError(OutputError, InputError):
    """A file could not be written (folder missing, no permission, disk full)."""


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
        raise WriteError(f"{what} folder not found for {path.name}; expected an existing folder")
    remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"could not write {what} {path.name}: {exc.strerror or exc}; nothing was written") from None
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
        raise WriteError(f"could not write {what} {path.name}: {exc.strerror or exc}; nothing was written") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """A folder written whole or not at all: yields a temporary folder beside ``target``
    (permissions as the umask gives a new folder); when the block ends without an error it is
    renamed to ``target`` and the parent folder synced, otherwise it is removed."""
    import shutil

    target = Path(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        os.chmod(tmp, default_mode() | (default_mode() & 0o444) >> 2)  # mkdtemp makes it 0700; x wherever r
        yield tmp
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files an earlier, killed writer of ``path`` left beside it
    (``.NAME.PID.*.tmp`` whose process no longer exists)."""
    path, removed = Path(path), []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # that writer is still running
        except ProcessLookupError:
            pass
        except (PermissionError, OSError):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def write_bytes(path: str | Path, data: bytes, what: str = "output") -> Path:
    with atomic_open(path, "wb", what=what) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8", what: str = "output") -> Path:
    with atomic_open(path, "w", encoding=encoding, newline="", what=what) as fh:
        fh.write(text)
    return Path(path)
