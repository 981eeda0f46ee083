"""From segmented texts to class probabilities, the category features and the terms that
explain a decision, for a whole batch at once.

Two engines give the same numbers: ``packed_scores`` (numpy only, see ``triage.packed``),
used for every model trained or saved by this version, and ``sklearn_scores`` for
pipelines given as plain scikit-learn objects (older model files, hand-built models)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .packed import CSR, PackedPipeline


@dataclass
class Scores:
    category: np.ndarray  # (n, n_category_classes)
    tier: np.ndarray  # (n, n_tiers)
    X: CSR  # category features
    weights: Callable[[], np.ndarray]  # () -> (n_category_classes, n_features) linear weights
    names: Callable[[], np.ndarray]  # () -> feature names
    n_word: int  # the first n_word columns are word features

    def known(self) -> np.ndarray:
        """Per row: does any word feature (not only character n-grams) fire?"""
        return self.X.row_nnz(0, self.n_word) > 0


def packed_scores(cat: PackedPipeline, tier: PackedPipeline, joined: list[str]) -> Scores:
    X = cat.features.transform(joined)
    Xt = X if tier.features is cat.features else tier.features.transform(joined)
    return Scores(cat.linear.predict_proba(X), tier.linear.predict_proba(Xt), X, cat.linear.class_weights,
                  cat.features.names, cat.features.n_word or X.shape[1])


def sklearn_scores(cat_pipe, tier_pipe, joined: list[str]) -> Scores:
    from .features import feature_names, linear_weights

    cat_X = cat_pipe[1:-1].transform(joined).tocsr()
    cat_X.sort_indices()
    feats = cat_pipe.named_steps["features"]
    n_word = len(feats.transformer_list[0][1].vocabulary_) if hasattr(feats, "transformer_list") else cat_X.shape[1]
    X = CSR(cat_X.indptr, cat_X.indices, cat_X.data, cat_X.shape)
    clf = cat_pipe.named_steps["classifier"]
    return Scores(cat_pipe[-1].predict_proba(cat_X), tier_pipe[1:].predict_proba(joined), X,
                  lambda: linear_weights(clf)[1], lambda: feature_names(cat_pipe), n_word)


def explain_rows(X: CSR, weights: np.ndarray, names: np.ndarray, class_idx: np.ndarray, n_terms: int
                 ) -> list[list[dict]]:
    """Per row, up to ``n_terms`` features with the largest positive contribution (value x
    weight) to the class ``class_idx[row]``, strongest first, each name once."""
    n = X.shape[0]
    out: list[list[dict]] = [[] for _ in range(n)]
    if not n or not len(X.data) or n_terms <= 0:
        return out
    rows = X.rows
    contrib = X.data * weights[class_idx[rows], X.indices]
    pos = np.flatnonzero(contrib > 0)
    rows, contrib, cols = rows[pos], contrib[pos], X.indices[pos]
    order = np.lexsort((-contrib, rows))  # by row, then strongest first (ties: column order)
    rows, contrib, cols = rows[order], contrib[order], cols[order]
    first = np.searchsorted(rows, rows, side="left")
    keep = np.arange(len(rows)) - first < 2 * n_terms  # as many candidates as the duplicates may need
    rows, contrib, cols = rows[keep].tolist(), contrib[keep].tolist(), names[cols[keep]].tolist()
    for r, c, name in zip(rows, contrib, cols):
        terms = out[r]
        if len(terms) >= n_terms or any(t["term"] == name for t in terms):
            continue
        terms.append({"term": name, "weight": round(c, 4)})
    return out
