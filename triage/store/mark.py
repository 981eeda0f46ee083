"""The CURRENT mark of a models folder, its HISTORY log and the lock that keeps one move at a time.

``CURRENT`` holds the name of one version folder directly inside the models folder: no path
separators, no ``..``, no absolute path, no symbolic link leading out of the folder. Anything
else is refused with a ``ModelError`` (a mark naming ``../elsewhere`` would make the CLI and
the server load a model from anywhere).

``HISTORY`` is an append-only log, one JSON object per line, of every move of the mark
(``promote``, ``rollback``) and of every refused promotion; it is rewritten whole through
``triage.files.atomic`` under the lock, so a reader never sees half a line.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from pathlib import Path

from triage.errors import ModelError
from triage.files.atomic import write_text

CARD_FILE = "card.json"
CURRENT_FILE = "CURRENT"
HISTORY_FILE = "HISTORY"
LOCK_FILE = ".versions.lock"
LOCK_TIMEOUT = 60.0  # seconds to wait for another move of the mark


def version_dir(root: str | Path, version: str, what: str = "version") -> Path:
    """``root / version`` if ``version`` names a folder directly inside ``root`` (a symbolic link
    is followed only if it stays inside); ``ModelError`` otherwise."""
    root = Path(root)
    bad = (not version or version in (".", "..") or any(c in version for c in "/\\:\0")
           or os.path.isabs(version) or version.startswith("."))
    if bad:
        raise ModelError(f"expected a {what} name (a folder directly inside the models folder {root.name!r}), "
                         f"found {version[:80]!r}")
    target = root / version
    try:
        inside = target.resolve().parent == root.resolve()
    except OSError:
        inside = False
    if target.is_symlink() and not inside:
        raise ModelError(f"{what} {version!r} is a link leading out of the models folder {root.name!r}; refusing it")
    return target


def current_version(folder: str | Path) -> str | None:
    """The name CURRENT holds (checked: a version folder inside ``folder``), or None without a mark."""
    root = Path(folder)
    mark = root / CURRENT_FILE
    if not mark.is_file():
        return None
    version = mark.read_text("utf-8").strip()
    if not version:
        return None
    version_dir(root, version, what=f"{CURRENT_FILE} mark")
    return version


def check_version(root: Path, version: str) -> Path:
    target = version_dir(root, version)
    if not (target / CARD_FILE).is_file():
        names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                       and (p / CARD_FILE).is_file()) if root.is_dir() else []
        raise ModelError(f"no model version {version!r} in {root}; versions there: {names or 'none'}")
    return target


def read_history(folder: str | Path) -> list[dict]:
    path = Path(folder) / HISTORY_FILE
    if not path.is_file():
        return []
    events = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except ValueError:
                raise ModelError(f"{path}:{n}: expected one JSON object per line, found {line[:60]!r}") from None
    return events


def append_history(root: Path, event: dict) -> None:
    """Add one event to HISTORY (call it under ``locked``)."""
    event = {"at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(), **event}
    path = root / HISTORY_FILE
    old = path.read_text("utf-8") if path.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    write_text(path, old + json.dumps(event, ensure_ascii=False) + "\n", what="model history")


@contextlib.contextmanager
def locked(root: Path):
    """One move of the mark at a time, across processes and platforms (``filelock``)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / LOCK_FILE), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise ModelError(f"another process has held the lock of {root} for {LOCK_TIMEOUT:.0f}s; try again") from None
    try:
        yield
    finally:
        lock.release()


def set_current(folder: str | Path, version: str, *, action: str = "promote", details: dict | None = None,
                expect: str | None = None) -> None:
    """Move the CURRENT mark to ``version`` (atomically) and log the move in HISTORY.

    No quality check: ``triage.store.versions.promote`` is the checked way.
    expect: the version that must still be current (the one a comparison was made against)."""
    root = Path(folder)
    check_version(root, version)
    with locked(root):
        previous = current_version(root)
        if expect is not None and previous != expect:
            raise ModelError(f"the current version changed from {expect} to {previous} meanwhile; compare again")
        write_text(root / CURRENT_FILE, version + "\n", what="model mark")
        append_history(root, {"action": action, "version": version, "previous": previous, **(details or {})})
