"""Shared fixtures: the shipped model (loaded once) and a small data folder for fast training."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MODELS = ROOT / "models"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = DATA / "samples" / "2025-06.csv"


@pytest.fixture(scope="session")
def shipped():
    import triage

    return triage.load(MODELS)


@pytest.fixture(scope="session")
def taxonomy():
    from triage.taxonomy import load_taxonomy

    return load_taxonomy(DATA / "taxonomy.toml")


def make_small_data(folder: Path, per_category: int = 40) -> Path:
    """A copy of data/ whose corpus keeps ``per_category`` rows of each category, for
    trainings that must finish in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("taxonomy.toml", "userdict.txt", "stopwords.txt", "offtopic.txt"):
        shutil.copy(DATA / name, folder / name)
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)
    small = corpus.groupby("category", group_keys=False).head(per_category)
    small.to_csv(folder / "corpus.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    return make_small_data(tmp_path_factory.mktemp("data"))


FAST = dict(feature_sets=("word",), classifiers=("linearsvc",), cv=3)


@pytest.fixture(scope="session")
def small_model(small_data, tmp_path_factory):
    """A model trained on the small corpus and saved, as (model, version folder)."""
    from triage.train import train_from_data

    return train_from_data(small_data, tmp_path_factory.mktemp("models"), **FAST)
