"""Saved models: a folder per version; ``models/CURRENT`` names the version in service.

A version folder (format 2) holds:

* ``card.json``: labels, review threshold, every constructor parameter, cross-validated
  metrics, the training data's hashes, library versions, the SHA-256 of every other file,
  and a digest over its own decision fields (``triage.store.card``);
* ``taxonomy.json`` and ``segmenter.json`` (user dictionary, stop words, settings);
* ``scorer.npz`` (numbers only, read with ``allow_pickle=False``) and ``scorer.json``
  (vocabularies, n-gram ranges, links): the packed scorer that predicts;
* ``parity.json``: the fixed sample of segmented texts of the parity check;
* ``pipelines.joblib``: the scikit-learn pipelines, read only to retrain or analyse (or
  when the packed scorer fails the parity check). It may be left out of a folder that only
  predicts.

``load`` checks the card's digest and every file's hash before reading anything, and never
unpickles to predict.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from pathlib import Path

from triage.errors import ModelError
from triage.files.atomic import atomic_folder, write_text
from triage.files.hashing import sha256_file, sha256_files
from triage.store.card import (card_digest, check_digest, library_versions, params_from_json, params_to_json,
                               segmenter_from_json, segmenter_to_json)
from triage.store.parts import (PARITY_FILE, PIPELINES_FILE, SCORER_ARRAYS, SCORER_META, check_parity,
                                read_packed, write_parts)
from triage.store.mark import CARD_FILE, CURRENT_FILE, current_version, set_current, version_dir
from triage.taxonomy import Taxonomy

__all__ = ["CARD_FILE", "CURRENT_FILE", "FORMAT", "load", "read_card", "rebuild", "resolve_model_dir", "save",
           "set_current", "sha256_file", "sha256_files"]

FORMAT = 2
TAXONOMY_FILE, SEGMENTER_FILE = "taxonomy.json", "segmenter.json"
FILES = (TAXONOMY_FILE, SEGMENTER_FILE, SCORER_ARRAYS, SCORER_META, PARITY_FILE, PIPELINES_FILE)
log = logging.getLogger("triage.store")
_WARNED: set = set()


def warn_once(key, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        log.warning(message)


def resolve_model_dir(path: str | Path) -> Path:
    """A version folder (holding a card) as is; a models folder through its CURRENT mark, which
    may only name a version folder directly inside it."""
    path = Path(path)
    if (path / CARD_FILE).is_file():
        return path
    if (path / CURRENT_FILE).is_file():
        version = current_version(path)
        target = version_dir(path, version or "", what=f"{CURRENT_FILE} mark")
        if not (target / CARD_FILE).is_file():
            raise ModelError(f"{path / CURRENT_FILE} names version {version!r}, but {target} holds no {CARD_FILE}")
        return target
    if not path.exists():
        raise ModelError(f"model folder not found: {path}")
    raise ModelError(f"{path} is not a model: expected {CARD_FILE} (a version folder) or {CURRENT_FILE} (a models folder)")


def save(model, folder: str | Path, data: dict, version: str | None = None) -> Path:
    """Write ``model`` (a fitted ``TriageModel``) into a new version folder under ``folder``.

    data: {"sha256": ..., "files": {...}, "n_corrections": ...} describing the training data.
    The folder is built under a temporary name and renamed when complete."""
    parts = model.to_parts()
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    version = version or f"{created:%Y%m%d-%H%M%S}-{data['sha256'][:8]}"
    target = version_dir(root, version)
    if target.exists():
        raise ModelError(f"model version {version!r} already exists in {root}")
    with atomic_folder(target) as tmp:
        write_text(tmp / TAXONOMY_FILE, json.dumps(model.taxonomy.to_dict(), ensure_ascii=False, indent=2))
        write_text(tmp / SEGMENTER_FILE, segmenter_to_json(parts["segmenter"]))
        parity = check_parity(parts["packed"], parts["pipelines"])
        if parity["engine"] != "packed":
            warn_once(("save", version), f"model {version}: the packed scorer differs from scikit-learn by "
                                         f"{parity['max_difference']:.3g}; it will predict through scikit-learn")
        write_parts(tmp, parts, parity)
        categories = list(parts["categories"])
        card = {
            "format": FORMAT,
            "version": version,
            "created_at": created.isoformat(),
            "taxonomy": {"name": model.taxonomy.name, "version": model.taxonomy.version},
            "labels": {"categories": [c for c in model.categories_ if not c.startswith("_")],
                       "subtopics": [c for c in categories if c in set(model.taxonomy.subtopic_codes)],
                       "kinds": [c.split(":", 1)[1] for c in categories if c.startswith("_offtopic:")],
                       "tiers": parts["tiers"], "classes": {"category": categories, "tier": parts["tiers"]}},
            "review_threshold": parts["review_threshold"],
            "calibration": {"temperature": parts.get("temperature", 1.0),
                            "novelty_threshold": parts.get("novelty_threshold", 0.0)},
            "params": params_to_json(parts["params"]),
            "engine": parity["engine"],
            "parity": {k: v for k, v in parity.items() if k != "texts"},
            "training": parts["report"],
            "data": data,
            "files": {p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.name in FILES},
            "libraries": library_versions(),
        }
        card["digest"] = card_digest(card)
        write_text(tmp / CARD_FILE, json.dumps(card, ensure_ascii=False, indent=2) + "\n", what="model card")
    return target


def read_card(folder: str | Path) -> dict:
    folder = resolve_model_dir(folder)
    try:
        return json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{folder / CARD_FILE} is not valid JSON: {exc}") from None


def checked_card(folder: Path) -> dict:
    """The card of a version folder after checking its format, its digest and the hash of every
    file it lists (a missing ``pipelines.joblib`` is allowed: the folder then only predicts)."""
    card = read_card(folder)
    if card.get("format") != FORMAT:
        old = (" (format 1 is a pickled model.joblib, which is not read any more because unpickling can run "
               "code; train a new version with 'triage train')") if card.get("format") == 1 else ""
        raise ModelError(f"{folder.name}: model format {card.get('format')!r} is not supported "
                         f"(expected {FORMAT}){old}")
    check_digest(card, folder.name)
    files = card.get("files") or {}
    for name in FILES:
        if name not in files and name != PIPELINES_FILE:
            raise ModelError(f"{folder.name}: its card lists no hash for {name}")
    for name, expected in files.items():
        if name not in FILES:
            raise ModelError(f"{folder.name}: its card lists an unknown file {name[:60]!r}")
        path = folder / name
        if not path.is_file():
            if name == PIPELINES_FILE:
                continue
            raise ModelError(f"{folder.name}: missing {name}")
        found = sha256_file(path)
        if found != expected:
            raise ModelError(f"{folder.name}/{name} does not match its model card: expected SHA-256 "
                             f"{str(expected)[:16]}..., found {found[:16]}...; the file was changed or corrupted, "
                             f"refusing to load it")
    return card


def read_pipelines(folder: Path, expected: str | None, card: dict) -> dict:
    """The scikit-learn pipelines of a version folder, after checking their hash again."""
    import joblib

    path = folder / PIPELINES_FILE
    if not path.is_file() or expected is None:
        raise ModelError(f"{folder.name} holds no {PIPELINES_FILE}: it can predict but not retrain or analyse")
    if sha256_file(path) != expected:
        raise ModelError(f"{folder.name}/{PIPELINES_FILE} does not match its model card; refusing to read it")
    try:
        pipes = joblib.load(path)
    except Exception as exc:  # a file matching its card but unreadable: other library versions
        raise ModelError(f"{folder.name}/{PIPELINES_FILE} could not be read ({type(exc).__name__}); "
                         f"it was saved with {card.get('libraries')}") from None
    classes = card["labels"]["classes"]
    if [list(map(str, pipes[p].classes_)) for p in ("category", "tier")] != [classes["category"], classes["tier"]]:
        raise ModelError(f"{folder.name}: the labels in {PIPELINES_FILE} differ from its card")
    return pipes


def _recipe(folder: Path, card: dict) -> tuple[dict, object]:
    """The constructor parameters of a checked version folder, and its fitted segmenter."""
    taxonomy = Taxonomy.from_dict(json.loads((folder / TAXONOMY_FILE).read_text("utf-8")), TAXONOMY_FILE)
    segmenter = segmenter_from_json((folder / SEGMENTER_FILE).read_text("utf-8"))
    return params_from_json(card["params"], taxonomy, segmenter), segmenter


def load(folder: str | Path):
    """Load a version folder (or the CURRENT version of a models folder) after checking its card."""
    from triage.model.estimator import TriageModel

    folder = resolve_model_dir(folder)
    card = checked_card(folder)
    params, segmenter = _recipe(folder, card)
    pipelines = functools.partial(read_pipelines, folder, card["files"].get(PIPELINES_FILE), card)
    packed = read_packed(folder, card, segmenter, pipelines, warn_once)
    classes = card["labels"]["classes"]
    return TriageModel.from_parts(params, segmenter=segmenter, categories=classes["category"], tiers=classes["tier"],
                                  review_threshold=card["review_threshold"], report=card.get("training", {}),
                                  temperature=float((card.get("calibration") or {}).get("temperature", 1.0)),
                                  novelty_threshold=float((card.get("calibration") or {}).get("novelty_threshold", 0.0)),
                                  packed=packed, pipelines=pipelines, card=card, path=str(folder))


def rebuild(folder: str | Path):
    """An unfitted ``TriageModel`` with every constructor parameter its card records."""
    from triage.model.estimator import TriageModel

    folder = resolve_model_dir(folder)
    return TriageModel(**_recipe(folder, checked_card(folder))[0])
