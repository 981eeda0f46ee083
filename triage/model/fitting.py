"""Training a ``TriageModel``: candidates compared by cross-validation, the best refitted on
all data (sharing vectorisers between the category and the tier where they can), packed for
prediction, and the review threshold chosen on out-of-fold predictions."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from triage.errors import InputError
from triage.model.prediction import OFFTOPIC
from triage.segment import Segmenter

CONSTANT = "constant"  # the "classifier" of a tier model when there is a single tier


def _constant_metrics(y) -> dict:
    """The metrics of a single-label task (every prediction is right)."""
    label, n = str(y[0]), int(len(y))
    return {"n": n, "macro_f1": 1.0, "accuracy": 1.0, "per_class_f1": {label: 1.0},
            "confusion_matrix": {"labels": [label], "matrix": [[n]]}}


def _check_labels(values, allowed, what):
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InputError(f"unknown {what} codes {unknown}; the taxonomy has {list(allowed)}")


def fit_model(model, texts: Sequence[str], categories: Sequence[str], tiers: Sequence[str],
              offtopic: Iterable[str] = (), progress=None) -> dict:
    """The learned state of ``model`` (a ``TriageModel``, read for its parameters only) trained
    on the labelled opinions: the keyword arguments of ``TriageModel._set_state``.
    ``progress``: called with a short label after each cross-validated candidate."""
    from triage.model.selection import choose_threshold, compare, metrics, restricted_argmax, review_stats

    texts = list(texts)
    categories = np.asarray(categories, dtype=object)
    tiers = np.asarray(tiers, dtype=object)
    if not (len(texts) == len(categories) == len(tiers)):
        raise InputError(f"texts, categories and tiers differ in length: {len(texts)}, {len(categories)}, {len(tiers)}")
    _check_labels(categories, model.taxonomy.category_codes, "category")
    _check_labels(tiers, model.taxonomy.tier_codes, "tier")
    seg = model.segmenter or Segmenter()
    joined = seg.join(texts)
    empty = [i for i, j in enumerate(joined) if not j]
    if empty:
        raise InputError(f"{len(empty)} training texts have no usable words, first at position {empty[0]}")
    offtopic = [t for t in offtopic if seg.tokens(t)]
    off_joined = seg.join(offtopic)
    cat_joined = joined + off_joined
    cat_y = np.concatenate([categories, np.array([OFFTOPIC] * len(offtopic), dtype=object)])
    cat_labels = [c for c in model.taxonomy.category_codes if c in set(categories)]
    tier_labels = [t for t in model.taxonomy.tier_codes if t in set(tiers)]
    args = dict(n_splits=model.cv, random_state=model.random_state, n_jobs=model.n_jobs, min_df=model.min_df)
    step = (lambda part: (lambda name: progress(f"{part}: {name}"))) if progress else (lambda part: None)
    cat_table, cat_best, (cat_classes, cat_oof) = compare(
        cat_joined, cat_y, cat_labels, model.feature_sets, model.classifiers, progress=step("category"), **args)
    if len(tier_labels) > 1:
        tier_table, tier_best, (tier_classes, tier_oof) = compare(
            joined, tiers, tier_labels, model.feature_sets, model.classifiers, progress=step("tier"), **args)
    else:  # a taxonomy with a single tier (or data using one): nothing to learn
        tier_table, tier_best = [], (cat_best[0], CONSTANT)
        tier_classes, tier_oof = np.array(tier_labels, dtype=object), np.ones((len(texts), 1))

    pipes, packed = _fit_final(model, seg, cat_best, cat_joined, cat_y, tier_best, joined, tiers)

    n = len(texts)
    real = [i for i, c in enumerate(cat_classes) if c != OFFTOPIC]
    top = cat_oof[:, real].max(axis=1)
    other = cat_classes[np.argmax(cat_oof, axis=1)] == OFFTOPIC
    cat_pred = restricted_argmax(cat_classes, cat_oof[:n], cat_labels)
    tier_pred = tier_classes[np.argmax(tier_oof, axis=1)]
    review = choose_threshold(top[:n], cat_pred == categories, other[:n], top[n:], other[n:],
                              model.review_target_accuracy)
    if model.review_threshold != "auto":
        review.update(threshold=float(model.review_threshold),
                      **review_stats(top[:n], cat_pred == categories, other[:n], top[n:], other[n:],
                                     float(model.review_threshold)))
    report = {
        "n_train": n,
        "n_offtopic": len(offtopic),
        "cv_folds": model.cv,
        "min_df": model.min_df,
        "random_state": model.random_state,
        "category": {"selected": {"features": cat_best[0], "classifier": cat_best[1]},
                     "comparison": cat_table, "cv": metrics(categories, cat_pred, cat_labels)},
        "tier": {"selected": {"features": tier_best[0], "classifier": tier_best[1]},
                 "comparison": tier_table,
                 "cv": metrics(tiers, tier_pred, tier_labels) if len(tier_labels) > 1 else _constant_metrics(tiers)},
        "review": review,
        # one vectoriser (or one feature union) serves both models: features computed once
        "shared_features": bool(packed[0].features is not None and packed[0].features is packed[1].features),
    }
    return {"segmenter": seg, "categories": list(pipes["category"].classes_), "tiers": list(pipes["tier"].classes_),
            "review_threshold": review["threshold"], "report": report, "packed": packed, "pipelines": pipes}


def _fit_final(model, seg, cat_best, cat_joined, cat_y, tier_best, joined, tiers):
    """Fit the selected candidates on all data. The two models share their vectorisers
    where their feature sets allow (fitted on all the category's texts, which include
    the tier's), and are packed for prediction."""
    from sklearn.pipeline import Pipeline

    from triage.model.fast.packing import pack_pair
    from triage.model.features import SegmentStep, as_float64, fit_shared, make_classifier

    cat_feats, tier_feats = fit_shared(cat_best[0], tier_best[0], cat_joined, joined, model.min_df)
    step = SegmentStep(seg)
    pipes = []
    for feats, (_, clf_name), X_texts, y in ((cat_feats, cat_best, cat_joined, cat_y),
                                             (tier_feats, tier_best, joined, tiers)):
        n_min = int(min(np.sum(y == label) for label in set(y)))
        if clf_name == CONSTANT:
            from sklearn.dummy import DummyClassifier

            clf = DummyClassifier(strategy="prior")
        else:
            clf = make_classifier(clf_name, model.random_state, n_classes_min=max(2, min(3, n_min)))
        clf = as_float64(clf.fit(feats.transform(X_texts), y))
        pipes.append(Pipeline([("segment", step), ("features", feats), ("classifier", clf)]))
    return {"category": pipes[0], "tier": pipes[1]}, pack_pair(*pipes)
