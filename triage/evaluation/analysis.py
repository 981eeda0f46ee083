"""Analysis for the notebooks, in one namespace: ``from triage.evaluation import analysis``.

The work is done elsewhere, one job per module: loading a data folder
(``triage.data.DataFolder``), out-of-fold predictions of models side by side on the same
folds, scored by the engine that ships (``triage.evaluation.crossval``), and the tables read
from them (``triage.evaluation.tables``); the figures are in ``triage.evaluation.plots``.
"""
from __future__ import annotations

from pathlib import Path

from triage.data import DataFolder, LabelledData
from triage.evaluation.crossval import SideBySide, cross_validate, predictions, side_by_side, training_view
from triage.evaluation.tables import (HARD_FLAGS, calibration, changed_predictions, coverage_tradeoff,
                                      label_distribution, low_confidence, misclassified, per_class_f1,
                                      prediction_changes, review_at, summary)

__all__ = ["HARD_FLAGS", "SideBySide", "calibration", "changed_predictions",
           "coverage_tradeoff", "cross_validate", "label_distribution", "load_data", "low_confidence",
           "misclassified", "per_class_f1", "prediction_changes", "predictions", "review_at", "side_by_side",
           "summary", "training_view"]


def load_data(data_dir: str | Path | None = None) -> LabelledData:
    """``DataFolder(data_dir).load()`` (what ``triage.store.versions.compare`` calls; new code
    calls ``DataFolder`` itself)."""
    return DataFolder(data_dir).load()
