"""Which opinions raise the same problem: TF-IDF similarity, the paraphrase threshold, grouping.

Vectorisation. Each text goes through the model's own ``Segmenter`` (normalise, mask,
jieba with the wood-industry dictionary, stop words out), then into TF-IDF vectors of the
*characters* of its remaining words, fitted on the texts being compared plus a background
corpus (the training corpus), so that rare, specific characters (票, 贷, 路, 电 ...) weigh
more than the ones every opinion uses. Characters rather than words, because paraphrases
of one problem rarely use the same jieba words (木头 / 原木 / 杨木, 开不了票 / 没票) but do
share their characters: on the labelled paraphrase pairs (``tests/fixtures/paraphrases.csv``)
character unigrams separate same-problem from different-problem pairs with ROC AUC 0.90,
word unigrams 0.67, the model's own character 2-3-grams 0.79.

Gating. Two opinions can only raise the same problem when the model puts them in the same
category: one problem sits on one category sheet, and most lexically close pairs of
different problems are cross-category.

Threshold. Chosen on the labelled pairs, with exactly this vectorisation and gating, as the
lowest similarity at which at least ``target_precision`` (default 95%) of the pairs it
accepts are truly the same problem. A precision target rather than the F1 optimum: in a
month of N opinions nearly all of the N^2/2 pairs are different problems, so a threshold
that is right on a balanced 50/50 set of pairs would flood the month with false merges.

Grouping. Average-linkage agglomerative clustering inside each category with distance
1 - threshold: two groups merge when their opinions are, on average, at least as similar
as the threshold (for two single opinions, exactly the pair rule above).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from triage.errors import InputError
from triage.text import drop_spaces

DEFAULT_TARGET_PRECISION = 0.95


def make_vectoriser():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char", preprocessor=drop_spaces, ngram_range=(1, 1), sublinear_tf=True,
                           lowercase=False, dtype=np.float64)


def vectorise(texts: Sequence, segmenter, background_joined: Sequence[str] = ()):
    """L2-normalised TF-IDF rows of ``texts``; the IDF is fitted on ``texts`` plus the
    already segmented ``background_joined`` (joined tokens of the training corpus)."""
    joined = segmenter.join(texts)
    fit_on = [j for j in list(joined) + list(background_joined) if j]
    vec = make_vectoriser()
    if not fit_on:
        raise InputError("no usable words in any text: nothing to compare")
    vec.fit(fit_on)
    return vec.transform(joined)  # TfidfVectorizer already L2-normalises rows


def cosine_matrix(X) -> np.ndarray:
    return np.asarray((X @ X.T).todense(), dtype=np.float64)


def background_texts(data_dir: str | Path, segmenter) -> list[str]:
    """Segmented texts of ``corpus.csv`` in ``data_dir`` (the IDF background); empty when absent."""
    path = Path(data_dir) / "corpus.csv"
    if not path.is_file():
        return []
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "text" not in df.columns:
        raise InputError(f"{path.name}: expected a 'text' column, found {list(df.columns)}")
    return segmenter.join(df["text"].tolist())


def model_segmenter(model):
    """The segmenter the model was trained with."""
    own = getattr(model, "_segmenter", None)  # the packed model's, without unpickling scikit-learn
    return own() if callable(own) else model.category_pipeline_.named_steps["segment"].segmenter


# --- the threshold, chosen on labelled pairs -----------------------------------------------
def read_pairs(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path.name}: expected a UTF-8 CSV of text_a, text_b, same_problem, found unreadable "
                         f"content ({type(exc).__name__})") from None
    except FileNotFoundError:
        raise InputError(f"paraphrase pairs file not found: {path.name}") from None
    need = ["text_a", "text_b", "same_problem"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"{path.name}: expected columns {need}, missing {missing}; found {list(df.columns)}")
    bad = [i + 2 for i, v in enumerate(df["same_problem"]) if v.strip() not in ("0", "1")]
    if bad:
        raise InputError(f"{path.name}: same_problem must be 0 or 1; bad values on lines {bad[:10]}")
    df["same_problem"] = df["same_problem"].str.strip().astype(int)
    if df["same_problem"].nunique() < 2:
        raise InputError(f"{path.name}: expected both same (1) and different (0) pairs")
    return df


def pair_similarities(text_a: Sequence, text_b: Sequence, segmenter, background_joined=()) -> np.ndarray:
    """Cosine similarity of each (a, b) pair, vectorised exactly as a month is."""
    n = len(text_a)
    X = vectorise(list(text_a) + list(text_b), segmenter, background_joined)
    return np.asarray(X[:n].multiply(X[n:]).sum(axis=1)).ravel()


def choose_threshold(similarity, same_category, same_problem,
                     target_precision: float = DEFAULT_TARGET_PRECISION) -> dict:
    """The lowest threshold at which the accepted pairs (same category and similarity at
    least the threshold) are right at least ``target_precision`` of the time.

    Candidates are the similarities of the pairs themselves. Returns the threshold with
    its precision, recall and F1 on the pairs."""
    s = np.asarray(similarity, dtype=float)
    gate = np.asarray(same_category, dtype=bool)
    y = np.asarray(same_problem, dtype=int)
    if not (len(s) == len(gate) == len(y)) or not len(s):
        raise InputError("similarity, same_category and same_problem must be non-empty and of equal length")
    if y.sum() == 0:
        raise InputError("no same-problem pair: cannot choose a threshold")
    best = None
    for t in np.unique(np.round(s[gate & (y == 1)], 6)):
        accept = gate & (s >= t - 1e-9)
        tp = int((accept & (y == 1)).sum())
        precision = tp / int(accept.sum())
        if precision >= target_precision:
            best = (float(t), precision, tp)
            break
    if best is None:
        raise InputError(f"no threshold reaches precision {target_precision:.0%} on the labelled pairs")
    t, precision, tp = best
    recall = tp / int(y.sum())
    return {"threshold": round(t, 4), "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / (precision + recall), 4), "target_precision": target_precision,
            "n_pairs": int(len(y)), "n_same": int(y.sum())}


def calibrate(pairs: pd.DataFrame, model, background_joined=(), target_precision=DEFAULT_TARGET_PRECISION) -> dict:
    """Choose the similarity threshold on labelled pairs with the model's segmenter and categories."""
    seg = model_segmenter(model)
    a, b = pairs["text_a"].tolist(), pairs["text_b"].tolist()
    sims = pair_similarities(a, b, seg, background_joined)
    preds = model.predict(a + b)
    cats = [p.category for p in preds]
    same_cat = [ca is not None and ca == cb for ca, cb in zip(cats[: len(a)], cats[len(a):])]
    return choose_threshold(sims, same_cat, pairs["same_problem"].to_numpy(), target_precision)


