"""The tables analysts read before a model goes live, from a ``LabelledData`` or from the
out-of-fold predictions of ``triage.evaluation.crossval.side_by_side``: label distribution,
summary, F1 per class, changed, misclassified and low-confidence opinions, calibration and
the review threshold's trade-off. Texts are masked (``triage.text.clean``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from triage.data import LabelledData
from triage.evaluation.crossval import SideBySide, predictions
from triage.model.estimator import TriageModel
from triage.text import clean

HARD_FLAGS = ("off_topic", "no_known_terms", "empty_text", "no_usable_words")  # flagged whatever the threshold


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
    a, b = predictions(before, texts), predictions(after, texts)
    rows = [{"id": i, "text": clean(t), "before": x, "after": y, "after probability": p}
            for i, t, x, y, p in zip(ids, texts, a["category"], b["category"], b["probability"]) if x != y]
    return pd.DataFrame(rows, columns=["id", "text", "before", "after", "after probability"])
