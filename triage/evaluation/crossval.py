"""Side-by-side cross-validation of models on the same folds, scored by the shipped engine.

``side_by_side`` retrains every model's own recipe (its segmenter, features, classifier
and their settings, its review threshold) on the training part of each fold and predicts
the held-out part, so each opinion gets an out-of-fold prediction, review flag and
explanation terms from every model, all on the SAME folds. Each model is retrained on the
data it was trained from: a saved model trained on today's corpus but before today's
corrections is retrained without them (the corpus labels), so the comparison shows what
the corrections change; a model trained on another corpus is retrained on today's labels
(noted in ``notes``). Everything is scored against today's labels.

Each fold's model is packed (``triage.model.fast.packing.pack_pair``) and predicts through
``TriageModel.predict_columns``, as ``triage classify`` does: what is measured here is the
engine that ships, not the scikit-learn pipelines it was packed from; and each fold's model
is fitted as training fits one (``refit``: the vectorisers the category and the tier share
are fitted once), so a recipe refitted on all the rows predicts exactly as the model does.
Texts in the tables are masked (``triage.text.clean``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from triage.data import LabelledData
from triage.errors import InputError
from triage.model.estimator import OFFTOPIC, TriageModel
from triage.model.fitting import fold_labels, training_labels
from triage.model.selection import folds, metrics
from triage.text import clean


@dataclass
class SideBySide:
    names: list[str]
    versions: dict[str, str | None]
    labels: dict[str, list[str]]
    rows: pd.DataFrame                   # id, text (masked), source, category, tier: today's labels
    predictions: dict[str, pd.DataFrame]  # per model, aligned with rows: out-of-fold predictions
    offtopic: dict[str, pd.DataFrame]     # per model: out-of-fold predictions of the off-topic texts
    metrics: dict[str, dict]              # per model: {"category": metrics, "tier": metrics}
    thresholds: dict[str, float]
    n_splits: int
    random_state: int
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.rows)


def predictions(model: TriageModel, texts, intake_dates=None, deputies=None) -> pd.DataFrame:
    """What ``model`` decides for ``texts`` through ``predict_columns`` (the call behind
    ``triage classify``), as the columns the analysis tables read: category, probability,
    tier, tier_probability, needs_review, review_reason, terms (the explanation terms joined
    by ", ")."""
    texts = list(texts)
    n = len(texts)
    dates = list(intake_dates) if intake_dates is not None else [None] * n
    deps = list(deputies) if deputies is not None else [None] * n
    cols = model.predict_columns(texts, dates, deps, alternatives=False)
    return pd.DataFrame({
        "category": cols["category"], "probability": cols["category_probability"], "tier": cols["tier"],
        "tier_probability": cols["tier_probability"], "needs_review": cols["needs_review"],
        "review_reason": cols["review_reason"],
        "terms": [", ".join(t["term"] for t in terms) for terms in cols["explanation"]],
    })


def training_view(model: TriageModel, data: LabelledData) -> tuple[str, str]:
    """Which labels a model is retrained on in ``side_by_side``: "all" (today's corpus and
    corrections) or "corpus" (the corpus labels only), with a note saying why."""
    files = (getattr(model, "card_", None) or {}).get("data", {}).get("files")
    if files is None:
        return "all", "not a saved model: retrained on today's corpus and corrections"
    today = data.file_hashes
    if files.get("corpus.csv") != today.get("corpus.csv"):
        return "all", "trained on another corpus.csv: its recipe is retrained on today's labels"
    if files.get("corrections.csv") == today.get("corrections.csv") or not data.n_corrections:
        return "all", "trained on today's corpus and corrections"
    older = " (its older corrections are not available)" if files.get("corrections.csv") else ""
    return "corpus", (f"trained before today's {data.n_corrections} corrections: retrained without them, "
                      f"on the corpus labels{older}")


def refit(model: TriageModel, data: LabelledData, cat_texts: list[str], cat_y: list[str], tier_texts: list[str],
          tier_y: list[str]) -> TriageModel:
    """``model``'s recipe fitted anew on segmented texts (``tier_texts`` among ``cat_texts``),
    as training fits it: where the category and the tier share their vectorisers, the shared
    ones are fitted once on the category's texts. The result is packed as a saved model is,
    so that it predicts through the engine that ships."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    from triage.model.fast.packing import pack_pair
    from triage.model.features import as_float64

    cat, tier = model.category_pipeline_, model.tier_pipeline_
    cat_f, tier_f = _fit_features(cat.named_steps["features"], tier.named_steps["features"], cat_texts, tier_texts)
    segment = cat.named_steps["segment"]
    pipes = [Pipeline([("segment", segment), ("features", f),
                       ("classifier", as_float64(clone(p.named_steps["classifier"]).fit(f.transform(X), y)))])
             for p, f, X, y in ((cat, cat_f, cat_texts, cat_y), (tier, tier_f, tier_texts, tier_y))]
    params = dict(model.get_params(deep=False), taxonomy=data.taxonomy)
    return TriageModel.from_parts(params, segmenter=segment.segmenter or model.segmenter_,
                                  categories=list(pipes[0].classes_), tiers=list(pipes[1].classes_),
                                  review_threshold=model.review_threshold_, packed=pack_pair(*pipes),
                                  temperature=model.temperature_, novelty_threshold=model.novelty_threshold_,
                                  pipelines={"category": pipes[0], "tier": pipes[1]})


