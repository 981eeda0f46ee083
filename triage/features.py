"""The pieces of the scikit-learn pipelines: a segmentation step, feature sets and
classifiers, addressed by short names so that model selection can compare them."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from .segment import Segmenter

from .names import CLASSIFIERS, FEATURE_SETS
WORD_PATTERN = r"(?u)\S+"


def drop_spaces(text: str) -> str:
    """Preprocessor of the character n-gram vectoriser: n-grams run across word boundaries."""
    return text.replace(" ", "")


class SegmentStep(BaseEstimator, TransformerMixin):
    """Pipeline step: raw texts in, space-joined tokens out (stateless)."""

    def __init__(self, segmenter: Segmenter | None = None):
        self.segmenter = segmenter

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        return (self.segmenter or Segmenter()).join(X)


def make_features(name: str, min_df: int = 1):
    word = TfidfVectorizer(
        token_pattern=WORD_PATTERN, lowercase=False, ngram_range=(1, 2), sublinear_tf=True, min_df=min_df,
        dtype=np.float32,
    )
    if name == "word":
        return word
    if name == "word+char":
        char = TfidfVectorizer(
            analyzer="char", preprocessor=drop_spaces, ngram_range=(2, 3), sublinear_tf=True, min_df=min_df,
            lowercase=False, dtype=np.float32,
        )
        return FeatureUnion([("word", word), ("char", char)])
    raise ValueError(f"unknown feature set {name!r}; expected one of {FEATURE_SETS}")


def make_classifier(name: str, random_state: int = 0, calibrate: bool = True, n_classes_min: int = 3):
    """A linear classifier; with ``calibrate`` wrapped in sigmoid calibration on internal
    folds (``ensemble=False``: one linear model on all data, so its weights explain it)."""
    if name == "linearsvc":
        base = LinearSVC(C=0.5, class_weight="balanced", random_state=random_state)
    elif name == "logreg":
        # probabilistic by itself: not wrapped in calibration (which would cost 4 fits)
        return LogisticRegression(C=50.0, tol=1e-3, max_iter=500, class_weight="balanced")
    elif name == "sgd":
        base = SGDClassifier(
            loss="modified_huber", alpha=5e-5, max_iter=50, tol=None, class_weight="balanced", random_state=random_state
        )
    else:
        raise ValueError(f"unknown classifier {name!r}; expected one of {CLASSIFIERS}")
    if not calibrate:
        return base
    return CalibratedClassifierCV(base, method="sigmoid", cv=min(3, n_classes_min), ensemble=False)


def make_pipeline(features: str, classifier: str, segmenter: Segmenter | None, random_state: int = 0,
                  segment: bool = True, n_classes_min: int = 3) -> Pipeline:
    steps = []
    if segment:
        steps.append(("segment", SegmentStep(segmenter)))
    steps.append(("features", make_features(features)))
    steps.append(("classifier", make_classifier(classifier, random_state, n_classes_min=n_classes_min)))
    return Pipeline(steps)


def linear_weights(classifier) -> tuple[np.ndarray, np.ndarray]:
    """(classes, weights) of a fitted linear classifier, calibrated or not; weights has one
    row per class (a binary model's single row is expanded into two)."""
    est = classifier
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