# --- grouping ---------------------------------------------------------------------------
def group(S: np.ndarray, categories: Sequence, threshold: float) -> list[int]:
    """Group label per row: average-linkage clustering of rows of the same category,
    merged while their average similarity is at least ``threshold``. Labels are numbered
    in order of first appearance."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    cats = np.asarray(categories, dtype=object)
    raw = np.empty(len(cats), dtype=object)
    for c in dict.fromkeys(cats):
        idx = np.flatnonzero(cats == c)
        if len(idx) == 1:
            raw[idx[0]] = (c, 1)
            continue
        D = np.clip(1.0 - S[np.ix_(idx, idx)], 0.0, None)
        np.fill_diagonal(D, 0.0)
        D = (D + D.T) / 2
        labels = fcluster(linkage(squareform(D, checks=False), method="average"), t=1.0 - threshold + 1e-9,
                          criterion="distance")
        for k, i in enumerate(idx):
            raw[i] = (c, int(labels[k]))
    order: dict = {}
    return [order.setdefault(r, len(order)) for r in raw]


def average_link(S: np.ndarray, rows_a: Sequence[int], rows_b: Sequence[int]) -> float:
    return float(S[np.ix_(list(rows_a), list(rows_b))].mean())


def representative(S: np.ndarray, rows: Sequence[int]) -> int:
    """The member most similar on average to the others (the first one on ties)."""
    rows = list(rows)
    if len(rows) == 1:
        return rows[0]
    sub = S[np.ix_(rows, rows)]
    score = (sub.sum(axis=1) - np.diag(sub)) / (len(rows) - 1)
    return rows[int(np.argmax(score))]
