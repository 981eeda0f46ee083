"""Saved models: a folder per version holding ``model.joblib``, a JSON model card and a
copy of the taxonomy it was trained with; ``models/CURRENT`` names the version in service.

The card records labels, threshold, cross-validated metrics, the SHA-256 of the training
data and of the joblib file, and library versions. ``load`` checks the joblib file against
its card *before* unpickling it and refuses a file that does not match.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from triage.errors import ModelError
from triage.taxonomy import Taxonomy

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
TAXONOMY_FILE = "taxonomy.json"
CURRENT_FILE = "CURRENT"
FORMAT = 1
LIBRARIES = ("station-triage", "scikit-learn", "jieba", "numpy", "scipy", "pandas", "joblib")


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


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def resolve_model_dir(path: str | Path) -> Path:
    """A version folder (holding a card) as is; a models folder through its CURRENT mark."""
    path = Path(path)
    if (path / CARD_FILE).is_file():
        return path
    mark = path / CURRENT_FILE
    if mark.is_file():
        version = mark.read_text(encoding="utf-8").strip()
        target = path / version
        if not (target / CARD_FILE).is_file():
            raise ModelError(f"{mark} names version {version!r}, but {target} holds no {CARD_FILE}")
        return target
    if not path.exists():
        raise ModelError(f"model folder not found: {path}")
    raise ModelError(f"{path} is not a model: expected {CARD_FILE} (a version folder) or {CURRENT_FILE} (a models folder)")


def write_atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(model, folder: str | Path, data: dict, version: str | None = None) -> Path:
    """Write ``model`` into a new version folder under ``folder`` (a models folder); returns it.

    data: {"sha256": ..., "files": {...}, "n_corrections": ...} describing the training data.
    The folder is built under a temporary name and renamed when complete."""
    import joblib

    model._check_fitted()
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    version = version or f"{created:%Y%m%d-%H%M%S}-{data['sha256'][:8]}"
    target = root / version
    if target.exists():
        raise ModelError(f"model version {version!r} already exists in {root}")
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{version}."))
    try:
        payload = {"format": FORMAT, **model._payload()}  # category and tier, packed (triage.model.fast.packed)
        joblib.dump(payload, tmp / MODEL_FILE, compress=3)
        (tmp / TAXONOMY_FILE).write_text(json.dumps(model.taxonomy.to_dict(), ensure_ascii=False, indent=2), "utf-8")
        card = {
            "format": FORMAT,
            "version": version,
            "created_at": created.isoformat(),
            "taxonomy": {"name": model.taxonomy.name, "version": model.taxonomy.version},
            "labels": {"categories": [c for c in model.categories_ if not c.startswith("_")], "tiers": model.tiers_,
                       "classes": {"category": model.categories_, "tier": model.tiers_}},
            "review_threshold": model.review_threshold_,
            "params": {"n_alternatives": model.n_alternatives, "n_terms": model.n_terms,
                       "random_state": model.random_state, "cv": model.cv, "min_df": model.min_df},
            "training": model.report_,
            "data": data,
            "artifact": {"file": MODEL_FILE, "sha256": sha256_file(tmp / MODEL_FILE),
                         "taxonomy_sha256": sha256_file(tmp / TAXONOMY_FILE)},
            "libraries": library_versions(),
        }
        (tmp / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", "utf-8")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_card(folder: str | Path) -> dict:
    folder = resolve_model_dir(folder)
    try:
        return json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{folder / CARD_FILE} is not valid JSON: {exc}") from None


def load(folder: str | Path):
    """Load a model folder (or the CURRENT version of a models folder) after checking its hashes."""
    import joblib

    from triage.model.estimator import TriageModel

    folder = resolve_model_dir(folder)
    card = read_card(folder)
    if card.get("format") != FORMAT:
        raise ModelError(f"{folder}: model format {card.get('format')!r} is not supported (expected {FORMAT})")
    for name, key in ((MODEL_FILE, "sha256"), (TAXONOMY_FILE, "taxonomy_sha256")):
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{folder}: missing {name}")
        expected = card.get("artifact", {}).get(key)
        found = sha256_file(path)
        if found != expected:
            raise ModelError(
                f"{path} does not match its model card: expected SHA-256 {str(expected)[:16]}..., "
                f"found {found[:16]}...; the file was changed or corrupted, refusing to load it"
            )
    taxonomy = Taxonomy.from_dict(json.loads((folder / TAXONOMY_FILE).read_text("utf-8")), str(folder / TAXONOMY_FILE))
    try:
        payload = joblib.load(folder / MODEL_FILE)
    except Exception as exc:  # a file matching its card but unreadable: other library versions
        raise ModelError(f"{folder / MODEL_FILE} could not be read ({type(exc).__name__}: {exc}); "
                         f"it was saved with {card.get('libraries')}") from None
    params = card.get("params", {})
    model = TriageModel(taxonomy, n_alternatives=params.get("n_alternatives", 2), n_terms=params.get("n_terms", 5),
                        random_state=params.get("random_state", 0), cv=params.get("cv", 5),
                        min_df=params.get("min_df", 1))
    model.category_pipeline_ = payload["category"]
    model.tier_pipeline_ = payload["tier"]
    model.categories_ = list(payload["category"].classes_)  # not through the pipeline: that would unpack it
    model.tiers_ = list(payload["tier"].classes_)
    classes = card["labels"].get("classes", {})
    if model.categories_ != classes.get("category") or model.tiers_ != classes.get("tier"):
        raise ModelError(f"{folder}: labels in {MODEL_FILE} differ from its card")
    model.review_threshold_ = float(card["review_threshold"])
    model.report_ = card.get("training", {})
    model.card_ = card
    model.path_ = str(folder)
    return model


def list_versions(folder: str | Path) -> list[dict]:
    """See ``triage.store.versions.list_versions`` (kept here under its old name)."""
    from triage.store.versions import list_versions as _list

    return _list(folder)


def set_current(folder: str | Path, version: str) -> None:
    """Move the CURRENT mark and log it in HISTORY; see ``triage.store.versions.set_current``."""
    from triage.store.versions import set_current as _set

    _set(folder, version)
