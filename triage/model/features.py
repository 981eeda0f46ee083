"""The pieces of the scikit-learn pipelines: a segmentation step, feature sets and
classifiers, addressed by short names so that model selection can compare them.

A feature set is a list of blocks (TF-IDF vectorisers over the space-joined tokens):
``word`` (words and word pairs) and ``char`` (character 2- and 3-grams across word
boundaries), and a variant with single characters for long texts. Block names are fixed for given
parameters, so two feature sets that both contain ``word`` contain the same vectoriser:
the category and the tier models can then share one fitted vectoriser (``fit_shared``).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from triage.model.names import ALL_CLASSIFIERS, ALL_FEATURE_SETS, CLASSIFIERS, ENSEMBLE, FEATURE_SETS  # noqa: F401
from triage.model.fast.packed import WORD_PATTERN
from triage.segment import Segmenter
from triage.text import drop_spaces  # the preprocessor of the character n-grams; saved pipelines name it here too

# Every n-gram of the training texts is kept (min_df 1). Keeping only those seen in two or more
# texts makes the vocabulary about 5 times smaller and prediction about 1.4 times faster, but on
# the corpus it cost 0.005 of category macro-F1 and moved the category of enough paraphrases that
# the screening's same-problem recall fell from 68% to 57% at the recorded precision, so it is not
# the default.
MIN_DF = 1
# block name -> (analyzer, n-gram range)
BLOCKS = {
    "word": ("word", (1, 2)),
    "char": ("char", (2, 3)),
    "char13": ("char", (1, 3)),  # single characters too: helps long texts (Teddy Cup benchmark)
}
# feature set -> its blocks, in column order
FEATURE_BLOCKS = {
    "word": ("word",),
    "word+char": ("word", "char"),
    "word+char13": ("word", "char13"),
}
# classifier name -> (kind, regularisation C; for sgd: alpha)
CLASSIFIER_SPECS = {
    "linearsvc": ("linearsvc", 0.5),
    "linearsvc_c1": ("linearsvc", 1.0),
    "logreg": ("logreg", 50.0),
    "sgd": ("sgd", 5e-5),
}
assert set(FEATURE_BLOCKS) == set(ALL_FEATURE_SETS)
assert set(CLASSIFIER_SPECS) == {c.removesuffix(ENSEMBLE) for c in ALL_CLASSIFIERS}


class SegmentStep(BaseEstimator, TransformerMixin):
    """Pipeline step: raw texts in, space-joined tokens out (stateless)."""

    def __init__(self, segmenter: Segmenter | None = None):
        self.segmenter = segmenter

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        return (self.segmenter or Segmenter()).join(X)


class Tfidf(TfidfVectorizer):
    """TF-IDF that keeps terms seen in at least ``min_df`` texts, falling back to every term
    when no term is that frequent (a tiny or oddly segmented corpus), instead of failing.

    The parameter stays as given (scikit-learn's convention: ``fit`` never changes a
    parameter); the cut actually applied is the learned ``min_df_``."""

    def fit_transform(self, raw_documents, y=None):
        try:
            X = super().fit_transform(raw_documents, y)
            self.min_df_ = self.min_df
            return X
        except ValueError as exc:
            if self.min_df == 1 or "no terms remain" not in str(exc):
                raise
        wanted = self.min_df
        self.min_df = 1  # for this one fit only
        try:
            X = super().fit_transform(raw_documents, y)
        finally:
            self.min_df = wanted
        self.min_df_ = 1
        return X

    def fit(self, raw_documents, y=None):
        self.fit_transform(raw_documents, y)
        return self


def make_block(name: str, min_df: int = MIN_DF) -> TfidfVectorizer:
    analyzer, ngrams = BLOCKS[name]
    if analyzer == "word":
        return Tfidf(token_pattern=WORD_PATTERN, lowercase=False, ngram_range=ngrams, sublinear_tf=True,
                     min_df=min_df, dtype=np.float32)
    return Tfidf(analyzer="char", preprocessor=drop_spaces, ngram_range=ngrams, sublinear_tf=True,
                 min_df=min_df, lowercase=False, dtype=np.float32)


def make_features(name: str, min_df: int = MIN_DF):
    """A feature set: one vectoriser, or a ``FeatureUnion`` of its blocks (named by block)."""
    if name not in FEATURE_BLOCKS:
        raise ValueError(f"unknown feature set {name!r}; expected one of {ALL_FEATURE_SETS}")
    blocks = FEATURE_BLOCKS[name]
    if len(blocks) == 1:
        return make_block(blocks[0], min_df)
    return FeatureUnion([(b, make_block(b, min_df)) for b in blocks])


def make_classifier(name: str, random_state: int = 0, calibrate: bool = True, n_classes_min: int = 3,
                    parents: dict | None = None):
    """A linear classifier; with ``calibrate`` wrapped in sigmoid calibration on internal
    folds (``ensemble=False``: one linear model on all data, so its weights explain it).
    A name ending in ``+coarse``: that classifier on the fine labels averaged with the same
    classifier on their ``parents`` (``triage.model.ensemble.HierarchicalEnsemble``)."""
    if name.endswith(ENSEMBLE):
        from triage.model.ensemble import HierarchicalEnsemble

        base = name.removesuffix(ENSEMBLE)
        return HierarchicalEnsemble(make_classifier(base, random_state, calibrate, n_classes_min),
                                    make_classifier(base, random_state, calibrate, n_classes_min), parents)
    if name not in CLASSIFIER_SPECS:
        raise ValueError(f"unknown classifier {name!r}; expected one of {ALL_CLASSIFIERS}")
    kind, c = CLASSIFIER_SPECS[name]
    if kind == "linearsvc":
        base = LinearSVC(C=c, class_weight="balanced", random_state=random_state)
    elif kind == "logreg":
        # probabilistic by itself: not wrapped in calibration (which would cost 4 fits)
        return LogisticRegression(C=c, tol=1e-3, max_iter=500, class_weight="balanced")
    else:
        base = SGDClassifier(
            loss="modified_huber", alpha=c, max_iter=50, tol=None, class_weight="balanced", random_state=random_state
        )
    if not calibrate:
        return base
    return CalibratedClassifierCV(base, method="sigmoid", cv=min(3, n_classes_min), ensemble=False)


def make_pipeline(features: str, classifier: str, segmenter: Segmenter | None, random_state: int = 0,
                  segment: bool = True, n_classes_min: int = 3, min_df: int = MIN_DF, parents: dict | None = None
                  ) -> Pipeline:
    steps = []
    if segment:
        steps.append(("segment", SegmentStep(segmenter)))
    steps.append(("features", make_features(features, min_df)))
    steps.append(("classifier", make_classifier(classifier, random_state, n_classes_min=n_classes_min,
                                                parents=parents)))
    return Pipeline(steps)


def fit_shared(first: str, second: str, first_texts, second_texts, min_df: int = MIN_DF):
    """Fitted feature steps for two feature sets, shared where they can be.

    ``second_texts`` must be a subset of ``first_texts`` (the tier's opinions are the
    category's minus the off-topic texts). The same set gives one vectoriser for both;
    a set whose blocks are all in the other gets the other's fitted blocks. Either way
    everything is fitted on ``first_texts``, and features are computed once per batch."""
    a, b = FEATURE_BLOCKS[first], FEATURE_BLOCKS[second]
    if first == second:
        shared = make_features(first, min_df).fit(first_texts)
        return shared, shared
    if set(b) <= set(a) and len(a) > 1:
        union = make_features(first, min_df).fit(first_texts)
        return union, _subset(union, b)
    if set(a) <= set(b) and len(b) > 1:
        union = make_features(second, min_df).fit(first_texts)
        return _subset(union, a), union
    return make_features(first, min_df).fit(first_texts), make_features(second, min_df).fit(second_texts)


def _subset(union: FeatureUnion, blocks):
    parts = dict(union.transformer_list)
    if len(blocks) == 1:
        return parts[blocks[0]]
    return FeatureUnion([(b, parts[b]) for b in blocks])


def as_float64(clf):
    """Keep a fitted linear model's weights in float64 (logistic regression fitted on
    float32 features keeps float32 ones): its scores are then computed in float64 on the
    fast path too."""
    for name in ("coef_", "intercept_"):
        value = getattr(clf, name, None)
        if isinstance(value, np.ndarray) and value.dtype == np.float32:
            setattr(clf, name, value.astype(np.float64))
    return clf


def linear_weights(classifier) -> tuple[np.ndarray, np.ndarray]:
    """(classes, weights) of a fitted linear classifier, calibrated or not; weights has one
    row per class (a binary model's single row is expanded into two)."""
    est = classifier
    if hasattr(est, "fine_"):  # a HierarchicalEnsemble: the fine model's weights explain the subtopic
        return linear_weights(est.fine_)
    if isinstance(est, CalibratedClassifierCV):
        est = est.calibrated_classifiers_[0].estimator
    coef = np.asarray(est.coef_)
    classes = np.asarray(classifier.classes_)
    if coef.shape[0] == 1 and len(classes) == 2:
        coef = np.vstack([-coef[0], coef[0]])
    return classes, coef


def feature_names(pipeline: Pipeline) -> np.ndarray:
    names = pipeline.named_steps["features"].get_feature_names_out()
    return np.array([n.split("__", 1)[1] if "__" in n else n for n in names], dtype=object)
