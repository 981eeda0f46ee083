"""Evaluation of a model on a labelled file."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from triage.data import check_labelled, read_table, refuse_rows
from triage.model.selection import metrics


KIND_COLUMN = "out_of_scope_kind"


def _read(path: Path, taxonomy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(in-scope rows, out-of-scope rows) of a labelled file; the out-of-scope rows are those
    with an ``out_of_scope_kind`` (a column the file may lack)."""
    df = read_table(path, "labelled")
    if KIND_COLUMN not in df.columns:
        df[KIND_COLUMN] = ""
    kinds = df[KIND_COLUMN]
    outside = (kinds != "").to_numpy()
    lines = np.arange(2, len(df) + 2)
    inside = check_labelled(df.loc[~outside].reset_index(drop=True), taxonomy, f"labelled file {path}",
                            lines[~outside])
    oos = df.loc[outside, ["id", "text", KIND_COLUMN]].reset_index(drop=True)
    known = set(taxonomy.kind_codes)
    bad = [f"line {i}: {KIND_COLUMN} {k!r} is not one of {sorted(known)}"
           for i, k in zip(lines[outside], oos[KIND_COLUMN]) if k not in known]
    refuse_rows(f"labelled file {path}", bad)
    return inside, oos


def evaluate_file(model, path: str | Path) -> dict:
    """Scores of ``model`` on a labelled CSV (id, text, category, tier; optionally subtopic, and
    out_of_scope_kind for texts of no category): category, subtopic and tier metrics of the
    in-scope rows, how the review flag splits them, how many out-of-scope texts are flagged
    and given their right kind, and the expected calibration error of the category probability."""
    from triage.model.hierarchy import OFFTOPIC, expected_calibration_error

    df, oos = _read(Path(path), model.taxonomy)
    n, m = len(df), len(oos)
    texts = df["text"].tolist() + oos["text"].tolist()
    cols = model.predict_columns(texts, [None] * (n + m), [None] * (n + m), alternatives=False)  # as classify does
    cat = np.array([c or "" for c in cols["category"][:n]], dtype=object)
    tier = np.array([t or "" for t in cols["tier"][:n]], dtype=object)
    flagged = np.array(cols["needs_review"][:n], dtype=bool)
    correct = cat == df["category"].to_numpy(dtype=object)
    out = {
        "file": str(path),
        "category": metrics(df["category"], cat, [c for c in model.taxonomy.category_codes]),
        "tier": metrics(df["tier"], tier, [t for t in model.taxonomy.tier_codes]),
        "review": {
            "threshold": model.review_threshold_,
            "flagged": int(flagged.sum()),
            "flagged_share": round(float(flagged.mean()), 4) if n else None,
            "coverage": round(float((~flagged).mean()), 4) if n else None,
            "accuracy_accepted": round(float(correct[~flagged].mean()), 4) if (~flagged).any() else None,
        },
    }
    has_sub = (df["subtopic"] != "").to_numpy()
    if has_sub.any():
        sub = np.array([s or "" for s in cols["subtopic"][:n]], dtype=object)[has_sub]
        labels = [s for s in model.taxonomy.subtopic_codes if s in set(df["subtopic"][has_sub])]
        full = metrics(df["subtopic"][has_sub], sub, labels)
        out["subtopic"] = {k: v for k, v in full.items() if k != "confusion_matrix"}
    if m:
        o_flag = np.array(cols["needs_review"][n:], dtype=bool)
        o_kind = np.array([k or "" for k in cols["out_of_scope_kind"][n:]], dtype=object)
        truth = oos[KIND_COLUMN].to_numpy(dtype=object)
        said = o_kind != ""
        out["out_of_scope"] = {
            "n": m, "flagged": round(float(o_flag.mean()), 4),
            "flagged_as_out_of_scope": round(float(said.mean()), 4),
            "kind_right": round(float((o_kind == truth).mean()), 4),
            "kind_right_when_flagged_out_of_scope": round(float((o_kind[said] == truth[said]).mean()), 4)
            if said.any() else None,
            "per_kind_flagged": {k: round(float(o_flag[truth == k].mean()), 4) for k in dict.fromkeys(truth)},
        }
    proba = model.predict_proba(texts)
    classes = list(model.classes_)
    truth_c = df["category"].tolist() + [OFFTOPIC] * m
    right = [classes[j] == t for j, t in zip(np.argmax(proba, axis=1), truth_c)]
    out["calibration"] = {"temperature": model.temperature_,
                          "ece": expected_calibration_error(proba.max(axis=1), right)}
    return out


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


def format_extras(report: dict) -> str:
    """The subtopic, out-of-scope and calibration lines of a report (what a taxonomy without
    subtopics or kinds lacks is left out)."""
    lines = []
    sub = report.get("subtopic")
    if sub:
        lines.append(f"subtopic: macro-F1 {sub['macro_f1']:.3f}, accuracy {sub['accuracy']:.3f} (n={sub['n']})")
    oos = report.get("out_of_scope")
    if oos:
        kind = oos.get("kind_right")
        lines.append(f"out of scope: {oos['flagged']:.1%} of {oos['n']} flagged, "
                     f"{oos['flagged_as_out_of_scope']:.1%} as out of scope"
                     + (f", kind right {kind:.1%}" if kind is not None else ""))
    cal = report.get("calibration")
    if cal:
        lines.append(f"calibration: temperature {cal['temperature']:.3f}, expected calibration error {cal['ece']:.3f}")
    return "\n".join(lines)
