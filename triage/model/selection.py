"""Model selection by cross-validation, evaluation metrics and the review threshold."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from triage.model.features import make_pipeline


def metrics(y_true, y_pred, labels) -> dict:
    """Macro-F1, accuracy, per-class F1 and the confusion matrix (rows: truth, columns: prediction)."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "n": int(len(y_true)),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "per_class_f1": {label: round(float(f), 4) for label, f in zip(labels, per_class)},
        "confusion_matrix": {
            "labels": list(labels),
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def folds(y, n_splits: int, random_state: int) -> StratifiedKFold:
    smallest = int(np.min(np.unique(np.asarray(y, dtype=object), return_counts=True)[1]))
    if smallest < 2:
        raise ValueError(f"every label needs at least 2 examples for cross-validation; the smallest has {smallest}")
    return StratifiedKFold(n_splits=min(n_splits, smallest), shuffle=True, random_state=random_state)


def candidate(y, features: str, classifier: str, random_state: int, min_df: int, parents=None):
    """The unfitted pipeline (without its segment step) that cross-validation fits for one
    candidate on labels ``y``: its calibration folds fit the smallest class in a training fold."""
    n_min = int(min(np.sum(y == label) for label in set(y)))
    return make_pipeline(features, classifier, None, random_state, segment=False,
                         n_classes_min=max(2, min(3, n_min // 2)), min_df=min_df, parents=parents)


def out_of_fold(joined, y, features, classifier, n_splits=5, random_state=0, n_jobs=None, min_df=1, parents=None):
    """Out-of-fold class probabilities of one candidate on pre-segmented texts (``parents``:
    fine label -> coarse label, for an ensemble candidate)."""
    y = np.asarray(y, dtype=object)
    labels = sorted(set(y))
    if parents is not None:  # cross_val_predict gives the classifier labels encoded as 0..k-1, in sorted order
        parents = {i: parents.get(label, label) for i, label in enumerate(labels)}
    pipe = candidate(y, features, classifier, random_state, min_df, parents)
    cv = folds(y, n_splits, random_state)
    proba = cross_val_predict(pipe, list(joined), y, cv=cv, method="predict_proba", n_jobs=n_jobs)
    return np.array(labels, dtype=object), proba


def restricted_argmax(classes, proba, labels) -> np.ndarray:
    """Per row, the most probable class among ``labels`` (ignoring e.g. the off-topic class)."""
    cols = [i for i, c in enumerate(classes) if c in set(labels)]
    return np.asarray(classes, dtype=object)[cols][np.argmax(proba[:, cols], axis=1)]


def compare(joined, y, labels, feature_sets, classifiers, n_splits=5, random_state=0, n_jobs=None, min_df=1,
            progress=None, coarse_of=None):
    """Cross-validate every (feature set, classifier) pair on the same folds.

    ``y`` may hold an extra background label (off-topic texts) besides ``labels``: those rows
    take part in training but the scores count the rows of ``labels`` only, predicted
    among ``labels``. Returns the comparison table (best first), the best pair and its
    out-of-fold (classes, probabilities). ``progress``: called with "features+classifier"
    after each candidate is cross-validated. ``coarse_of``: for fine labels (subtopics, out-of-scope
    kinds), a callable giving each label's coarse one, with a ``hierarchy(classes)`` method
    (``triage.model.fitting.Coarse``): candidates are then scored on the coarse labels."""
    y = np.asarray(y, dtype=object)
    coarse_y = np.array([coarse_of(v) for v in y], dtype=object) if coarse_of else y
    inside = np.isin(coarse_y, labels)
    rows, oof = [], {}
    for fs in feature_sets:
        for clf in classifiers:
            parents = {v: coarse_of(v) for v in set(y)} if coarse_of is not None else None
            classes, proba = out_of_fold(joined, y, fs, clf, n_splits, random_state, n_jobs, min_df, parents)
            if coarse_of is not None:
                h = coarse_of.hierarchy(classes)
                pred = restricted_argmax(np.asarray(h.coarse, dtype=object), h.aggregate(proba)[inside], labels)
            else:
                pred = restricted_argmax(classes, proba[inside], labels)
            m = metrics(coarse_y[inside], pred, labels)
            rows.append({"features": fs, "classifier": clf, "macro_f1": m["macro_f1"], "accuracy": m["accuracy"]})
            oof[(fs, clf)] = (classes, proba)
            if progress is not None:
                progress(f"{fs}+{clf}")
    rows.sort(key=lambda r: (-r["macro_f1"], -r["accuracy"]))
    best = (rows[0]["features"], rows[0]["classifier"])
    return rows, best, oof[best]


def choose_threshold(top, correct, other, off_top=(), off_other=(), target_accuracy: float = 0.9) -> dict:
    """Pick the review threshold on the category probability, from out-of-fold predictions.

    In-domain rows: ``top`` is the probability of the best real category, ``correct``
    whether that category is right, ``other`` whether the off-topic class beat every real
    category (such rows are flagged whatever the threshold). Off-topic rows: the same two
    signals in ``off_top`` and ``off_other``.

    The threshold is the lowest at which the accepted in-domain opinions reach
    ``target_accuracy``; if none does, the one with the best accuracy."""
    top, correct, other = (np.asarray(a) for a in (top, correct, other))
    correct, other = correct.astype(bool), other.astype(bool)
    grid = np.round(np.arange(0.20, 0.951, 0.01), 2)
    chosen, best = None, None
    for t in grid:
        accepted = (top >= t) & ~other
        acc = correct[accepted].mean() if accepted.any() else 0.0
        if best is None or acc > best[1] + 1e-12:
            best = (float(t), acc)
        if chosen is None and acc >= target_accuracy:
            chosen = float(t)
    t = chosen if chosen is not None else best[0]
    return {"threshold": t, "target_accuracy": target_accuracy,
            **review_stats(top, correct, other, off_top, off_other, t)}


def review_stats(top, correct, other, off_top, off_other, t) -> dict:
    """Coverage and accuracy of what threshold ``t`` accepts, and the share of off-topic texts it flags."""
    accepted = (np.asarray(top) >= t) & ~np.asarray(other, dtype=bool)
    correct = np.asarray(correct, dtype=bool)
    off_flagged = (np.asarray(off_top) < t) | np.asarray(off_other, dtype=bool)
    return {
        "coverage": round(float(accepted.mean()), 4),
        "accuracy_accepted": round(float(correct[accepted].mean()) if accepted.any() else 0.0, 4),
        "accuracy_flagged": round(float(correct[~accepted].mean()) if (~accepted).any() else 0.0, 4),
        "offtopic_flagged": round(float(off_flagged.mean()), 4) if len(off_flagged) else None,
        "n_offtopic": int(len(off_flagged)),
    }
