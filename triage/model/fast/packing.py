"""Packing fitted scikit-learn pipelines into ``triage.model.fast.packed`` objects.

``pack_pair`` inspects the fitted objects by their attributes and refuses (leaves the
fast parts out) anything ``triage.model.fast.packed`` does not reproduce exactly; such a model then
predicts through scikit-learn.
"""
from __future__ import annotations

import numpy as np

from triage.model.fast.mixed import PackedMixture
from triage.model.fast.packed import PackedFeatures, PackedLinear, PackedPipeline
from triage.model.fast.tables import _SEP, WORD_PATTERN, _Block


def _pack_vectorizer(v) -> _Block | None:
    name = type(v).__name__
    if name not in ("TfidfVectorizer", "Tfidf") or v.binary or v.stop_words is not None or v.strip_accents is not None \
            or v.lowercase or v.tokenizer is not None or v.norm not in ("l2", None) or not v.use_idf:
        return None
    if v.analyzer == "word" and v.preprocessor is None and v.token_pattern == WORD_PATTERN:
        kind = "word"
    elif v.analyzer == "char" and getattr(v.preprocessor, "__name__", "") == "drop_spaces":
        kind = "char"
    else:
        return None
    vocab = v.vocabulary_
    terms = [None] * len(vocab)
    for term, col in vocab.items():
        terms[col] = term
    if any(t is None or _SEP in t or (kind == "char" and " " in t) for t in terms):
        return None
    lo, hi = v.ngram_range
    try:
        return _Block(kind, lo, hi, terms, v.idf_, v.sublinear_tf, v.norm, v.dtype)
    except ValueError:
        return None


def pack_features(features) -> PackedFeatures | None:
    """A fitted ``TfidfVectorizer`` or ``FeatureUnion`` of them, packed (None if not supported)."""
    if type(features).__name__ == "FeatureUnion":
        if features.transformer_weights:
            return None
        parts = [t for _, t in features.transformer_list]
    else:
        parts = [features]
    blocks = [_pack_vectorizer(p) for p in parts]
    if not blocks or any(b is None for b in blocks):
        return None
    return PackedFeatures(blocks)


def pack_linear(clf, n_features: int, columns: np.ndarray | None = None) -> PackedLinear | PackedMixture | None:
    """A fitted classifier packed; ``columns``: where its features sit in a wider feature
    space of ``n_features`` columns (its weights are spread there, zero elsewhere)."""
    name = type(clf).__name__
    if name == "HierarchicalEnsemble":
        fine, coarse = pack_linear(clf.fine_, n_features, columns), pack_linear(clf.coarse_, n_features, columns)
        if fine is None or coarse is None:
            return None
        return PackedMixture(fine, coarse, clf.parent_index_, clf.weight)
    if name == "CalibratedClassifierCV":
        if len(clf.calibrated_classifiers_) != 1 or clf.method != "sigmoid":
            return None
        cal = clf.calibrated_classifiers_[0]
        est = cal.estimator
        if type(est).__name__ not in ("LinearSVC", "SGDClassifier") or list(est.classes_) != list(clf.classes_):
            return None
        a = np.array([c.a_ for c in cal.calibrators], dtype=np.float64)
        b = np.array([c.b_ for c in cal.calibrators], dtype=np.float64)
        coef, intercept, link = est.coef_, est.intercept_, "sigmoid"
    elif name == "DummyClassifier" and len(clf.classes_) == 1:  # a single class: probability 1
        coef, intercept, a, b, link = np.zeros((1, n_features)), np.zeros(1), None, None, "softmax"
        columns = None
    elif name == "LogisticRegression":
        coef, intercept, a, b = clf.coef_, clf.intercept_, None, None
        link = "logistic" if len(clf.classes_) == 2 else "softmax"
    else:
        return None
    coef = np.asarray(coef)
    if columns is not None:
        wide = np.zeros((coef.shape[0], n_features), dtype=coef.dtype)
        wide[:, columns] = coef
        coef = wide
    if coef.shape[1] != n_features:
        return None
    return PackedLinear(clf.classes_, coef, intercept, link, a, b)


def pack_pair(category, tier) -> tuple[PackedPipeline, PackedPipeline]:
    """Pack the category and tier pipelines; when the tier's vectoriser is the category's
    (or one of the vectorisers of the category's feature union, or the other way round),
    both share one ``PackedFeatures`` so that features are computed once."""
    cf, tf = category.named_steps["features"], tier.named_steps["features"]
    seg = category.named_steps["segment"].segmenter
    cat_cols = tier_cols = None
    if cf is tf:
        wide = cf
    elif _part_of(tf, cf) is not None:
        wide, tier_cols = cf, _part_of(tf, cf)
    elif _part_of(cf, tf) is not None:
        wide, cat_cols = tf, _part_of(cf, tf)
    else:
        wide = None
    if wide is not None:
        shared = pack_features(wide)
        cat_f = tier_f = shared
    else:
        cat_f, tier_f = pack_features(cf), pack_features(tf)
    cat_l = pack_linear(category.named_steps["classifier"], cat_f.n_features, cat_cols) if cat_f else None
    tier_l = pack_linear(tier.named_steps["classifier"], tier_f.n_features, tier_cols) if tier_f else None
    return (PackedPipeline(category.classes_, seg, cat_f, cat_l),
            PackedPipeline(tier.classes_, tier.named_steps["segment"].segmenter, tier_f, tier_l))


def _part_of(part, union):
    """The columns of ``part`` inside ``union`` if it is one of the union's vectorisers, else None."""
    if type(union).__name__ != "FeatureUnion":
        return None
    start = 0
    for _, t in union.transformer_list:
        width = len(t.vocabulary_)
        if t is part:
            return np.arange(start, start + width)
        start += width
    return None
