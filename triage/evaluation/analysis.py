"""Analysis for the notebooks: the labelled data, side-by-side cross-validation of models on
the same folds, and the tables and figures analysts look at before a model goes live.

``side_by_side`` retrains every model's own recipe (its segmenter, features, classifier
and their settings, its review threshold) on the training part of each fold and predicts
the held-out part, so each opinion gets an out-of-fold prediction, review flag and
explanation terms from every model, all on the SAME folds. Each model is retrained on the
data it was trained from: a saved model trained on today's corpus but before today's
corrections is retrained without them (the corpus labels), so the comparison shows what
the corrections change; a model trained on another corpus is retrained on today's labels
(noted in ``notes``). Everything is scored against today's labels.

Texts in the tables are masked (``triage.text.clean``). Figures are matplotlib ``Figure``
objects built without pyplot (no global state); matplotlib is imported only by them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from triage import paths
from triage.store.folder import sha256_files
from triage.data import merge_corrections, read_labelled, read_lines
from triage.errors import InputError
from triage.model.estimator import OFFTOPIC, TriageModel
from triage.model.selection import folds, metrics
from triage.taxonomy import Taxonomy, load_taxonomy
from triage.text import clean, normalise

DATA_FILES = ("taxonomy.toml", "corpus.csv", "corrections.csv", "userdict.txt", "stopwords.txt", "offtopic.txt")
HARD_FLAGS = ("off_topic", "no_known_terms", "empty_text", "no_usable_words")  # flagged whatever the threshold


@dataclass
class LabelledData:
    folder: Path
    taxonomy: Taxonomy
    frame: pd.DataFrame  # id, text, category, tier, source, base_category, base_tier
    offtopic: list[str]
    file_hashes: dict[str, str]

    @property
    def n_corrections(self) -> int:
        return int((self.frame["source"] == "correction").sum())


def load_data(data_dir: str | Path | None = None) -> LabelledData:
    """The training data of a data folder: corpus merged with corrections (as ``triage
    train`` merges them), with each row's source and its label in the base corpus
    (``base_category``/``base_tier``, empty for a text only in the corrections)."""
    folder = Path(data_dir) if data_dir else paths.data_dir()
    taxonomy = load_taxonomy(folder / "taxonomy.toml")
    corpus = read_labelled(folder / "corpus.csv", taxonomy)
    corr_path = folder / "corrections.csv"
    corrections = read_labelled(corr_path, taxonomy, "corrections") if corr_path.is_file() else None
    frame, _ = merge_corrections(corpus, corrections)
    key = frame["text"].map(normalise)
    ckeys = set(corrections["text"].map(normalise)) if corrections is not None else set()
    base = {}
    for k, c, t in zip(corpus["text"].map(normalise), corpus["category"], corpus["tier"]):
        base.setdefault(k, (c, t))
    frame = frame.assign(source=np.where(key.isin(ckeys), "correction", "corpus"),
                         base_category=[base.get(k, (None, None))[0] for k in key],
                         base_tier=[base.get(k, (None, None))[1] for k in key]).reset_index(drop=True)
    _, hashes = sha256_files([folder / n for n in DATA_FILES if (folder / n).is_file()])
    return LabelledData(folder, taxonomy, frame, read_lines(folder / "offtopic.txt"), hashes)


def label_distribution(data: LabelledData) -> pd.DataFrame:
    """Opinions per category (rows, taxonomy order) and tier (columns), with totals and the
    number coming from corrections."""
    f = data.frame
    cats = [c for c in data.taxonomy.category_codes if c in set(f["category"])]
    tiers = [t for t in data.taxonomy.tier_codes if t in set(f["tier"])]
    table = pd.crosstab(f["category"], f["tier"]).reindex(index=cats, columns=tiers, fill_value=0)
    table["total"] = table.sum(axis=1)
    table["corrections"] = f[f["source"] == "correction"]["category"].value_counts().reindex(cats, fill_value=0)
    table.loc["total"] = table.sum()
    return table.rename_axis(index="category", columns=None)


# ---------------------------------------------------------------------------- side by side
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


def side_by_side(models: dict[str, TriageModel], data: LabelledData, cv: int = 5, random_state: int = 0) -> SideBySide:
    """Out-of-fold predictions of every model on the same folds (see the module docstring).

    Folds are stratified on the category, off-topic texts included, as in training: with the
    same data, folds and seed a model's category macro-F1 here equals its card's."""
    import joblib
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

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
        raise InputError(f"{data.folder}: cannot cross-validate: {exc}") from None
    splits = list(splitter.split(np.zeros(len(cat_y)), cat_y))
    labels = {"category": [c for c in data.taxonomy.category_codes if c in set(f["category"])],
              "tier": [t for t in data.taxonomy.tier_codes if t in set(f["tier"])]}
    predictions, offtopic, scores, notes, done = {}, {}, {}, {}, {}
    for name, m in models.items():
        view, notes[name] = training_view(m, data)
        recipe = joblib.hash((clone(m.category_pipeline_), clone(m.tier_pipeline_), view, m.review_threshold_,
                              m.n_terms, m.n_alternatives))
        if recipe in done:  # the same recipe on the same rows gives the same predictions: reuse them
            twin = done[recipe]
            predictions[name], offtopic[name], scores[name] = predictions[twin], offtopic[twin], scores[twin]
            continue
        done[recipe] = name
        cats = [c if isinstance(c, str) else None for c in f["base_category" if view == "corpus" else "category"]]
        tiers = [t if isinstance(t, str) else None for t in f["base_tier" if view == "corpus" else "tier"]]
        X = joined[name] + [off_joined[name][i] for i in keep]
        out = [None] * len(all_texts)
        for train, test in splits:
            tr_cat = [i for i in train if i >= n or cats[i] is not None]
            tr_tier = [i for i in train if i < n and tiers[i] is not None]
            cat_pipe = clone(m.category_pipeline_[1:]).fit(
                [X[i] for i in tr_cat], [cats[i] if i < n else OFFTOPIC for i in tr_cat])
            tier_pipe = clone(m.tier_pipeline_[1:]).fit([X[i] for i in tr_tier], [tiers[i] for i in tr_tier])
            shell = TriageModel(data.taxonomy, n_alternatives=m.n_alternatives, n_terms=m.n_terms)
            shell.category_pipeline_ = Pipeline([("segment", seg[name])] + cat_pipe.steps)
            shell.tier_pipeline_ = Pipeline([("segment", seg[name])] + tier_pipe.steps)
            shell.categories_, shell.tiers_ = list(cat_pipe.classes_), list(tier_pipe.classes_)
            shell.review_threshold_ = m.review_threshold_
            for i, p in zip(test, shell.predict_batch([all_texts[i] for i in test], [None] * len(test),
                                                      [None] * len(test))):
                out[i] = p
        predictions[name], offtopic[name] = _frame(out[:n]), _frame(out[n:])
        p = predictions[name]
        scores[name] = {task: metrics(f[task], p[task].fillna(""), labels[task]) for task in ("category", "tier")}
    rows = pd.DataFrame({"id": f["id"], "text": [clean(t) for t in texts], "source": f["source"],
                         "category": f["category"], "tier": f["tier"]})
    versions = {name: (getattr(m, "card_", None) or {}).get("version") for name, m in models.items()}
    return SideBySide(list(models), versions, labels, rows, predictions, offtopic, scores,
                      {name: float(m.review_threshold_) for name, m in models.items()},
                      splitter.get_n_splits(), random_state, notes)


def _frame(preds) -> pd.DataFrame:
    return pd.DataFrame({
        "category": [p.category for p in preds], "probability": [p.category_probability for p in preds],
        "tier": [p.tier for p in preds], "tier_probability": [p.tier_probability for p in preds],
        "needs_review": [p.needs_review for p in preds], "review_reason": [p.review_reason for p in preds],
        "terms": [", ".join(t["term"] for t in p.explanation) for p in preds],
    })


def cross_validate(model: TriageModel, data: LabelledData, cv: int | None = None, random_state: int | None = None,
                   name: str = "model") -> SideBySide:
    """Out-of-fold predictions of one model (its recipe retrained on each fold)."""
    return side_by_side({name: model}, data, cv or model.cv,
                        model.random_state if random_state is None else random_state)


# ---------------------------------------------------------------------------- tables
def summary(sbs: SideBySide) -> pd.DataFrame:
    """One row per model: version, macro-F1 and accuracy of category and tier, and what its
    review threshold accepts."""
    out = []
    for name in sbs.names:
        m, cov = sbs.metrics[name], review_at(sbs, name, sbs.thresholds[name])
        out.append({"model": name, "version": sbs.versions[name],
                    "category macro-F1": m["category"]["macro_f1"], "category accuracy": m["category"]["accuracy"],
                    "tier macro-F1": m["tier"]["macro_f1"], "tier accuracy": m["tier"]["accuracy"],
                    "threshold": sbs.thresholds[name], "coverage": cov["coverage"],
                    "accuracy of accepted": cov["accuracy_accepted"]})
    return pd.DataFrame(out).set_index("model")


def per_class_f1(sbs: SideBySide, task: str = "category") -> pd.DataFrame:
    """F1 per class (rows) and model (columns); with two models, the change from the first."""
    table = pd.DataFrame({name: sbs.metrics[name][task]["per_class_f1"] for name in sbs.names})
    if len(sbs.names) == 2:
        table["change"] = (table[sbs.names[1]] - table[sbs.names[0]]).round(4)
    return table.rename_axis(task)


def changed_predictions(sbs: SideBySide, before: str = "current", after: str = "candidate",
                        task: str = "category") -> pd.DataFrame:
    """The opinions whose out-of-fold prediction differs between two models, and whether
    the change fixed or broke it."""
    a, b, truth = sbs.predictions[before][task], sbs.predictions[after][task], sbs.rows[task]
    changed = (a.fillna("") != b.fillna("")).to_numpy()
    outcome = np.select([(b == truth).to_numpy(), (a == truth).to_numpy()], ["fixed", "broken"], "still wrong")
    out = sbs.rows.loc[changed, ["id", "text", "source", task]].assign(
        **{before: a[changed], after: b[changed], "outcome": outcome[changed],
           f"{after} terms": sbs.predictions[after]["terms"][changed]})
    return out.sort_values(["outcome", task]).reset_index(drop=True)


def misclassified(sbs: SideBySide, name: str = "model", task: str = "category") -> pd.DataFrame:
    """Opinions predicted wrongly out of fold, most confident first, with the terms that
    drove the prediction."""
    p, truth = sbs.predictions[name], sbs.rows[task]
    wrong = (p[task].fillna("") != truth).to_numpy()
    prob = "probability" if task == "category" else "tier_probability"
    out = sbs.rows.loc[wrong, ["id", "text", task]].assign(
        predicted=p[task][wrong], probability=p[prob][wrong], needs_review=p["needs_review"][wrong],
        review_reason=p["review_reason"][wrong], terms=p["terms"][wrong])
    return out.sort_values("probability", ascending=False).reset_index(drop=True)


def low_confidence(sbs: SideBySide, name: str = "model") -> pd.DataFrame:
    """Opinions the model flags for review out of fold (least confident first), with whether
    its category would have been right."""
    p, rows = sbs.predictions[name], sbs.rows
    flagged = p["needs_review"].to_numpy(dtype=bool)
    out = rows.loc[flagged, ["id", "text", "category"]].assign(
        predicted=p["category"][flagged], probability=p["probability"][flagged],
        right=(p["category"] == rows["category"])[flagged], review_reason=p["review_reason"][flagged],
        terms=p["terms"][flagged])
    return out.sort_values("probability").reset_index(drop=True)


def calibration(sbs: SideBySide, name: str = "model", bins: int = 10) -> pd.DataFrame:
    """Reliability of the category probability: per probability bin, the mean probability
    and the share of right predictions. ``attrs["ece"]``: expected calibration error."""
    p = sbs.predictions[name]
    prob = p["probability"].to_numpy(dtype=float)
    right = (p["category"] == sbs.rows["category"]).to_numpy()
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(prob, edges[1:-1], right=False), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        out.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(sel.sum()),
                    "mean_probability": round(float(prob[sel].mean()), 4) if sel.any() else np.nan,
                    "accuracy": round(float(right[sel].mean()), 4) if sel.any() else np.nan})
    table = pd.DataFrame(out)
    used = table["n"] > 0
    table.attrs["ece"] = round(float((table["n"][used] / len(prob) * (table["mean_probability"][used]
                                                                         - table["accuracy"][used]).abs()).sum()), 4)
    return table


def review_at(sbs: SideBySide, name: str, threshold: float) -> dict:
    """What a review threshold does out of fold: share of opinions accepted, accuracy of the
    accepted and of the flagged, share of off-topic texts flagged."""
    p, off = sbs.predictions[name], sbs.offtopic[name]
    accepted = ((p["probability"] >= threshold) & ~p["review_reason"].isin(HARD_FLAGS)).to_numpy()
    right = (p["category"] == sbs.rows["category"]).to_numpy()
    off_flagged = ((off["probability"] < threshold) | off["review_reason"].isin(HARD_FLAGS)).to_numpy()
    return {"threshold": round(float(threshold), 2), "coverage": round(float(accepted.mean()), 4),
            "accuracy_accepted": round(float(right[accepted].mean()), 4) if accepted.any() else np.nan,
            "accuracy_flagged": round(float(right[~accepted].mean()), 4) if (~accepted).any() else np.nan,
            "offtopic_flagged": round(float(off_flagged.mean()), 4) if len(off_flagged) else np.nan}


def coverage_tradeoff(sbs: SideBySide, name: str = "model", thresholds=None) -> pd.DataFrame:
    """``review_at`` for a grid of thresholds (default 0.20 to 0.95 by 0.05, and the model's
    own threshold, which is also in ``attrs["threshold"]``)."""
    if thresholds is None:
        thresholds = sorted({*np.round(np.arange(0.20, 0.951, 0.05), 2).tolist(), round(sbs.thresholds[name], 2)})
    grid = thresholds
    table = pd.DataFrame([review_at(sbs, name, t) for t in grid])
    table.attrs["threshold"] = sbs.thresholds[name]
    return table


def prediction_changes(before: TriageModel, after: TriageModel, texts, ids=None) -> pd.DataFrame:
    """The texts whose category the fitted models ``before`` and ``after`` decide differently
    (what would change in service), with masked text."""
    texts = list(texts)
    ids = list(ids) if ids is not None else list(range(len(texts)))
    a, b = before.predict(texts), after.predict(texts)
    rows = [{"id": i, "text": clean(t), "before": x.category, "after": y.category, "after probability":
             y.category_probability} for i, t, x, y in zip(ids, texts, a, b) if x.category != y.category]
    return pd.DataFrame(rows, columns=["id", "text", "before", "after", "after probability"])