def _fine_labels(model, data: LabelledData, cats: list, keep: list[int]) -> list:
    """The label the category model learns for each row (opinions, then the kept off-topic
    texts): subtopics and out-of-scope kinds for a model that learned them, else the category
    and ``OFFTOPIC``; None for an opinion without a category in this view."""
    n = len(cats)
    if model.hierarchy_.flat:
        return list(cats) + [OFFTOPIC] * len(keep)
    subs = data.frame["subtopic"].tolist() if "subtopic" in data.frame.columns else [""] * n
    labelled = [i for i in range(n) if cats[i] is not None]
    kinds = [(data.kinds or [None] * len(data.offtopic))[i] for i in keep]
    fine = training_labels(data.taxonomy, [cats[i] for i in labelled], [subs[i] for i in labelled], len(keep), kinds)
    out: list = [None] * n + list(fine[len(labelled):])
    for i, label in zip(labelled, fine):
        out[i] = label
    return out


def _vectorisers(features) -> list:
    return [t for _, t in features.transformer_list] if hasattr(features, "transformer_list") else [features]


def _fit_features(cat_f, tier_f, cat_texts, tier_texts):
    """Clones of the two feature steps, fitted; vectorisers the model's two steps share stay shared."""
    from sklearn.base import clone
    from sklearn.pipeline import FeatureUnion

    cat_ids, tier_ids = {id(v) for v in _vectorisers(cat_f)}, {id(v) for v in _vectorisers(tier_f)}
    if not (tier_ids <= cat_ids or cat_ids <= tier_ids):
        return clone(cat_f).fit(cat_texts), clone(tier_f).fit(tier_texts)
    wide = cat_f if tier_ids <= cat_ids else tier_f
    fitted = clone(wide).fit(cat_texts)
    same = {id(old): new for old, new in zip(_vectorisers(wide), _vectorisers(fitted))}

    def rebuilt(f):
        if f is wide:
            return fitted
        if not hasattr(f, "transformer_list"):
            return same[id(f)]
        return FeatureUnion([(name, same[id(t)]) for name, t in f.transformer_list])

    return rebuilt(cat_f), rebuilt(tier_f)


