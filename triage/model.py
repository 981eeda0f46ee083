"""``TriageModel``: one scikit-learn pipeline for the category, one for the tier, a review
threshold chosen on cross-validation, and the routing that turns a prediction into an
assignment."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .errors import InputError
from .features import CLASSIFIERS, FEATURE_SETS, feature_names, linear_weights, make_pipeline
from .routing import route
from .segment import Segmenter
from .selection import choose_threshold, compare, metrics, restricted_argmax, review_stats
from .taxonomy import Taxonomy

OFFTOPIC = "_offtopic"  # background class of the category model; never a taxonomy code

REVIEW_REASONS = {
    "off_topic": "looks like no category at all (greeting, chit-chat...) / 疑似与企业诉求无关",
    "empty_text": "empty text / 内容为空",
    "no_usable_words": "no usable words (only punctuation, numbers or stop words) / 无有效词语",
    "no_known_terms": "none of its words was seen in training / 词语均未在训练语料中出现",
    "low_confidence": "category probability under the review threshold / 类别概率低于复核阈值",
}


@dataclass
class Prediction:
    category: str | None
    category_probability: float
    tier: str | None
    tier_probability: float
    alternatives: list[dict]
    needs_review: bool
    review_reason: str | None
    lead_agency: str | None
    lead_agency_en: str | None
    deadline_days: int | None
    deadline: str | None
    deputy: str | None
    explanation: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class TriageModel:
    """Sort opinions into categories and routing tiers.

    Parameters are stored as given; what is learned ends in ``_``: ``category_pipeline_``,
    ``tier_pipeline_``, ``review_threshold_``, ``categories_``, ``tiers_``, ``report_``.

    feature_sets, classifiers: candidates compared by cross-validation (best macro-F1 wins).
    review_threshold: a float to fix it, or ``"auto"`` to choose it on out-of-fold
    predictions (and on off-topic texts given to ``fit``).
    """

    def __init__(self, taxonomy: Taxonomy, segmenter: Segmenter | None = None,
                 feature_sets: Sequence[str] = FEATURE_SETS, classifiers: Sequence[str] = CLASSIFIERS,
                 cv: int = 5, review_threshold="auto", review_target_accuracy: float = 0.9,
                 random_state: int = 0, n_alternatives: int = 2, n_terms: int = 5, n_jobs: int | None = None):
        self.taxonomy = taxonomy
        self.segmenter = segmenter
        self.feature_sets = feature_sets
        self.classifiers = classifiers
        self.cv = cv
        self.review_threshold = review_threshold
        self.review_target_accuracy = review_target_accuracy
        self.random_state = random_state
        self.n_alternatives = n_alternatives
        self.n_terms = n_terms
        self.n_jobs = n_jobs

    # ----------------------------------------------------------------------------- fit
    def fit(self, texts: Sequence[str], categories: Sequence[str], tiers: Sequence[str],
            offtopic: Iterable[str] = ()) -> "TriageModel":
        """Train on labelled opinions. ``offtopic``: texts that belong to no category (greetings,
        canteen questions...); the category model learns them as a background class
        (``OFFTOPIC``), so that such text is flagged for review instead of forced into a class."""
        texts = list(texts)
        categories = np.asarray(categories, dtype=object)
        tiers = np.asarray(tiers, dtype=object)
        if not (len(texts) == len(categories) == len(tiers)):
            raise InputError(f"texts, categories and tiers differ in length: {len(texts)}, {len(categories)}, {len(tiers)}")
        self._check_labels(categories, self.taxonomy.category_codes, "category")
        self._check_labels(tiers, self.taxonomy.tier_codes, "tier")
        seg = self.segmenter or Segmenter()
        joined = seg.join(texts)
        empty = [i for i, j in enumerate(joined) if not j]
        if empty:
            raise InputError(f"{len(empty)} training texts have no usable words, first at position {empty[0]}")
        offtopic = [t for t in offtopic if seg.tokens(t)]
        off_joined = seg.join(offtopic)
        cat_texts, cat_joined = texts + offtopic, joined + off_joined
        cat_y = np.concatenate([categories, np.array([OFFTOPIC] * len(offtopic), dtype=object)])
        cat_labels = [c for c in self.taxonomy.category_codes if c in set(categories)]
        tier_labels = [t for t in self.taxonomy.tier_codes if t in set(tiers)]
        args = dict(n_splits=self.cv, random_state=self.random_state, n_jobs=self.n_jobs)
        cat_table, cat_best, (cat_classes, cat_oof) = compare(
            cat_joined, cat_y, cat_labels, self.feature_sets, self.classifiers, **args)
        tier_table, tier_best, (tier_classes, tier_oof) = compare(
            joined, tiers, tier_labels, self.feature_sets, self.classifiers, **args)

        self.category_pipeline_ = self._final(cat_best, cat_texts, cat_y)
        self.tier_pipeline_ = self._final(tier_best, texts, tiers)
        self.categories_ = list(self.category_pipeline_.classes_)
        self.tiers_ = list(self.tier_pipeline_.classes_)

        n = len(texts)
        real = [i for i, c in enumerate(cat_classes) if c != OFFTOPIC]
        top = cat_oof[:, real].max(axis=1)
        other = cat_classes[np.argmax(cat_oof, axis=1)] == OFFTOPIC
        cat_pred = restricted_argmax(cat_classes, cat_oof[:n], cat_labels)
        tier_pred = tier_classes[np.argmax(tier_oof, axis=1)]
        review = choose_threshold(top[:n], cat_pred == categories, other[:n], top[n:], other[n:],
                                  self.review_target_accuracy)
        if self.review_threshold != "auto":
            review.update(threshold=float(self.review_threshold),
                          **review_stats(top[:n], cat_pred == categories, other[:n], top[n:], other[n:],
                                         float(self.review_threshold)))
        self.review_threshold_ = review["threshold"]
        self.report_ = {
            "n_train": n,
            "n_offtopic": len(offtopic),
            "cv_folds": self.cv,
            "random_state": self.random_state,
            "category": {"selected": {"features": cat_best[0], "classifier": cat_best[1]},
                         "comparison": cat_table, "cv": metrics(categories, cat_pred, cat_labels)},
            "tier": {"selected": {"features": tier_best[0], "classifier": tier_best[1]},
                     "comparison": tier_table, "cv": metrics(tiers, tier_pred, tier_labels)},
            "review": review,
        }
        return self

    @staticmethod
    def _check_labels(values, allowed, what):
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise InputError(f"unknown {what} codes {unknown}; the taxonomy has {list(allowed)}")

    def _final(self, best, texts, y):
        n_min = int(min(np.sum(y == label) for label in set(y)))
        pipe = make_pipeline(best[0], best[1], self.segmenter or Segmenter(), self.random_state,
                             n_classes_min=max(2, min(3, n_min)))
        return pipe.fit(texts, y)

    # ------------------------------------------------------------------------- predict
    def _check_fitted(self):
        if not hasattr(self, "category_pipeline_"):
            raise InputError("this TriageModel is not trained yet: call fit() or TriageModel.load()")

    def predict(self, texts, intake_dates=None, deputies=None):
        """One text gives one ``Prediction``; a list gives a list, in the same order.

        intake_dates / deputies: one value or one per text; they fill the deadline date and
        the deputy slot of the routing."""
        single = isinstance(texts, str) or texts is None
        items = [texts] if single else list(texts)
        n = len(items)
        dates = self._broadcast(intake_dates, n, "intake_dates", single)
        deps = self._broadcast(deputies, n, "deputies", single)
        out = self.predict_batch(items, dates, deps)
        return out[0] if single else out

    @staticmethod
    def _broadcast(value, n, name, single):
        if value is None or isinstance(value, str) or single or not hasattr(value, "__len__"):
            return [value] * n
        value = list(value)
        if len(value) != n:
            raise InputError(f"{name}: expected {n} values (one per text), found {len(value)}")
        return value

    def predict_batch(self, texts: list, intake_dates: list, deputies: list) -> list[Prediction]:
        self._check_fitted()
        seg_step = self.category_pipeline_.named_steps["segment"]
        joined = seg_step.transform(texts)  # segment once, use for both pipelines
        usable = [i for i, j in enumerate(joined) if j]
        results: list[Prediction | None] = [None] * len(texts)
        if usable:
            sub = [joined[i] for i in usable]
            cat_X = self.category_pipeline_[1:-1].transform(sub)
            cat_p = self.category_pipeline_[-1].predict_proba(cat_X)
            tier_p = self.tier_pipeline_[1:].predict_proba(sub)
            known = np.asarray((cat_X != 0).sum(axis=1)).ravel() > 0
            word_known = self._word_hits(cat_X)
            real = self._real_columns()
            best_real = real[np.argmax(cat_p[:, real], axis=1)]
            explanations = self._explain_rows(cat_X, best_real) if self.n_terms else None
            for k, i in enumerate(usable):
                results[i] = self._one(cat_p[k], tier_p[k], bool(known[k] and word_known[k]),
                                       explanations[k] if explanations else [], intake_dates[i], deputies[i])
        for i, j in enumerate(joined):
            if results[i] is None:
                reason = "empty_text" if not str(texts[i] or "").strip() else "no_usable_words"
                results[i] = self._unusable(reason, deputies[i])
        return results

    def _word_hits(self, X) -> np.ndarray:
        """Per row: does any *word* feature (not only character n-grams) fire?"""
        feats = self.category_pipeline_.named_steps["features"]
        if hasattr(feats, "transformer_list"):
            n_word = len(feats.transformer_list[0][1].vocabulary_)
            X = X[:, :n_word]
        return np.asarray((X != 0).sum(axis=1)).ravel() > 0

    def _one(self, cp, tp, known, explanation, intake_date, deputy) -> Prediction:
        real = self._real_columns()
        order = real[np.argsort(-cp[real], kind="stable")]
        cat = self.categories_[order[0]]
        tier = self.tiers_[int(np.argmax(tp))]
        p = float(cp[order[0]])
        alternatives = [{"category": self.categories_[j], "probability": round(float(cp[j]), 4)}
                        for j in order[1:1 + self.n_alternatives]]
        if not known:
            reason = "no_known_terms"
        elif self.categories_[int(np.argmax(cp))] == OFFTOPIC:
            reason = "off_topic"
        elif p < self.review_threshold_:
            reason = "low_confidence"
        else:
            reason = None
        r = route(self.taxonomy, cat, tier, intake_date, deputy)
        return Prediction(cat, round(p, 4), tier, round(float(tp.max()), 4), alternatives, reason is not None,
                          reason, r.lead_agency, r.lead_agency_en, r.deadline_days, r.deadline, r.deputy, explanation)

    def _real_columns(self) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.categories_) if c != OFFTOPIC])

    def _unusable(self, reason, deputy) -> Prediction:
        dep = (str(deputy).strip() or None) if deputy is not None else None
        return Prediction(None, 0.0, None, 0.0, [], True, reason, None, None, None, None, dep, [])

    # ------------------------------------------------------------------------- explain
    def _explain_rows(self, X, class_idx) -> list[list[dict]]:
        clf = self.category_pipeline_.named_steps["classifier"]
        classes, W = linear_weights(clf)
        names = self._feature_names()
        X = X.tocsr()
        out = []
        for r in range(X.shape[0]):
            start, end = X.indptr[r], X.indptr[r + 1]
            cols, vals = X.indices[start:end], X.data[start:end]
            contrib = vals * W[class_idx[r], cols]
            top = np.argsort(-contrib)[: self.n_terms * 2]
            terms, seen = [], set()
            for t in top:
                if contrib[t] <= 0 or len(terms) >= self.n_terms:
                    break
                name = names[cols[t]]
                if name in seen:
                    continue
                seen.add(name)
                terms.append({"term": name, "weight": round(float(contrib[t]), 4)})
            out.append(terms)
        return out

    def _feature_names(self):
        if getattr(self, "_names_cache", None) is None:
            self._names_cache = feature_names(self.category_pipeline_)
        return self._names_cache

    def explain(self, text: str) -> list[dict]:
        """The terms of ``text`` that pushed its predicted category most, with their weights."""
        return self.predict(text).explanation

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_names_cache", None)
        return state

    # ------------------------------------------------------------------------- persist
    def save(self, folder, data: dict, version: str | None = None):
        """Write a new version folder under ``folder``; see ``triage.artifacts.save``."""
        from .artifacts import save

        return save(self, folder, data, version)

    @classmethod
    def load(cls, folder) -> "TriageModel":
        """Load a version folder, or the CURRENT version of a models folder, checking its hashes."""
        from .artifacts import load

        return load(folder)
