"""The two levels of the category model: fine labels adding up to categories, and calibration."""
import numpy as np
import pytest

from triage.model.hierarchy import (OFFTOPIC, Hierarchy, expected_calibration_error, fine_label, fit_temperature,
                                    kind_of, parent, temper)

OWNER = {"tax_export_refund": "tax", "tax_input_credit": "tax", "fin_bridge_loan": "financing"}


def test_fine_labels_and_their_parents():
    assert fine_label("tax", "tax_export_refund") == "tax_export_refund"
    assert fine_label("tax", "") == "tax" and fine_label("tax") == "tax"
    assert fine_label(None) == OFFTOPIC and fine_label(None, kind="labour_wages") == "_offtopic:labour_wages"
    assert [parent(x, OWNER) for x in ("tax_export_refund", "financing", "_offtopic:labour_wages", OFFTOPIC)] == \
        ["tax", "financing", OFFTOPIC, OFFTOPIC]
    assert kind_of("_offtopic:labour_wages") == "labour_wages" and kind_of("tax") is None


def test_a_category_is_the_sum_of_its_subtopics_and_the_subtopic_lies_inside_it():
    fine = ["_offtopic:labour_wages", "fin_bridge_loan", "tax_export_refund", "tax_input_credit"]
    h = Hierarchy(fine, OWNER, ["tax", "financing"])
    assert h.coarse == [OFFTOPIC, "financing", "tax"] and not h.flat
    p = np.array([[0.1, 0.5, 0.2, 0.2], [0.0, 0.1, 0.3, 0.6]])
    assert np.allclose(h.aggregate(p), [[0.1, 0.5, 0.4], [0.0, 0.1, 0.9]])
    # the best subtopic under "tax" (column 2) even where a financing subtopic is more probable
    assert h.best_within(p, np.array([2, 2])).tolist() == [2, 3]
    assert h.subtopic.tolist() == ["", "fin_bridge_loan", "tax_export_refund", "tax_input_credit"]
    assert h.kind.tolist() == ["labour_wages", "", "", ""]


def test_a_taxonomy_without_subtopics_is_flat_and_unchanged():
    h = Hierarchy([OFFTOPIC, "financing", "tax"], {}, ["tax", "financing"])
    p = np.array([[0.2, 0.3, 0.5]])
    assert h.flat and h.coarse == [OFFTOPIC, "financing", "tax"] and h.aggregate(p) is p


def test_temperature_softens_or_sharpens_and_one_changes_nothing():
    p = np.array([[0.9, 0.08, 0.02]])
    assert temper(p, 1.0) is p
    soft, sharp = temper(p, 2.0), temper(p, 0.5)
    assert np.allclose(soft.sum(), 1.0) and soft[0, 0] < 0.9 < sharp[0, 0]
    assert np.allclose(soft, np.sqrt(p) / np.sqrt(p).sum())


def test_the_fitted_temperature_undoes_overconfidence():
    rng = np.random.default_rng(0)
    n = 4000
    truth = rng.integers(0, 3, n)
    # an overconfident model: right 70% of the time, always saying 0.97
    pred = np.where(rng.random(n) < 0.7, truth, (truth + 1) % 3)
    p = np.full((n, 3), 0.015)
    p[np.arange(n), pred] = 0.97
    t = fit_temperature(p, truth)
    assert t > 1.5
    calibrated = temper(p, t)
    before = expected_calibration_error(p.max(axis=1), pred == truth)
    after = expected_calibration_error(calibrated.max(axis=1), pred == truth)
    assert before == pytest.approx(0.27, abs=0.02) and after < 0.02


def test_expected_calibration_error_by_hand():
    # two bins: confidence 0.95 right half the time (gap 0.45), 0.55 always right (gap 0.45)
    conf = [0.95, 0.95, 0.55, 0.55]
    right = [True, False, True, True]
    assert expected_calibration_error(conf, right) == pytest.approx(0.45)
    assert expected_calibration_error([], []) == 0.0
