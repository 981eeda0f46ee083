"""``TriageModel``: one scikit-learn pipeline for the category, one for the tier, a review
threshold chosen on cross-validation, and the routing that turns a prediction into an
assignment."""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from triage.errors import InputError, ModelError
from triage.model.fast.packed import PackedPipeline
from triage.model.protocol import EstimatorProtocol
from triage.model.fitting import CONSTANT, Coarse, fit_model
from triage.model.hierarchy import temper
from triage.model.names import CLASSIFIERS, FEATURE_SETS
from triage.model.prediction import FIELDS, OFFTOPIC, REVIEW_REASONS, Prediction, columns
from triage.model.scoring import Scores, packed_scores, sklearn_scores
from triage.segment import Segmenter
from triage.taxonomy import Taxonomy

__all__ = ["CONSTANT", "OFFTOPIC", "REVIEW_REASONS", "Prediction", "TriageModel"]

PARTS = ("category", "tier")


class TriageModel(EstimatorProtocol):
    """Sort opinions into categories and routing tiers; a scikit-learn estimator.

    It follows scikit-learn's estimator protocol (``get_params``, ``set_params``,
    ``sklearn.base.clone``, ``classes_``, ``predict_proba``) without subclassing
    ``BaseEstimator``: importing ``sklearn.base`` costs about a second, and a model loaded
    to predict never needs scikit-learn. Parameters are stored as given; what is learned ends
    in ``_``: ``segmenter_``, ``categories_``, ``tiers_`` (``classes_`` = the categories),
    ``review_threshold_``, ``report_``, ``packed_`` (the numpy scorer, or None: scikit-learn
    predicts), and the two pipelines ``category_pipeline_`` and ``tier_pipeline_`` (segment ->
    features -> classifier), which a loaded model reads only when first asked for.

    feature_sets, classifiers: candidates compared by cross-validation (best macro-F1 wins).
    review_threshold: a float to fix it, or ``"auto"`` to choose it on out-of-fold
    predictions (and on off-topic texts given to ``fit``).
    min_df: an n-gram is a feature if at least this many training texts hold it.
    """

    _estimator_type = "classifier"

    def __init__(self, taxonomy: Taxonomy, segmenter: Segmenter | None = None,
                 feature_sets: Sequence[str] = FEATURE_SETS, classifiers: Sequence[str] = CLASSIFIERS,
                 cv: int = 5, review_threshold="auto", review_target_accuracy: float = 0.97,
                 random_state: int = 0, n_alternatives: int = 2, n_terms: int = 5, n_jobs: int | None = None,
                 min_df: int = 1, novelty: bool = True):
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
        self.novelty = novelty

    @property
    def classes_(self) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.categories_, dtype=object)

    # ----------------------------------------------------------------------------- fit
    def fit(self, texts: Sequence[str], categories: Sequence[str], tiers: Sequence[str],
            offtopic: Iterable[str] = (), progress=None, subtopics: Sequence[str] | None = None,
            kinds: Sequence[str] | None = None) -> "TriageModel":
        """Train on labelled opinions. ``offtopic``: texts that belong to no category (greetings,
        canteen questions...); the category model learns them as a background class
        (``OFFTOPIC``), so that such text is flagged for review instead of forced into a class.
        ``progress``: an optional callable given a short label after each cross-validated candidate.
        ``subtopics``: one per opinion (a code of the taxonomy's subtopics under the opinion's
        category, or empty); ``kinds``: one out-of-scope kind per off-topic text (or empty).
        The category model then learns the subtopics and kinds, and a category's probability
        is the sum of its subtopics' (``triage.model.hierarchy``)."""
        state = fit_model(self, texts, categories, tiers, offtopic, progress, subtopics, kinds)
        self._set_state(**state)
        return self

    # ----------------------------------------------------------------------- the parts
    @classmethod
    def from_parts(cls, params: dict, *, segmenter: Segmenter, categories: Sequence[str], tiers: Sequence[str],
                   review_threshold: float, report: dict | None = None, temperature: float = 1.0,
                   novelty_threshold: float = 0.0,
                   packed: tuple[PackedPipeline, PackedPipeline] | None = None,
                   pipelines: dict | Callable[[], dict] | None = None, card: dict | None = None,
                   path: str | None = None) -> "TriageModel":
        """A fitted model from its parts (what ``to_parts`` gives, or a model folder holds).

        params: the constructor's parameters. categories: the category model's classes (subtopics,
        categories and out-of-scope kinds as ``triage.model.hierarchy`` names them). temperature:
        the calibration of the category probabilities. packed: the numpy scorer (category, tier), or
        None to predict through scikit-learn. pipelines: {"category": Pipeline, "tier": Pipeline}
        or a function giving them when first needed. card, path: where a saved model came from."""
        if packed is None and pipelines is None:
            raise ModelError("a model needs its packed scorer or its scikit-learn pipelines; found neither")
        model = cls(**params)
        model._set_state(segmenter=segmenter, labels=categories, tiers=tiers, review_threshold=review_threshold,
                         temperature=temperature, novelty_threshold=novelty_threshold, report=report or {},
                         packed=packed, pipelines=pipelines)
        if card is not None:
            model.card_ = card
        if path is not None:
            model.path_ = str(path)
        return model

    def to_parts(self) -> dict:
        """Everything a saved model needs: ``params`` (the constructor's), ``segmenter``,
        ``categories``, ``tiers``, ``review_threshold``, ``report``, ``packed`` (packed now
        if the model holds only pipelines; None if they cannot be packed) and ``pipelines``
        (read now if they were not)."""
        self._check_fitted()
        pipelines = {part: self._pipeline(part) for part in PARTS}
        packed = self.packed_
        if packed is None:
            from triage.model.fast.packing import pack_pair

            packed = pack_pair(pipelines["category"], pipelines["tier"])
        return {"params": self.get_params(deep=False), "segmenter": self._segmenter(),
                "categories": list(self.labels_), "tiers": list(self.tiers_),
                "review_threshold": float(self.review_threshold_), "temperature": float(self.temperature_),
                "novelty_threshold": float(self.novelty_threshold_),
                "report": self.report_,
                "packed": packed, "pipelines": pipelines}

    def _set_state(self, *, segmenter, labels, tiers, review_threshold, report, packed, pipelines,
                   temperature: float = 1.0, novelty_threshold: float = 0.0) -> None:
        if packed is not None and (list(packed[0].classes_) != list(labels)
                                   or list(packed[1].classes_) != list(tiers)):
            raise ModelError("the packed scorer's classes differ from the model's labels")
        self.segmenter_ = segmenter
        self.labels_, self.tiers_ = [str(c) for c in labels], list(tiers)
        self.hierarchy_ = Coarse(self.taxonomy).hierarchy(self.labels_)
        self.categories_ = list(self.hierarchy_.coarse)
        self.temperature_ = float(temperature)
        self.novelty_threshold_ = float(novelty_threshold)
        self.review_threshold_ = float(review_threshold)
        self.report_ = report
        self.packed_ = tuple(packed) if packed is not None else None
        self._pipelines = pipelines if callable(pipelines) else dict(pipelines or {})

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
        pipes = self.__dict__.get("_pipelines")
        if callable(pipes):  # read on first use (imports scikit-learn)
            pipes = self._pipelines = dict(pipes())
        pipe = (pipes or {}).get(part)
        if pipe is None:
            raise AttributeError(f"{part}_pipeline_")
        return pipe

    def _set_pipeline(self, part, value):
        """A plain scikit-learn pipeline given by hand: the model then predicts through
        scikit-learn (``to_parts`` packs it again)."""
        pipes = self.__dict__.get("_pipelines")
        if callable(pipes):
            pipes = dict(pipes())
        self._pipelines = {**(pipes or {}), part: value}
        self.packed_ = None
        self.__dict__.pop("segmenter_", None)

    # ------------------------------------------------------------------------- predict
    def _check_fitted(self):
        if "categories_" not in self.__dict__ or not (self.__dict__.get("packed_") or self.__dict__.get("_pipelines")):
            raise InputError("this TriageModel is not trained yet: call fit() or triage.load()")

    def _segmenter(self) -> Segmenter:
        seg = self.__dict__.get("segmenter_")
        if seg is None:
            seg = self.category_pipeline_.named_steps["segment"].segmenter or Segmenter()
            self.segmenter_ = seg
        return seg

    def segment(self, texts) -> list[str]:
        """Each text as its tokens joined by spaces (what the scorers read)."""
        return self._segmenter().join(texts)

    def scores(self, joined: list[str]) -> Scores:
        """Probabilities, features and weights of segmented texts, by the packed scorer when the
        model has one, else by scikit-learn: ``fine`` (the category model's classes, ``labels_``)
        ``summed`` (their sums per category) and ``category`` (those calibrated; columns in
        ``categories_`` order)."""
        packed = self.packed_
        if packed is not None and packed[0].fast and packed[1].fast:
            sc = packed_scores(packed[0], packed[1], joined)
        else:
            sc = sklearn_scores(self.category_pipeline_, self.tier_pipeline_, joined)
        sc.fine = sc.category
        sc.summed = self.hierarchy_.aggregate(sc.fine)
        sc.category = temper(sc.summed, self.temperature_)
        return sc

    def predict_proba(self, texts) -> np.ndarray:
        """Category probabilities, one row per text, columns in ``classes_`` order."""
        self._check_fitted()
        return self.scores(self.segment(list(texts))).category

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
        return [Prediction(*row) for row in zip(*(cols[f] for f in FIELDS))]

    def predict_columns(self, texts: list, intake_dates: list, deputies: list, *, alternatives: bool = True,
                        terms_as_text: bool = False) -> dict[str, list]:
        """Like ``predict_batch``, as columns: each ``Prediction`` field name maps to one value
        per text (what a table writer wants, without an object per row).

        alternatives: ``False`` leaves them empty (saves time when they are not shown).
        terms_as_text: the explanation of each text as one string ``term(+0.42); ...``
        (``triage.model.scoring.format_term``) instead of a list of dicts."""
        self._check_fitted()
        return columns(self, texts, intake_dates, deputies, alternatives, terms_as_text)

    def explain(self, text: str) -> list[dict]:
        """The terms of ``text`` that pushed its predicted category most, with their weights."""
        return self.predict(text).explanation
