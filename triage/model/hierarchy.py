"""The two levels of the category model and its calibration.

The category model learns *fine* labels: a subtopic code (``tax_export_refund``), a
category code when an opinion has no subtopic (a taxonomy without subtopics, a correction
without one), ``OFFTOPIC`` for an off-topic text without a kind, or ``OFFTOPIC:kind`` for an
out-of-scope text of a known kind (``_offtopic:labour_wages``). A category's probability is
the sum of its fine labels' probabilities, so the subtopic always lies inside the category
(hierarchically consistent by construction); the out-of-scope kinds add up to ``OFFTOPIC``.

``Hierarchy`` maps fine columns to coarse ones; ``temper`` applies the temperature fitted
on out-of-fold scores (``fit_temperature``); ``expected_calibration_error`` measures what
is left of the gap between confidence and accuracy.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

OFFTOPIC = "_offtopic"  # background class of the category model; never a taxonomy code
KIND_PREFIX = OFFTOPIC + ":"


def fine_label(category: str | None, subtopic: str | None = None, kind: str | None = None) -> str:
    """The label the category model learns for one training text."""
    if kind:
        return KIND_PREFIX + kind
    if category is None or category == OFFTOPIC:
        return OFFTOPIC
    return subtopic or category


def parent(label: str, subtopic_category: dict[str, str]) -> str:
    """The coarse label of a fine one (``subtopic_category``: subtopic code -> category code)."""
    if label == OFFTOPIC or label.startswith(KIND_PREFIX):
        return OFFTOPIC
    return subtopic_category.get(label, label)


def kind_of(label: str) -> str | None:
    return label[len(KIND_PREFIX):] if label.startswith(KIND_PREFIX) else None


class Hierarchy:
    """Fine labels (the category model's classes) and the coarse ones they add up to.

    coarse: the coarse labels in the order the model reports them (categories, then
    ``OFFTOPIC`` when some fine label is off-topic)."""

    def __init__(self, fine: Sequence[str], subtopic_category: dict[str, str], categories: Sequence[str]):
        self.fine = [str(f) for f in fine]
        parents = [parent(f, subtopic_category) for f in self.fine]
        self.coarse = list(dict.fromkeys(parents))  # in the order of the fine labels (sorted when fitted)
        index = {c: i for i, c in enumerate(self.coarse)}
        self.parent_index = np.array([index[p] for p in parents], dtype=np.int64)
        self.subtopic = np.array([f if f in subtopic_category else "" for f in self.fine], dtype=object)
        self.kind = np.array([kind_of(f) or "" for f in self.fine], dtype=object)
        self.flat = self.fine == self.coarse  # nothing to add up (no subtopics, no kinds)

    def aggregate(self, fine_proba: np.ndarray) -> np.ndarray:
        """Coarse probabilities: the sum of each coarse label's fine columns."""
        if self.flat:
            return fine_proba
        return add_up(fine_proba, self.parent_index, len(self.coarse))

    def best_within(self, fine_proba: np.ndarray, coarse_idx: np.ndarray) -> np.ndarray:
        """Per row, the fine column with the highest probability among those under the
        row's coarse label ``coarse_idx``."""
        inside = self.parent_index[None, :] == np.asarray(coarse_idx)[:, None]
        return np.argmax(np.where(inside, fine_proba, -1.0), axis=1)


def add_up(fine_proba: np.ndarray, parent_index: np.ndarray, n_coarse: int) -> np.ndarray:
    """Per row, the sum of the fine columns of each coarse column (``parent_index``: the coarse
    column of each fine one). A loop of column additions, not a matrix product: no BLAS
    threads competing with the processes of a batch."""
    out = np.zeros((fine_proba.shape[0], n_coarse), dtype=np.float64)
    for j, c in enumerate(parent_index):
        out[:, c] += fine_proba[:, j]
    return out


def temper(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``proba`` ** (1 / T), renormalised: T > 1 softens overconfident probabilities, T < 1
    sharpens timid ones, T = 1 leaves them as they are."""
    if temperature == 1.0 or proba.size == 0:
        return proba
    with np.errstate(divide="ignore"):
        logp = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    out /= out.sum(axis=1, keepdims=True)
    return out


GRID = np.round(np.exp(np.linspace(np.log(0.25), np.log(4.0), 81)), 4)


def fit_temperature(proba: np.ndarray, truth_idx: np.ndarray) -> float:
    """The temperature (from ``GRID``) that minimises the log-loss of out-of-fold
    probabilities ``proba`` against the true columns ``truth_idx``."""
    rows = np.arange(len(truth_idx))
    best, best_t = np.inf, 1.0
    for t in GRID:
        p = temper(proba, float(t))[rows, truth_idx]
        loss = -np.mean(np.log(np.clip(p, 1e-12, 1.0)))
        if loss < best - 1e-12:
            best, best_t = loss, float(t)
    return best_t


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """The weighted mean gap between confidence and accuracy over ``bins`` equal-width bins
    of the confidence (the usual ECE of the top label)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if not len(confidence):
        return 0.0
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() * abs(confidence[sel].mean() - correct[sel].mean())
    return round(float(total / len(confidence)), 4)
