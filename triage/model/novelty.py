"""The novelty signal: how strongly *some* class claims a text before the probabilities are
normalised.

The category model is one-vs-rest: each class (subtopic, out-of-scope kind) has its own
calibrated sigmoid saying "this text is mine". Normalising them into probabilities that add
up to one hides the case where every class says "not mine": a text unlike anything learned
still gets a confident top class. The *support* of a text is the largest of those
unnormalised class probabilities; a text whose support falls under the threshold chosen on
out-of-fold support of the training opinions is flagged ``novel``.

Only sigmoid-calibrated linear models (``linearsvc``, ``sgd``) have a support; for others
the signal is off (threshold 0).
"""
from __future__ import annotations

import numpy as np

QUANTILE = 0.01  # the share of training opinions (out of fold) the threshold would flag


def support(pipe, joined) -> np.ndarray | None:
    """The support of segmented texts under a fitted pipeline without its segment step (or
    None when its classifier has no one-vs-rest sigmoid)."""
    clf = pipe[-1]
    clf = getattr(clf, "fine_", clf)  # an ensemble: the fine model's classes claim the text
    if type(clf).__name__ != "CalibratedClassifierCV" or clf.method != "sigmoid" or len(clf.calibrated_classifiers_) != 1:
        return None
    cal = clf.calibrated_classifiers_[0]
    d = cal.estimator.decision_function(pipe[:-1].transform(list(joined)))
    if d.ndim == 1:
        return None  # a binary model: one side always claims the text
    return np.max(np.column_stack([c.predict(d[:, j]) for j, c in enumerate(cal.calibrators)]), axis=1)


def oof_support(joined, y, features: str, classifier: str, n_splits: int, random_state: int, min_df: int,
                n_jobs=None, parents=None) -> np.ndarray | None:
    """Out-of-fold support of every text, on the folds model selection used."""
    from joblib import Parallel, delayed

    from triage.model.selection import candidate, folds

    y = np.asarray(y, dtype=object)
    pipe = candidate(y, features, classifier, random_state, min_df, parents)
    if type(getattr(pipe[-1], "fine", pipe[-1])).__name__ != "CalibratedClassifierCV":
        return None
    joined = np.asarray(joined, dtype=object)
    splits = list(folds(y, n_splits, random_state).split(np.zeros(len(y)), y))

    def one(train, test):
        from sklearn.base import clone

        fitted = clone(pipe).fit(list(joined[train]), y[train])
        return test, support(fitted, joined[test])

    out = np.zeros(len(y))
    for test, values in Parallel(n_jobs=n_jobs)(delayed(one)(tr, te) for tr, te in splits):
        if values is None:
            return None
        out[test] = values
    return out


def choose(support_in: np.ndarray | None, support_out: np.ndarray | None, quantile: float = QUANTILE) -> dict:
    """The novelty threshold: the ``quantile`` of the opinions' out-of-fold support, with the
    share of out-of-scope texts under it (they are flagged anyway when a kind wins)."""
    if support_in is None or not len(support_in):
        return {"threshold": 0.0, "quantile": None, "in_scope_novel": 0.0, "out_of_scope_novel": None}
    t = float(np.round(np.quantile(support_in, quantile), 4))
    return {"threshold": t, "quantile": quantile,
            "in_scope_novel": round(float(np.mean(support_in < t)), 4),
            "out_of_scope_novel": round(float(np.mean(support_out < t)), 4)
            if support_out is not None and len(support_out) else None}
