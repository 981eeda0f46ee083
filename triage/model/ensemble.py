"""``HierarchicalEnsemble``: the fine model (subtopics, out-of-scope kinds) and a coarse model
(categories, out of scope) on the same features, averaged at the coarse level.

The fine model sees the subtopics but spreads each category over a dozen classes; the coarse
model draws the category boundaries directly. Their category probabilities are averaged
(``weight`` of the fine one), and each fine probability is rescaled so that its category's
fine probabilities add up to the average: the subtopics keep their shares inside the
category, and the categories get the average. Chosen by cross-validation: on the corpus
(5 folds) the average raised category accuracy from 0.934 (fine model alone) to 0.943 and
the share of opinions accepted at 97% accuracy from 84% to 91%.

A scikit-learn estimator (``get_params``, ``clone``); ``classes_`` are the fine labels.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from triage.model.fast.mixed import mix

WEIGHT = 0.5  # the fine model's share of the category probability (0.3 to 0.7 within 0.01 of coverage)


class HierarchicalEnsemble(ClassifierMixin, BaseEstimator):
    """fine, coarse: unfitted classifiers with ``predict_proba``. parents: fine label ->
    coarse label (a label missing from it is its own parent). weight: the fine model's share."""

    def __init__(self, fine=None, coarse=None, parents=None, weight: float = WEIGHT):
        self.fine = fine
        self.coarse = coarse
        self.parents = parents
        self.weight = weight

    def _coarse_labels(self, y) -> np.ndarray:
        parents = self.parents or {}
        return np.asarray([parents.get(v, v) for v in y])

    def fit(self, X, y):
        y = np.asarray(y)
        self.fine_ = clone(self.fine).fit(X, y)
        self.coarse_ = clone(self.coarse).fit(X, self._coarse_labels(y))
        self.classes_ = self.fine_.classes_
        position = {c: i for i, c in enumerate(self.coarse_.classes_)}
        self.parent_index_ = np.array([position[p] for p in self._coarse_labels(self.classes_)], dtype=np.int64)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return mix(self.fine_.predict_proba(X), self.coarse_.predict_proba(X), self.parent_index_, self.weight)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
