"""What the out-of-fold predictions of a training run say: category, subtopic and tier
scores, the temperature that calibrates the category probabilities, the review threshold,
and how the out-of-scope texts fare. The figures go into the model card (``report``)."""
from __future__ import annotations

import numpy as np

from triage.model.hierarchy import OFFTOPIC, Hierarchy, expected_calibration_error, fit_temperature, temper


def decide(h: Hierarchy, fine_proba: np.ndarray, temperature: float, summed: np.ndarray | None = None,
           coarse: np.ndarray | None = None) -> dict:
    """The decisions of fine probabilities: their sums per coarse label ``summed``, those
    calibrated ``coarse``, the best in-scope coarse column ``top_idx`` and its probability
    ``top``, ``off`` (the out-of-scope total beat every category) and the ``OFFTOPIC`` column
    ``off_col`` (None without one), the best fine column under the best category ``sub_idx``
    and under ``OFFTOPIC`` ``kind_idx``. ``summed``, ``coarse``: when already computed."""
    if summed is None:
        summed = h.aggregate(fine_proba)
    if coarse is None:
        coarse = temper(summed, temperature)
    real = np.array([i for i, c in enumerate(h.coarse) if c != OFFTOPIC], dtype=np.int64)
    top_idx = real[np.argmax(coarse[:, real], axis=1)] if len(real) else np.zeros(len(coarse), dtype=np.int64)
    rows = np.arange(len(coarse))
    off_col = h.coarse.index(OFFTOPIC) if OFFTOPIC in h.coarse else None
    off = np.argmax(coarse, axis=1) == off_col if off_col is not None else np.zeros(len(coarse), dtype=bool)
    out = {"summed": summed, "coarse": coarse, "off_col": off_col, "top_idx": top_idx, "top": coarse[rows, top_idx], "off": off,
           "sub_idx": h.best_within(fine_proba, top_idx)}
    out["kind_idx"] = h.best_within(fine_proba, np.full(len(coarse), off_col)) if off_col is not None else None
    return out


def oof_report(model, h: Hierarchy, fine_oof, fine_y, tiers, tier_classes, tier_oof, cat_labels, tier_labels) -> dict:
    from triage.model.selection import choose_threshold, metrics, review_stats

    n = len(tiers)
    fine_y = np.asarray(fine_y, dtype=object)
    coarse_names = np.asarray(h.coarse, dtype=object)
    index = {f: i for i, f in enumerate(h.fine)}
    truth_fine = np.array([index[f] for f in fine_y])
    truth = h.parent_index[truth_fine]
    raw = h.aggregate(fine_oof)
    temperature = fit_temperature(raw, truth)
    d = decide(h, fine_oof, temperature, raw)
    cat_pred = coarse_names[d["top_idx"]]
    cat_true = coarse_names[truth]
    correct = cat_pred[:n] == cat_true[:n]
    review = choose_threshold(d["top"][:n], correct, d["off"][:n], d["top"][n:], d["off"][n:],
                              model.review_target_accuracy)
    if model.review_threshold != "auto":
        review.update(threshold=float(model.review_threshold),
                      **review_stats(d["top"][:n], correct, d["off"][:n], d["top"][n:], d["off"][n:],
                                     float(model.review_threshold)))
    t = review["threshold"]
    out = {"category": metrics(cat_true[:n], cat_pred[:n], cat_labels), "review": review}
    tier_pred = np.asarray(tier_classes, dtype=object)[np.argmax(tier_oof, axis=1)]
    out["tier"] = metrics(tiers, tier_pred, tier_labels) if len(tier_labels) > 1 else None
    has_sub = np.array([bool(s) for s in h.subtopic[truth_fine[:n]]])
    if has_sub.any():
        sub_true = h.subtopic[truth_fine[:n]][has_sub]
        sub_pred = np.asarray(h.fine, dtype=object)[d["sub_idx"][:n]][has_sub]
        labels = [s for s in dict.fromkeys(h.subtopic) if s]
        out["subtopic"] = {k: v for k, v in metrics(sub_true, sub_pred, labels).items() if k != "confusion_matrix"}
    if len(fine_y) > n:
        flagged = d["off"][n:] | (d["top"][n:] < t)
        kinds = h.kind[truth_fine[n:]]
        known = np.array([bool(k) for k in kinds])
        block = {"n": int(len(fine_y) - n), "flagged": round(float(flagged.mean()), 4),
                 "flagged_as_out_of_scope": round(float(d["off"][n:].mean()), 4)}
        if known.any() and d["kind_idx"] is not None:
            kind_pred = h.kind[d["kind_idx"][n:]]
            sel = known & d["off"][n:]
            block["kind_right"] = round(float((kind_pred[sel] == kinds[sel]).mean()), 4) if sel.any() else 0.0
        out["out_of_scope"] = block
    top_all = d["coarse"].max(axis=1)
    right_all = np.argmax(d["coarse"], axis=1) == truth
    raw_right = np.argmax(raw, axis=1) == truth
    out["calibration"] = {"temperature": temperature, "method": "temperature on out-of-fold category probabilities",
                          "ece_before": expected_calibration_error(raw.max(axis=1), raw_right),
                          "ece": expected_calibration_error(top_all, right_all)}
    return out
