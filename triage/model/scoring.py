"""From segmented texts to class probabilities, the category features and the terms that
explain a decision, for a whole batch at once.

Two engines give the same numbers: ``packed_scores`` (numpy only, see ``triage.model.fast.packed``),
used for every model trained or saved by this version, and ``sklearn_scores`` for
pipelines given as plain scikit-learn objects (older model files, hand-built models)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from triage.model.fast.packed import CSR, PackedPipeline, name_info


@dataclass
class Scores:
    category: np.ndarray  # (n, n_category_classes)
    tier: np.ndarray  # (n, n_tiers)
    X: CSR  # category features
    weights: Callable[[], np.ndarray]  # () -> (n_category_classes, n_features) linear weights
    names: Callable[[], np.ndarray]  # () -> feature names
    name_info: Callable[[], tuple]  # () -> (per feature a number shared by features of the same name,
    #                                        how many names, the most features sharing one name)
    n_word: int  # the first n_word columns are word features
    fine: np.ndarray | None = None  # (n, n_fine): the category model's own classes, before adding up
    support: np.ndarray | None = None  # (n,): the largest class sigmoid before normalising (triage.model.novelty)
    summed: np.ndarray | None = None  # (n, n_categories): fine summed per category, before calibration

    def known(self) -> np.ndarray:
        """Per row: does any word feature (not only character n-grams) fire?"""
        return self.X.row_nnz(0, self.n_word) > 0


def packed_scores(cat: PackedPipeline, tier: PackedPipeline, joined: list[str]) -> Scores:
    X = cat.features.transform(joined)
    Xt = X if tier.features is cat.features else tier.features.transform(joined)
    proba, support = cat.linear.proba_support(X)
    return Scores(proba, tier.linear.predict_proba(Xt), X, cat.linear.class_weights,
                  cat.features.names, cat.features.name_info, cat.features.n_word or X.shape[1], support=support)


def sklearn_scores(cat_pipe, tier_pipe, joined: list[str]) -> Scores:
    from triage.model.features import feature_names, linear_weights

    cat_X = cat_pipe[1:-1].transform(joined).tocsr()
    cat_X.sort_indices()
    feats = cat_pipe.named_steps["features"]
    n_word = len(feats.transformer_list[0][1].vocabulary_) if hasattr(feats, "transformer_list") else cat_X.shape[1]
    X = CSR(cat_X.indptr, cat_X.indices, cat_X.data, cat_X.shape)
    clf = cat_pipe.named_steps["classifier"]
    names = feature_names(cat_pipe)
    from triage.model.novelty import support

    return Scores(cat_pipe[-1].predict_proba(cat_X), tier_pipe[1:].predict_proba(joined), X,
                  lambda: linear_weights(clf)[1], lambda: names,
                  lambda: name_info(np.unique(names, return_inverse=True)[1].ravel()), n_word,
                  support=support(cat_pipe[1:], joined) if len(joined) else None)


def format_term(term: str, weight: float) -> str:
    """One explanation term as the batch output writes it: ``留抵退税(+0.42)``."""
    return f"{term}({weight:+.2f})"


def explain_rows(X: CSR, weights: np.ndarray, names: np.ndarray, names_info: tuple, class_idx: np.ndarray,
                 n_terms: int, as_text: bool = False) -> list:
    """Per row, up to ``n_terms`` features with the largest positive contribution (value x
    weight) to the class ``class_idx[row]``, strongest first, each name once (a word and a
    character n-gram may read the same). ``names_info``: (per feature a number shared by the
    features of the same name, how many names, the most features sharing one name), as
    ``triage.model.fast.packed.name_info`` gives it.

    Each row gets a list of ``{"term", "weight"}`` (weight rounded to 4 places), or with
    ``as_text`` the same terms written ``term(+0.42); ...`` (``format_term``)."""
    n = X.shape[0]
    out: list = [[] for _ in range(n)]
    if n and len(X.data) and n_terms > 0:
        rows = X.rows
        contrib = X.data * weights[class_idx[rows], X.indices]
        pos = np.flatnonzero(contrib > 0)
        rows, contrib, cols = rows[pos], contrib[pos], X.indices[pos]
        # contributions within 2**-32 of each other count as equal (then the lower column
        # comes first): the order of a row never depends on the other rows
        q = np.floor(contrib * 2.0 ** 32).astype(np.int64)
        # a name is shared by at most `dup` columns, so a row's first n_terms distinct names
        # are among its n_terms * dup strongest features: only those are sorted
        name_ids, n_names, dup = names_info
        sel = _strongest(rows, q, n, n_terms * dup)
        if sel is not None:
            rows, q, contrib, cols = rows[sel], q[sel], contrib[sel], cols[sel]
        span = int(q.max(initial=0)) + 1
        if n * span < 2 ** 62:  # by row, then strongest first, then by column
            order = np.argsort(rows * span + (span - 1 - q), kind="stable")
        else:  # absurdly large weights: the slow exact way
            order = np.lexsort((-q, rows))
        rows, contrib, cols = rows[order], contrib[order], cols[order]
        _, first = np.unique(rows * n_names + name_ids[cols], return_index=True)
        keep = np.zeros(len(rows), dtype=bool)
        keep[first] = True  # the strongest feature of each name in a row
        rows, contrib, cols = rows[keep], contrib[keep], cols[keep]
        top = _rank_in_row(rows, n) < n_terms
        terms = names[cols[top]].tolist()
        weights_ = np.round(contrib[top], 4).tolist()
        if as_text:  # a row's terms are consecutive: each row's text is one join of its slice
            texts = list(map(format_term, terms, weights_))
            ends = np.cumsum(np.bincount(rows[top], minlength=n)).tolist()
            return ["; ".join(texts[a:b]) for a, b in zip([0] + ends[:-1], ends)]
        else:
            for r, name, w in zip(rows[top].tolist(), terms, weights_):
                out[r].append({"term": name, "weight": w})
    if as_text:
        return ["; ".join(terms) for terms in out]
    return out


def _rank_in_row(rows: np.ndarray, n: int) -> np.ndarray:
    """Position of each entry within its row (``rows`` sorted)."""
    counts = np.bincount(rows, minlength=n)
    return np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)


def _strongest(rows: np.ndarray, q: np.ndarray, n: int, need: int, frac: float = 0.15):
    """Indices of a superset of each row's ``need`` largest values of ``q`` (all of a row's
    entries tied with its ``need``-th largest included), in their original order; ``None``
    when every row has at most ``need`` entries. ``rows`` is sorted.

    Exact whatever the cut: a row keeps its entries at or above ``frac`` of its largest
    value when at least ``need`` of them are, else all its entries. (On the corpus a row has
    about 144 positive contributions; at 0.15 about 97% of the rows keep some 30.)"""
    counts = np.bincount(rows, minlength=n)
    if counts.max(initial=0) <= need:
        return None
    starts = np.cumsum(counts) - counts
    nonempty = np.flatnonzero(counts)
    row_max = np.zeros(n, dtype=np.int64)
    row_max[nonempty] = np.maximum.reduceat(q, starts[nonempty])
    above = q >= np.repeat((row_max * frac).astype(np.int64), counts)
    cut = (counts > need) & (np.bincount(rows[above], minlength=n) >= need)  # rows that keep only `above`
    return np.flatnonzero(above | ~np.repeat(cut, counts))
