"""The analysis tables and figures on small hand-made inputs with known answers."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.conftest import make_small_data
from triage.data import DataFolder
from triage.evaluation import analysis
from triage.evaluation import plots
from triage.evaluation.analysis import SideBySide


def preds(categories, probabilities, reasons=None):
    reasons = reasons or [None] * len(categories)
    return pd.DataFrame({"category": categories, "probability": probabilities, "tier": ["key"] * len(categories),
                         "tier_probability": [0.9] * len(categories), "needs_review": [r is not None for r in reasons],
                         "review_reason": reasons, "terms": ["留抵, 退税"] * len(categories)})


@pytest.fixture
def sbs():
    rows = pd.DataFrame({"id": ["o1", "o2", "o3", "o4"], "text": ["t1", "t2", "t3", "t4"], "source": ["corpus"] * 4,
                         "category": ["tax", "tax", "financing", "financing"], "tier": ["key"] * 4})
    a = preds(["tax", "financing", "financing", "tax"], [0.95, 0.85, 0.55, 0.15], [None, None, None, "off_topic"])
    b = preds(["tax", "tax", "tax", "financing"], [0.9, 0.6, 0.5, 0.7])
    off = pd.DataFrame({"probability": [0.3, 0.7], "review_reason": [None, "off_topic"]})
    m = lambda f1: {"category": {"macro_f1": f1, "per_class_f1": {"tax": f1, "financing": f1 / 2},  # noqa: E731
                                 "confusion_matrix": {"labels": ["tax", "financing"], "matrix": [[1, 1], [1, 1]]},
                                 "accuracy": 0.5}, "tier": {"macro_f1": 1.0, "accuracy": 1.0}}
    return SideBySide(["a", "b"], {"a": "v1", "b": "v2"}, {"category": ["tax", "financing"], "tier": ["key"]}, rows,
                      {"a": a, "b": b}, {"a": off, "b": off}, {"a": m(0.5), "b": m(0.75)}, {"a": 0.5, "b": 0.6}, 3, 0)


def test_calibration_bins_and_expected_error(sbs):
    table = analysis.calibration(sbs, "a")
    used = table[table["n"] > 0]
    assert used["bin"].tolist() == ["0.1-0.2", "0.5-0.6", "0.8-0.9", "0.9-1.0"]
    assert used["accuracy"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert table["n"].sum() == 4
    assert table.attrs["ece"] == pytest.approx((0.05 + 0.85 + 0.45 + 0.15) / 4)


def test_review_threshold_trade_off(sbs):
    assert analysis.review_at(sbs, "a", 0.5) == {"threshold": 0.5, "coverage": 0.75, "accuracy_accepted": 0.6667,
                                                 "accuracy_flagged": 0.0, "offtopic_flagged": 1.0}
    table = analysis.coverage_tradeoff(sbs, "a", thresholds=[0.1, 0.9])
    assert table["coverage"].tolist() == [0.75, 0.25]
    assert table.attrs["threshold"] == 0.5


def test_changed_predictions_say_what_was_fixed_and_broken(sbs):
    changed = analysis.changed_predictions(sbs, "a", "b")
    assert changed[["id", "a", "b", "outcome"]].values.tolist() == [
        ["o3", "financing", "tax", "broken"], ["o4", "tax", "financing", "fixed"], ["o2", "financing", "tax", "fixed"]]


def test_misclassified_and_low_confidence(sbs):
    wrong = analysis.misclassified(sbs, "a")
    assert wrong[["id", "predicted", "probability"]].values.tolist() == [["o2", "financing", 0.85], ["o4", "tax", 0.15]]
    assert wrong["terms"].tolist() == ["留抵, 退税"] * 2
    flagged = analysis.low_confidence(sbs, "a")
    assert flagged[["id", "review_reason", "right"]].values.tolist() == [["o4", "off_topic", False]]


def test_summary_and_per_class_f1(sbs):
    f1 = analysis.per_class_f1(sbs)
    assert f1.to_dict() == {"a": {"tax": 0.5, "financing": 0.25}, "b": {"tax": 0.75, "financing": 0.375},
                            "change": {"tax": 0.25, "financing": 0.125}}
    s = analysis.summary(sbs)
    assert s.loc["b", "version"] == "v2" and s.loc["a", "coverage"] == 0.75


def test_load_data_marks_corrections_and_keeps_corpus_labels(tmp_path):
    data = make_small_data(tmp_path / "data", per_category=3)
    corpus = pd.read_csv(data / "corpus.csv", dtype=str)
    first = corpus.iloc[0]
    pd.DataFrame([{"id": "c1", "text": first["text"], "category": "branding", "tier": first["tier"]},
                  {"id": "c2", "text": "展会摊位费补贴什么时候发", "category": "branding", "tier": "on_site"}]
                 ).to_csv(data / "corrections.csv", index=False)
    d = DataFolder(data).load()
    assert analysis.load_data(data).frame.equals(d.frame)
    assert (len(d.frame), d.n_corrections) == (16, 2)
    c = d.frame.set_index("id").loc[["c1", "c2"]]
    assert c["source"].tolist() == ["correction", "correction"]
    assert c.loc["c1", "base_category"] == first["category"] and pd.isna(c.loc["c2", "base_category"])
    dist = analysis.label_distribution(d)
    assert dist.loc["total", "total"] == 16 and dist.loc["branding", "corrections"] == 2
    assert dist.loc["branding", "total"] == 5 and dist.loc[first["category"], "total"] == 2


def test_figures_are_drawn_without_pyplot(sbs):
    table = pd.DataFrame({"on_site": [1, 2], "key": [3, 4]}, index=["tax", "financing"])
    figures = [plots.label_distribution(table), plots.confusion_matrices(sbs), plots.per_class_f1(analysis.per_class_f1(sbs)),
               plots.reliability(analysis.calibration(sbs, "a")), plots.coverage_tradeoff(analysis.coverage_tradeoff(sbs, "a"))]
    assert [len(f.axes) for f in figures] == [1, 2, 1, 1, 1]
    assert figures[1].axes[1].get_title() == "b\ncategory macro-F1 0.750"
    assert "chosen threshold 0.50" in [t.get_text() for t in figures[4].axes[0].get_legend().get_texts()]
    for f in figures:
        buf = io.BytesIO()
        f.savefig(buf, format="png")
        assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
