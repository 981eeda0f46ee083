"""The promotion quality check: two models' recipes cross-validated on the SAME folds of the
same labelled data.

Each model's recipe (its segmenter, features, classifier and their settings, as fitted) is
retrained on the training part of every fold, off-topic texts included as in training, and
predicts the held-out part; category and tier macro-F1 are computed against the data
folder's labels (corpus merged with corrections, as ``triage train`` merges them). Both
models are retrained on the same labels, so the check compares recipes, not training data.
With the same data, folds and seed, a model's category macro-F1 here equals its card's.

``triage models promote`` and ``triage train`` both decide with this (``triage.store.versions``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from triage import paths
from triage.data import DataFolder, merge_corrections, read_labelled
from triage.errors import InputError
from triage.model.prediction import OFFTOPIC
from triage.taxonomy import load_taxonomy


@dataclass
class Comparison:
    metrics: dict[str, dict]          # per model: {"category": metrics, "tier": metrics}
    versions: dict[str, str | None]   # per model: its card's version (None for a model not saved)
    n_splits: int
    n_rows: int
    random_state: int
    labels: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Labelled:
    folder: Path
    taxonomy: object
    texts: list[str]
    categories: list[str]
    tiers: list[str]
    offtopic: list[str]
    subtopics: list[str] = field(default_factory=list)
    kinds: list = field(default_factory=list)


def read_data(data_dir: str | Path | None = None) -> Labelled:
    folder = Path(data_dir) if data_dir else paths.data_dir()
    taxonomy = load_taxonomy(folder / "taxonomy.toml")
    corpus = read_labelled(folder / "corpus.csv", taxonomy)
    corr_path = folder / "corrections.csv"
    corrections = read_labelled(corr_path, taxonomy, "corrections") if corr_path.is_file() else None
    frame, _ = merge_corrections(corpus, corrections)
    offtopic, kinds = DataFolder(folder).out_of_scope(taxonomy)
    return Labelled(folder, taxonomy, frame["text"].tolist(), frame["category"].tolist(), frame["tier"].tolist(),
                    offtopic, frame["subtopic"].tolist(), kinds)


def cross_validate(models: dict, data: Labelled, cv: int = 5, random_state: int = 0) -> Comparison:
    """Out-of-fold category and tier macro-F1 of every model's recipe on the same folds."""
    import joblib
    from sklearn.base import clone

    from triage.model.fitting import Coarse, fold_labels, training_labels
    from triage.model.selection import folds, metrics

    if not models:
        raise ValueError("cross_validate needs at least one model")
    n = len(data.texts)
    joined = {name: m.segment(data.texts) for name, m in models.items()}
    off_joined = {name: m.segment(data.offtopic) for name, m in models.items()}
    keep = [i for i in range(len(data.offtopic)) if all(off_joined[name][i] for name in models)]
    cat_y = np.array(list(data.categories) + [OFFTOPIC] * len(keep), dtype=object)
    fine_y = cat_y  # folds stratified on what training learns: subtopics and kinds where the data has them
    if data.taxonomy.subtopics or data.taxonomy.out_of_scope:
        fine_y = training_labels(data.taxonomy, data.categories, data.subtopics or None, len(keep),
                                 [(data.kinds or [None] * len(data.offtopic))[i] for i in keep])
    tiers = np.array(data.tiers, dtype=object)
    try:
        splitter = folds(fine_y, cv, random_state)
    except ValueError as exc:
        raise InputError(f"{data.folder}: cannot cross-validate: {exc}") from None
    splits = list(splitter.split(np.zeros(len(fine_y)), fine_y))
    labels = {"category": [c for c in data.taxonomy.category_codes if c in set(data.categories)],
              "tier": [t for t in data.taxonomy.tier_codes if t in set(data.tiers)]}
    scores, done = {}, {}
    for name, m in models.items():
        recipe = joblib.hash((clone(m.category_pipeline_), clone(m.tier_pipeline_)))
        if recipe in done:  # the same recipe on the same rows gives the same predictions
            scores[name] = scores[done[recipe]]
            continue
        done[recipe] = name
        X = np.array(joined[name] + [off_joined[name][i] for i in keep], dtype=object)
        learned = cat_y if m.hierarchy_.flat else fine_y  # what it learned, as training gave it
        cat_pred, tier_pred = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
        for train, test in splits:
            cat_pipe = clone(m.category_pipeline_[1:]).fit(list(X[train]), fold_labels(list(learned[train]),
                                                                                          data.taxonomy))
            tr_tier = train[train < n]
            tier_pipe = clone(m.tier_pipeline_[1:]).fit(list(X[tr_tier]), tiers[tr_tier])
            test = test[(test < n)]
            test = test[X[test] != ""]  # no usable words: no prediction
            if not len(test):
                continue
            h = Coarse(data.taxonomy).hierarchy(cat_pipe.classes_)
            classes = np.asarray(h.coarse, dtype=object)
            real = np.array([j for j, c in enumerate(classes) if c != OFFTOPIC])
            proba = h.aggregate(cat_pipe.predict_proba(list(X[test])))
            cat_pred[test] = classes[real[np.argmax(proba[:, real], axis=1)]]
            tier_classes = np.asarray(tier_pipe.classes_, dtype=object)
            tier_pred[test] = tier_classes[np.argmax(tier_pipe.predict_proba(list(X[test])), axis=1)]
        scores[name] = {"category": metrics(data.categories, cat_pred, labels["category"]),
                        "tier": metrics(data.tiers, tier_pred, labels["tier"])}
    versions = {name: (getattr(m, "card_", None) or {}).get("version") for name, m in models.items()}
    return Comparison(scores, versions, splitter.get_n_splits(), n, random_state, labels)


def compare(candidate, current, data_dir: str | Path | None = None, *, cv: int | None = None,
            random_state: int | None = None) -> Comparison:
    """Cross-validate the candidate and the current model side by side on the same folds of
    the data in ``data_dir`` (default: the bundled data, or TRIAGE_DATA_DIR).

    candidate, current: a TriageModel, a version folder, or a models folder (its CURRENT).
    Folds: the candidate's number of folds and random seed unless given."""
    from triage.store.folder import load

    cand, cur = (load(m) if isinstance(m, (str, os.PathLike)) else m for m in (candidate, current))
    return cross_validate({"current": cur, "candidate": cand}, read_data(data_dir), cv=cv or cand.cv,
                          random_state=cand.random_state if random_state is None else random_state)
