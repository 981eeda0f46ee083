"""The packed form of ``triage.model.ensemble.HierarchicalEnsemble``: two ``PackedLinear``
models on the same features, mixed as the ensemble mixes them (``triage.model.ensemble.mix``
is the one formula, imported by both)."""
from __future__ import annotations

import numpy as np

from triage.model.fast.packed import CSR, PackedLinear
from triage.model.hierarchy import add_up


def mix(fine_proba: np.ndarray, coarse_proba: np.ndarray, parent_index: np.ndarray, weight: float) -> np.ndarray:
    """Fine probabilities rescaled so that each coarse label's sum is ``weight`` x the fine
    model's sum plus (1 - ``weight``) x the coarse model's probability."""
    agg = add_up(fine_proba, parent_index, coarse_proba.shape[1])
    target = weight * agg + (1.0 - weight) * coarse_proba
    scale = target / np.maximum(agg, 1e-300)
    return fine_proba * scale[:, parent_index]


class PackedMixture:
    """``fine`` and ``coarse`` packed linear models; ``parent_index``: per fine class, the
    column of its coarse class; ``weight``: the fine model's share. Behaves as a
    ``PackedLinear`` of the fine classes (its weights explain a decision)."""

    link = "mixture"

    def __init__(self, fine: PackedLinear, coarse: PackedLinear, parent_index, weight: float):
        self.fine, self.coarse = fine, coarse
        self.parent_index = np.asarray(parent_index, dtype=np.int64)
        self.weight = float(weight)
        self.classes_ = fine.classes_
        if len(self.parent_index) != len(self.classes_) or self.parent_index.max(initial=0) >= len(coarse.classes_):
            raise ValueError(f"a mixture needs a coarse column for each of its {len(self.classes_)} classes")

    @property
    def coef(self) -> np.ndarray:
        return self.fine.coef

    def class_weights(self) -> np.ndarray:
        return self.fine.class_weights()

    def predict_proba(self, X: CSR) -> np.ndarray:
        return self.proba_support(X)[0]

    def proba_support(self, X: CSR) -> tuple[np.ndarray, np.ndarray | None]:
        fine, support = self.fine.proba_support(X)
        return mix(fine, self.coarse.predict_proba(X), self.parent_index, self.weight), support
