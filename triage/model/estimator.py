"""``TriageModel``: one scikit-learn pipeline for the category, one for the tier, a review
threshold chosen on cross-validation, and the routing that turns a prediction into an
assignment."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Iterable, Sequence

import numpy as np

from triage.model.scoring import Scores, explain_rows, packed_scores, sklearn_scores
from triage.errors import InputError
from triage.model.names import CLASSIFIERS, FEATURE_SETS
from triage.model.fast.packed import PackedPipeline, char_slices
from triage.routing import route
from triage.segment import Segmenter
from triage.taxonomy import Taxonomy

OFFTOPIC = "_offtopic"  # background class of the category model; never a taxonomy code
CONSTANT = "constant"  # the "classifier" of a tier model when there is a single tier

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


_FIELDS = tuple(f.name for f in fields(Prediction))


def _constant_metrics(y) -> dict:
    """The metrics of a single-label task (every prediction is right)."""
    label, n = str(y[0]), int(len(y))
    return {"n": n, "macro_f1": 1.0, "accuracy": 1.0, "per_class_f1": {label: 1.0},
            "confusion_matrix": {"labels": [label], "matrix": [[n]]}}


class TriageModel:
    """Sort opinions into categories and routing tiers.

    Parameters are stored as given; what is learned ends in ``_``: ``category_pipeline_``,
    ``tier_pipeline_``, ``review_threshold_``, ``categories_``, ``tiers_``, ``report_``.

    The two pipelines are scikit-learn ``Pipeline`` objects (segment -> features ->
    classifier). A trained or loaded model also holds them packed (``triage.model.fast.packed``):
    predictions then run on numpy alone, the features are computed once for both
    pipelines, and the scikit-learn objects are unpickled only when first asked for.

    feature_sets, classifiers: candidates compared by cross-validation (best macro-F1 wins).
    review_threshold: a float to fix it, or ``"auto"`` to choose it on out-of-fold
    predictions (and on off-topic texts given to ``fit``).
    min_df: an n-gram is a feature if at least this many training texts hold it (1 keeps them
    all; see ``triage.model.features.MIN_DF`` for why 1 is the default on the station's corpus).
    """

    def __init__(self, taxonomy: Taxonomy, segmenter: Segmenter | None = None,
                 feature_sets: Sequence[str] = FEATURE_SETS, classifiers: Sequence[str] = CLASSIFIERS,
                 cv: int = 5, review_threshold="auto", review_target_accuracy: float = 0.9,
                 random_state: int = 0, n_alternatives: int = 2, n_terms: int = 5, n_jobs: int | None = None,
                 min_df: int = 1):
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
        self.min_df = min_df

    # ----------------------------------------------------------------------------- fit
    def fit(self, texts: Sequence[str], categories: Sequence[str], tiers: Sequence[str],
            offtopic: Iterable[str] = ()) -> "TriageModel":
        """Train on labelled opinions. ``offtopic``: texts that belong to no category (greetings,
        canteen questions...); the category model learns them as a background class
        (``OFFTOPIC``), so that such text is flagged for review instead of forced into a class."""
        from triage.model.selection import choose_threshold, compare, metrics, restricted_argmax, review_stats

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
        cat_joined = joined + off_joined
        cat_y = np.concatenate([categories, np.array([OFFTOPIC] * len(offtopic), dtype=object)])
        cat_labels = [c for c in self.taxonomy.category_codes if c in set(categories)]
        tier_labels = [t for t in self.taxonomy.tier_codes if t in set(tiers)]
        args = dict(n_splits=self.cv, random_state=self.random_state, n_jobs=self.n_jobs, min_df=self.min_df)
        cat_table, cat_best, (cat_classes, cat_oof) = compare(
            cat_joined, cat_y, cat_labels, self.feature_sets, self.classifiers, **args)
        if len(tier_labels) > 1:
            tier_table, tier_best, (tier_classes, tier_oof) = compare(
                joined, tiers, tier_labels, self.feature_sets, self.classifiers, **args)
        else:  # a taxonomy with a single tier (or data using one): nothing to learn
            tier_table, tier_best = [], (cat_best[0], CONSTANT)
            tier_classes, tier_oof = np.array(tier_labels, dtype=object), np.ones((len(texts), 1))

        self._fit_final(seg, cat_best, cat_joined, cat_y, tier_best, joined, tiers)

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
            "min_df": self.min_df,
            "random_state": self.random_state,
            "category": {"selected": {"features": cat_best[0], "classifier": cat_best[1]},
                         "comparison": cat_table, "cv": metrics(categories, cat_pred, cat_labels)},
            "tier": {"selected": {"features": tier_best[0], "classifier": tier_best[1]},
                     "comparison": tier_table,
                     "cv": metrics(tiers, tier_pred, tier_labels) if len(tier_labels) > 1 else _constant_metrics(tiers)},
            "review": review,
            # one vectoriser (or one feature union) serves both models: features computed once
            "shared_features": bool(self._packs["category"].features is not None
                                    and self._packs["category"].features is self._packs["tier"].features),
        }
        return self

    @staticmethod
    def _check_labels(values, allowed, what):
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise InputError(f"unknown {what} codes {unknown}; the taxonomy has {list(allowed)}")

    def _fit_final(self, seg, cat_best, cat_joined, cat_y, tier_best, joined, tiers):
        """Fit the selected candidates on all data. The two models share their vectorisers
        where their feature sets allow (fitted on all the category's texts, which include
        the tier's), and are packed for prediction."""
        from sklearn.pipeline import Pipeline

        from triage.model.features import SegmentStep, as_float64, fit_shared, make_classifier
        from triage.model.fast.packing import pack_pair

        cat_feats, tier_feats = fit_shared(cat_best[0], tier_best[0], cat_joined, joined, self.min_df)
        step = SegmentStep(seg)
        pipes = []
        for feats, (_, clf_name), X_texts, y in ((cat_feats, cat_best, cat_joined, cat_y),
                                                 (tier_feats, tier_best, joined, tiers)):
            n_min = int(min(np.sum(y == label) for label in set(y)))
            if clf_name == CONSTANT:
                from sklearn.dummy import DummyClassifier

                clf = DummyClassifier(strategy="prior")
            else:
                clf = make_classifier(clf_name, self.random_state, n_classes_min=max(2, min(3, n_min)))
            clf = as_float64(clf.fit(feats.transform(X_texts), y))
            pipes.append(Pipeline([("segment", step), ("features", feats), ("classifier", clf)]))
        self.category_pipeline_, self.tier_pipeline_ = pack_pair(*pipes)
        self._pipes = {"category": pipes[0], "tier": pipes[1]}  # already in memory: no need to unpack
        self.categories_ = list(pipes[0].classes_)
        self.tiers_ = list(pipes[1].classes_)

    # ----------------------------------------------------------------------- pipelines
    @property
    def category_pipeline_(self):
        return self._pipeline("category")

    @category_pipeline_.setter
    def category_pipeline_(self, value):
        self._set_pipeline("category", value)

    @property
    def tier_pipeline_(self):
        return self._pipeline("tier")

    @tier_pipeline_.setter
    def tier_pipeline_(self, value):
        self._set_pipeline("tier", value)

    def _pipeline(self, part):
        pipe = self.__dict__.get("_pipes", {}).get(part)
        if pipe is None:
            pack = self.__dict__.get("_packs", {}).get(part)
            if pack is None:
                raise AttributeError(f"{part}_pipeline_")
            pipe = self.__dict__.setdefault("_pipes", {})[part] = pack.unpack()
        return pipe

    def _set_pipeline(self, part, value):
        """A scikit-learn pipeline, or a ``PackedPipeline`` (what a model file holds)."""
        packs, pipes = self.__dict__.setdefault("_packs", {}), self.__dict__.setdefault("_pipes", {})
        packed = isinstance(value, PackedPipeline)
        packs[part], pipes[part] = (value, None) if packed else (None, value)
        self.__dict__.pop("_seg", None)

    def _has(self, part) -> bool:
        return any(self.__dict__.get(k, {}).get(part) is not None for k in ("_packs", "_pipes"))

    def _payload(self) -> dict:
        """What a model file stores: both pipelines packed (packed now if they were given as
        scikit-learn pipelines and can be), else as they are."""
        from triage.model.fast.packing import pack_pair

        packs = self.__dict__.get("_packs", {})
        if packs.get("category") is None or packs.get("tier") is None:
            packs = dict(zip(("category", "tier"), pack_pair(self.category_pipeline_, self.tier_pipeline_)))
        return packs

    # ------------------------------------------------------------------------- predict
    def _check_fitted(self):
        if not (self._has("category") and self._has("tier")):
            raise InputError("this TriageModel is not trained yet: call fit() or TriageModel.load()")

    def _segmenter(self) -> Segmenter:
        seg = self.__dict__.get("_seg")
        if seg is None:
            pack = self.__dict__.get("_packs", {}).get("category")
            seg = pack.segmenter if pack is not None else self.category_pipeline_.named_steps["segment"].segmenter
            seg = self.__dict__["_seg"] = seg or Segmenter()
        return seg

    def _scores(self, joined: list[str]) -> Scores:
        packs = self.__dict__.get("_packs", {})
        cat, tier = packs.get("category"), packs.get("tier")
        if cat is not None and tier is not None and cat.fast and tier.fast:
            return packed_scores(cat, tier, joined)
        return sklearn_scores(self.category_pipeline_, self.tier_pipeline_, joined)

    def warm_up(self) -> "TriageModel":
        """Load the segmenter's dictionaries and the lookup tables now rather than on the
        first request (a service calls this before it says it is ready)."""
        self._check_fitted()
        self._segmenter().warm_up()
        self.predict_columns(["胶合板厂的留抵退税还没到账"], [None], [None])
        return self

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
        cols = self.predict_columns(texts, intake_dates, deputies)
        return [Prediction(*row) for row in zip(*(cols[f] for f in _FIELDS))]

    def predict_columns(self, texts: list, intake_dates: list, deputies: list, *, alternatives: bool = True,
                        terms_as_text: bool = False) -> dict[str, list]:
        """Like ``predict_batch``, as columns: each ``Prediction`` field name maps to one value
        per text (what a table writer wants, without an object per row).

        alternatives: ``False`` leaves them empty (saves time when they are not shown).
        terms_as_text: the explanation of each text as one string ``term(+0.42); ...``
        (``triage.model.scoring.format_term``) instead of a list of dicts."""
        self._check_fitted()
        n = len(texts)
        joined = self._segmenter().join(texts)
        usable = [i for i, j in enumerate(joined) if j]
        cols = {
            "category": [None] * n, "category_probability": [0.0] * n, "tier": [None] * n,
            "tier_probability": [0.0] * n, "alternatives": [[] for _ in range(n)], "needs_review": [True] * n,
            "review_reason": [None] * n, "lead_agency": [None] * n, "lead_agency_en": [None] * n,
            "deadline_days": [None] * n, "deadline": [None] * n,
            "deputy": [(str(d).strip() or None) if d is not None else None for d in deputies],
            "explanation": [""] * n if terms_as_text else [[] for _ in range(n)],
        }
        slices = char_slices([joined[i] for i in usable]) if usable else []
        for a, b in slices:  # a few hundred thousand characters at a time: memory stays bounded
            part = usable[a:b]
            values = self._values(self._scores([joined[i] for i in part]), [intake_dates[i] for i in part],
                                  [deputies[i] for i in part], alternatives, terms_as_text)
            everything = len(part) == n
            for name, vals in values.items():
                if everything:
                    cols[name] = vals
                else:
                    col = cols[name]
                    for i, v in zip(part, vals):
                        col[i] = v
        if len(usable) < n:
            usable_set = set(usable)
            for i in range(n):
                if i not in usable_set:
                    cols["review_reason"][i] = "empty_text" if not str(texts[i] or "").strip() else "no_usable_words"
        return cols

    def _values(self, sc: Scores, dates, deputies, alternatives: bool, terms_as_text: bool) -> dict[str, list]:
        """The prediction columns of the usable texts (all of them have words)."""
        cats, tiers = np.asarray(self.categories_, dtype=object), np.asarray(self.tiers_, dtype=object)
        cp, tp = sc.category, sc.tier
        m = len(dates)
        rows = np.arange(m)
        real = self._real_columns()
        order = real[np.argsort(-cp[:, real], axis=1, kind="stable")]
        top = order[:, 0]
        p = cp[rows, top]
        tier_idx = np.argmax(tp, axis=1)
        off = cats[np.argmax(cp, axis=1)] == OFFTOPIC
        reasons = np.where(~sc.known(), "no_known_terms", np.where(off, "off_topic", np.where(
            p < self.review_threshold_, "low_confidence", ""))).tolist()
        out = {
            "category": cats[top].tolist(), "tier": tiers[tier_idx].tolist(),
            "category_probability": [round(x, 4) for x in p.tolist()],
            "tier_probability": [round(x, 4) for x in tp[rows, tier_idx].tolist()],
            "needs_review": [bool(r) for r in reasons], "review_reason": [r or None for r in reasons],
        }
        if alternatives and self.n_alternatives:
            alt = order[:, 1:1 + self.n_alternatives]
            out["alternatives"] = [[{"category": c, "probability": round(q, 4)} for c, q in zip(cs, qs)]
                                   for cs, qs in zip(cats[alt].tolist(), cp[rows[:, None], alt].tolist())]
        if self.n_terms:
            out["explanation"] = explain_rows(sc.X, sc.weights(), sc.names(), sc.name_info(), top, self.n_terms,
                                              as_text=terms_as_text)
        cache: dict = {}

        def routed(cat, tier, date, dep):
            try:
                r = cache.get((cat, tier, date, dep))
            except TypeError:  # an unhashable date: no cache
                return route(self.taxonomy, cat, tier, date, dep)
            if r is None:
                r = cache[(cat, tier, date, dep)] = route(self.taxonomy, cat, tier, date, dep)
            return r

        routes = [routed(*args) for args in zip(out["category"], out["tier"], dates, deputies)]
        for name in ("lead_agency", "lead_agency_en", "deadline_days", "deadline", "deputy"):
            out[name] = [getattr(r, name) for r in routes]
        return out

    def _real_columns(self) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.categories_) if c != OFFTOPIC])

    def explain(self, text: str) -> list[dict]:
        """The terms of ``text`` that pushed its predicted category most, with their weights."""
        return self.predict(text).explanation

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_seg", None)
        packs = state.get("_packs", {})
        # a packed pipeline's scikit-learn objects are in its blob: do not pickle them twice
        state["_pipes"] = {k: (None if packs.get(k) is not None else v) for k, v in state.get("_pipes", {}).items()}
        return state

    # ------------------------------------------------------------------------- persist
    def save(self, folder, data: dict, version: str | None = None):
        """Write a new version folder under ``folder``; see ``triage.store.folder.save``."""
        from triage.store.folder import save

        return save(self, folder, data, version)

    @classmethod
    def load(cls, folder) -> "TriageModel":
        """Load a version folder, or the CURRENT version of a models folder, checking its hashes."""
        from triage.store.folder import load

        return load(folder)
