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
    name_ids: Callable[[], np.ndarray]  # () -> per feature, a number shared by features of the same name
    n_word: int  # the first n_word columns are word features

    def known(self) -> np.ndarray:
        """Per row: does any word feature (not only character n-grams) fire?"""
        return self.X.row_nnz(0, self.n_word) > 0


def packed_scores(cat: PackedPipeline, tier: PackedPipeline, joined: list[str]) -> Scores:
    X = cat.features.transform(joined)
    Xt = X if tier.features is cat.features else tier.features.transform(joined)
    return Scores(cat.linear.predict_proba(X), tier.linear.predict_proba(Xt), X, cat.linear.class_weights,
                  cat.features.names, cat.features.name_ids, cat.features.n_word or X.shape[1])


def sklearn_scores(cat_pipe, tier_pipe, joined: list[str]) -> Scores:
    from .features import feature_names, linear_weights

    cat_X = cat_pipe[1:-1].transform(joined).tocsr()
    cat_X.sort_indices()
    feats = cat_pipe.named_steps["features"]
    n_word = len(feats.transformer_list[0][1].vocabulary_) if hasattr(feats, "transformer_list") else cat_X.shape[1]
    X = CSR(cat_X.indptr, cat_X.indices, cat_X.data, cat_X.shape)
    clf = cat_pipe.named_steps["classifier"]
    names = feature_names(cat_pipe)
    return Scores(cat_pipe[-1].predict_proba(cat_X), tier_pipe[1:].predict_proba(joined), X,
                  lambda: linear_weights(clf)[1], lambda: names, lambda: np.unique(names, return_inverse=True)[1],
                  n_word)


def format_term(term: str, weight: float) -> str:
    """One explanation term as the batch output writes it: ``留抵退税(+0.42)``."""
    return f"{term}({weight:+.2f})"


def explain_rows(X: CSR, weights: np.ndarray, names: np.ndarray, name_ids: np.ndarray, class_idx: np.ndarray,
                 n_terms: int, as_text: bool = False) -> list:
    """Per row, up to ``n_terms`` features with the largest positive contribution (value x
    weight) to the class ``class_idx[row]``, strongest first, each name once (a word and a
    character n-gram may read the same: ``name_ids`` numbers the distinct names).

    Each row gets a list of ``{"term", "weight"}`` (weight rounded to 4 places), or with
    ``as_text`` the same terms written ``term(+0.42); ...`` (``format_term``)."""
    n = X.shape[0]
    out: list = [[] for _ in range(n)]
    if n and len(X.data) and n_terms > 0:
        rows = X.rows
        contrib = X.data * weights[class_idx[rows], X.indices]
        pos = np.flatnonzero(contrib > 0)
        rows, contrib, cols = rows[pos], contrib[pos], X.indices[pos]
        # by row, then strongest first, then by column (contributions within 2**-32 of each
        # other count as equal): the order of a row never depends on the other rows
        q = np.floor(contrib * 2.0 ** 32).astype(np.int64)
        span = int(q.max(initial=0)) + 1
        if n * span < 2 ** 62:
            order = np.argsort(rows * span + (span - 1 - q), kind="stable")
        else:  # absurdly large weights: the slow exact way
            order = np.lexsort((-q, rows))
        rows, contrib, cols = rows[order], contrib[order], cols[order]
        _, first = np.unique(rows * (int(name_ids.max(initial=0)) + 1) + name_ids[cols], return_index=True)
        keep = np.zeros(len(rows), dtype=bool)
        keep[first] = True  # the strongest feature of each name in a row
        rows, contrib, cols = rows[keep], contrib[keep], cols[keep]
        top = np.arange(len(rows)) - np.searchsorted(rows, rows) < n_terms
        for r, name, c in zip(rows[top].tolist(), names[cols[top]].tolist(), contrib[top].tolist()):
            out[r].append({"term": name, "weight": round(c, 4)} if not as_text else format_term(name, round(c, 4)))
    if as_text:
        return ["; ".join(terms) for terms in out]
    return out