def side_by_side(models: dict[str, TriageModel], data: LabelledData, cv: int = 5, random_state: int = 0) -> SideBySide:
    """Out-of-fold predictions of every model on the same folds (see the module docstring).

    Folds are stratified on the category, off-topic texts included, as in training: with the
    same data, folds and seed a model's category macro-F1 here equals its card's."""
    import joblib
    from sklearn.base import clone

    if not models:
        raise ValueError("side_by_side needs at least one model")
    f, n = data.frame, len(data.frame)
    texts = f["text"].tolist()
    seg = {name: m.category_pipeline_.named_steps["segment"] for name, m in models.items()}
    joined = {name: s.transform(texts) for name, s in seg.items()}
    off_joined = {name: s.transform(data.offtopic) for name, s in seg.items()}
    keep = [i for i in range(len(data.offtopic)) if all(off_joined[name][i] for name in models)]
    all_texts = texts + [data.offtopic[i] for i in keep]
    cat_y = np.array(list(f["category"]) + [OFFTOPIC] * len(keep), dtype=object)
    try:
        splitter = folds(cat_y, cv, random_state)
    except ValueError as exc:
        raise InputError(f"{data.folder.name}: cannot cross-validate: {exc}") from None
    splits = list(splitter.split(np.zeros(len(cat_y)), cat_y))
    labels = {"category": [c for c in data.taxonomy.category_codes if c in set(f["category"])],
              "tier": [t for t in data.taxonomy.tier_codes if t in set(f["tier"])]}
    preds, offtopic, scores, notes, done = {}, {}, {}, {}, {}
    for name, m in models.items():
        view, notes[name] = training_view(m, data)
        recipe = joblib.hash((clone(m.category_pipeline_), clone(m.tier_pipeline_), view, m.review_threshold_,
                              m.n_terms, m.n_alternatives))
        if recipe in done:  # the same recipe on the same rows gives the same predictions: reuse them
            twin = done[recipe]
            preds[name], offtopic[name], scores[name] = preds[twin], offtopic[twin], scores[twin]
            continue
        done[recipe] = name
        cats = [c if isinstance(c, str) else None for c in f["base_category" if view == "corpus" else "category"]]
        tiers = [t if isinstance(t, str) else None for t in f["base_tier" if view == "corpus" else "tier"]]
        X = joined[name] + [off_joined[name][i] for i in keep]
        learned = _fine_labels(m, data, cats, keep)
        parts = []
        for train, test in splits:
            tr_cat = [i for i in train if i >= n or cats[i] is not None]
            tr_tier = [i for i in train if i < n and tiers[i] is not None]
            shell = refit(m, data, [X[i] for i in tr_cat], fold_labels([learned[i] for i in tr_cat], data.taxonomy),
                          [X[i] for i in tr_tier], [tiers[i] for i in tr_tier])
            parts.append(predictions(shell, [all_texts[i] for i in test]).set_index(pd.Index(test)))
        out = pd.concat(parts).sort_index()
        preds[name] = out.iloc[:n].reset_index(drop=True)
        offtopic[name] = out.iloc[n:].reset_index(drop=True)
        p = preds[name]
        scores[name] = {task: metrics(f[task], p[task].fillna(""), labels[task]) for task in ("category", "tier")}
    rows = pd.DataFrame({"id": f["id"], "text": [clean(t) for t in texts], "source": f["source"],
                         "category": f["category"], "tier": f["tier"]})
    versions = {name: (getattr(m, "card_", None) or {}).get("version") for name, m in models.items()}
    return SideBySide(list(models), versions, labels, rows, preds, offtopic, scores,
                      {name: float(m.review_threshold_) for name, m in models.items()},
                      splitter.get_n_splits(), random_state, notes)


def cross_validate(model: TriageModel, data: LabelledData, cv: int | None = None, random_state: int | None = None,
                   name: str = "model") -> SideBySide:
    """Out-of-fold predictions of one model (its recipe retrained on each fold)."""
    return side_by_side({name: model}, data, cv or model.cv,
                        model.random_state if random_state is None else random_state)
