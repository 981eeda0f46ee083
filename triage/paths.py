"""Where the bundled data and models live.

In a source checkout (or an editable install) they are the top-level ``data/`` and
``models/`` folders. A wheel built from the project carries copies of both inside the
package (``triage/_bundled/``), so ``pip install .`` works without the checkout.
The environment variables ``TRIAGE_DATA_DIR`` and ``TRIAGE_MODELS_DIR`` override both.
"""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "_bundled" / name


def data_dir() -> Path:
    env = os.environ.get("TRIAGE_DATA_DIR")
    return Path(env) if env else _bundled("data")


def models_dir() -> Path:
    env = os.environ.get("TRIAGE_MODELS_DIR")
    return Path(env) if env else _bundled("models")


def taxonomy_path() -> Path:
    return data_dir() / "taxonomy.toml"
