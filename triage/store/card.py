"""The model card's checks: file hashes, the digest over its decision fields, library versions,
and the constructor parameters as JSON values.

The digest is the SHA-256 of the card's decision fields (format, version, labels, review
threshold, parameters, engine and the hash of every file) written as canonical JSON: a card
whose threshold or labels were edited by hand no longer matches it and is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sys

from triage.errors import ModelError

LIBRARIES = ("station-triage", "scikit-learn", "jieba", "numpy", "scipy", "pandas", "joblib")
DIGESTED = ("format", "version", "labels", "review_threshold", "calibration", "params", "engine", "files")
SEQUENCE_PARAMS = ("feature_sets", "classifiers")  # tuples in Python, lists in JSON


def card_digest(card: dict) -> str:
    fields = {k: card.get(k) for k in DIGESTED if k in card or k != "calibration"}  # cards before 2026-11 have none
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def check_digest(card: dict, where: str) -> None:
    if card.get("digest") != card_digest(card):
        raise ModelError(f"{where}: the card's decision fields (threshold, labels, parameters, file hashes) do not "
                         f"match its digest; the card was edited or corrupted, refusing to load it")


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def library_versions() -> dict[str, str]:
    """The installed versions of ``LIBRARIES`` (and Python), read from the names of the
    ``*.dist-info`` folders on ``sys.path`` (importing ``importlib.metadata`` costs a tenth of a
    second at start-up); "not installed" for a missing one."""
    wanted = {_normal(n): n for n in LIBRARIES}
    out = {"python": platform.python_version()}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                dist, _, version = name[: -len(".dist-info")].partition("-")
                key = wanted.get(_normal(dist))
                if key and key not in out:
                    out[key] = version
    return {k: out.get(k, "not installed") for k in ("python", *LIBRARIES)}


def params_to_json(params: dict) -> dict:
    """The constructor parameters as the card records them: taxonomy and segmenter by file."""
    out = {}
    for k, v in params.items():
        if k == "taxonomy":
            out[k] = {"file": "taxonomy.json"}
        elif k == "segmenter":
            out[k] = None if v is None else {"file": "segmenter.json"}
        elif k in SEQUENCE_PARAMS:
            out[k] = list(v)
        else:
            out[k] = v
    return out


def params_from_json(params: dict, taxonomy, segmenter) -> dict:
    out = {}
    for k, v in params.items():
        if k == "taxonomy":
            out[k] = taxonomy
        elif k == "segmenter":
            out[k] = None if v is None else segmenter
        elif k in SEQUENCE_PARAMS:
            out[k] = tuple(v)
        else:
            out[k] = v
    return out


def segmenter_to_json(segmenter) -> str:
    return json.dumps(segmenter.__getstate__(), ensure_ascii=False, default=sorted, indent=0) + "\n"


def segmenter_from_json(text: str):
    from triage.segment import Segmenter

    seg = Segmenter.__new__(Segmenter)
    seg.__setstate__(json.loads(text))
    return seg
