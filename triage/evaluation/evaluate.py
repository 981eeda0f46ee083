"""Evaluation of a model on a labelled file."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from triage.data import read_labelled
from triage.model.selection import metrics


def evaluate_file(model, path: str | Path) -> dict:
    """Category and tier metrics of ``model`` on a labelled CSV (id, text, category, tier),
    and how the review flag splits it."""
    df = read_labelled(path, model.taxonomy, "labelled file")
    n = len(df)
    cols = model.predict_columns(df["text"].tolist(), [None] * n, [None] * n, alternatives=False)  # as classify does
    cat = np.array([c or "" for c in cols["category"]], dtype=object)
    tier = np.array([t or "" for t in cols["tier"]], dtype=object)
    flagged = np.array(cols["needs_review"], dtype=bool)
    correct = cat == df["category"].to_numpy(dtype=object)
    return {
        "file": str(path),
        "category": metrics(df["category"], cat, [c for c in model.taxonomy.category_codes]),
        "tier": metrics(df["tier"], tier, [t for t in model.taxonomy.tier_codes]),
        "review": {
            "threshold": model.review_threshold_,
            "flagged": int(flagged.sum()),
            "coverage": round(float((~flagged).mean()), 4),
            "accuracy_accepted": round(float(correct[~flagged].mean()), 4) if (~flagged).any() else None,
        },
    }


def format_metrics(title: str, m: dict) -> str:
    lines = [f"{title}: macro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f} (n={m['n']})"]
    labels = m["confusion_matrix"]["labels"]
    width = max(len(x) for x in labels) + 2
    lines.append("  " + "per-class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in m["per_class_f1"].items()))
    lines.append("  confusion (rows truth, columns predicted):")
    lines.append("  " + " " * width + "".join(f"{x[:8]:>9}" for x in labels))
    for label, row in zip(labels, m["confusion_matrix"]["matrix"]):
        lines.append("  " + f"{label:<{width}}" + "".join(f"{v:>9}" for v in row))
    return "\n".join(lines)
