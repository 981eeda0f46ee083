"""The scorer files of a version folder and the parity check between the two engines.

``write_parts`` writes ``scorer.npz`` / ``scorer.json`` (``triage.model.fast.serial``),
``parity.json`` and ``pipelines.joblib``; ``read_packed`` reads the packed scorer back with
``numpy.load(..., allow_pickle=False)`` and JSON only, and, when the installed library versions
differ from the card's, scores the stored sample with both engines: a scorer that does not
agree with scikit-learn within ``TOLERANCE`` is set aside (the model predicts through
scikit-learn, with one warning), and without the pipelines the folder is refused.
"""
from __future__ import annotations

import io
import json

import numpy as np

from triage.errors import ModelError
from triage.files.atomic import write_bytes, write_text
from triage.model.fast.parity import TOLERANCE, max_difference, parity_sample
from triage.model.fast.serial import from_arrays, to_arrays
from triage.store.card import library_versions

SCORER_ARRAYS, SCORER_META, PARITY_FILE, PIPELINES_FILE = "scorer.npz", "scorer.json", "parity.json", "pipelines.joblib"
COMPARED = ("python", "station-triage", "scikit-learn", "numpy", "scipy", "joblib")  # what either engine depends on


def check_parity(packed, pipelines: dict, texts: list[str] | None = None) -> dict:
    """Score a fixed sample with both engines: {"engine": "packed" or "sklearn", "max_difference",
    "tolerance", "n_texts", "texts"}."""
    if not (packed[0].fast and packed[1].fast):
        return {"engine": "sklearn", "max_difference": None, "tolerance": TOLERANCE, "n_texts": 0, "texts": []}
    texts = parity_sample(packed[0]) if texts is None else texts
    diff = max_difference(packed, (pipelines["category"], pipelines["tier"]), texts)
    return {"engine": "packed" if diff <= TOLERANCE else "sklearn", "max_difference": diff, "tolerance": TOLERANCE,
            "n_texts": len(texts), "texts": texts}


def write_parts(folder, parts: dict, parity: dict) -> None:
    import joblib

    arrays, meta = to_arrays(*parts["packed"])
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes(folder / SCORER_ARRAYS, buf.getvalue(), what="model scorer")
    write_text(folder / SCORER_META, json.dumps(meta, ensure_ascii=False) + "\n", what="model scorer")
    write_text(folder / PARITY_FILE, json.dumps({"texts": parity["texts"]}, ensure_ascii=False) + "\n")
    buf = io.BytesIO()
    joblib.dump(parts["pipelines"], buf, compress=3)
    write_bytes(folder / PIPELINES_FILE, buf.getvalue(), what="model pipelines")


def read_arrays(folder) -> tuple[dict, dict]:
    try:
        with np.load(folder / SCORER_ARRAYS, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads((folder / SCORER_META).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder.name}: its scorer could not be read ({type(exc).__name__}: {exc})") from None
    return arrays, meta


def versions_differ(card: dict) -> list[str]:
    saved, now = card.get("libraries") or {}, library_versions()
    return [k for k in COMPARED if saved.get(k) != now.get(k)]


def read_packed(folder, card: dict, segmenter, pipelines, warn):
    """The packed scorer of a checked version folder, or None when the model must predict
    through scikit-learn (``pipelines``: a function giving them; ``warn(key, line)``)."""
    files = card["files"]
    if card.get("engine") != "packed":
        if PIPELINES_FILE not in files or not (folder / PIPELINES_FILE).is_file():
            raise ModelError(f"{folder.name} predicts through scikit-learn but holds no {PIPELINES_FILE}")
        warn(("engine", folder.name), f"model {folder.name} predicts through scikit-learn (its card says so)")
        return None
    arrays, meta = read_arrays(folder)
    try:
        packed = from_arrays(arrays, meta, segmenter)
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"{folder.name}: its scorer does not fit together ({type(exc).__name__}: {exc})") from None
    changed = versions_differ(card)
    if not changed:
        return packed
    if not (folder / PIPELINES_FILE).is_file():
        raise ModelError(f"{folder.name} was saved with other library versions ({', '.join(changed)}) and holds no "
                         f"{PIPELINES_FILE} to check its scorer against; refusing to load it")
    texts = json.loads((folder / PARITY_FILE).read_text("utf-8"))["texts"]
    result = check_parity(packed, pipelines(), texts)
    if result["engine"] == "packed":
        return packed
    warn(("parity", folder.name), f"model {folder.name}: the packed scorer differs from scikit-learn by "
                                  f"{result['max_difference']:.3g} under the installed libraries "
                                  f"({', '.join(changed)} changed); predicting through scikit-learn")
    return None
