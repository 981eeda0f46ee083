"""SHA-256 of files: of one file, and one digest over several (what a model card records
for its data folder and its own files)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_files(paths) -> tuple[str, dict[str, str]]:
    """One digest over several files (name and content of each, in the given order), and each file's own."""
    each, h = {}, hashlib.sha256()
    for p in paths:
        p = Path(p)
        digest = sha256_file(p)
        each[p.name] = digest
        h.update(f"{p.name}\0{digest}\n".encode())
    return h.hexdigest(), each
