"""``evaluate_file``: scores on a labelled file with in-scope and out-of-scope rows."""
import pandas as pd
import pytest

from triage.errors import InputError
from triage.evaluation.evaluate import evaluate_file, format_extras

ROWS = [
    ("a", "胶合板出口退税函调回函一直没回来，退税款压了四个月", "tax", "tax_export_refund", "transfer", ""),
    ("b", "园区东门的路灯坏了一个星期，晚上拉货的车看不清", "infrastructure", "", "on_site", ""),
    ("c", "我老公在板厂上班被压伤了手，老板不给报工伤", "", "", "", "labour_wages"),
    ("d", "你好，在吗", "", "", "", "greetings_chitchat"),
]


def _write(tmp_path, rows, columns=("id", "text", "category", "subtopic", "tier", "out_of_scope_kind")):
    path = tmp_path / "labelled.csv"
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def test_out_of_scope_rows_are_scored_apart_from_the_opinions(shipped, tmp_path):
    report = evaluate_file(shipped, _write(tmp_path, ROWS))
    assert report["category"]["n"] == 2 and report["tier"]["n"] == 2
    assert report["subtopic"]["n"] == 1  # only rows with a subtopic count
    oos = report["out_of_scope"]
    assert oos["n"] == 2 and set(oos["per_kind_flagged"]) == {"labour_wages", "greetings_chitchat"}
    assert 0 <= oos["kind_right"] <= oos["flagged"] <= 1
    assert 0 <= report["calibration"]["ece"] <= 1 and report["review"]["flagged_share"] is not None
    text = format_extras(report)
    assert text.startswith("subtopic: macro-F1") and "out of scope:" in text and "expected calibration error" in text


def test_a_file_without_out_of_scope_rows_or_subtopics_still_works(shipped, tmp_path):
    path = _write(tmp_path, [r[:3] + (r[4],) for r in ROWS[:2]], ("id", "text", "category", "tier"))
    report = evaluate_file(shipped, path)
    assert report["category"]["n"] == 2 and "subtopic" not in report and "out_of_scope" not in report


def test_bad_kinds_and_bad_opinion_rows_are_refused_with_their_lines(shipped, tmp_path):
    with pytest.raises(InputError, match=r"line 3: out_of_scope_kind 'gossip' is not one of"):
        evaluate_file(shipped, _write(tmp_path, [ROWS[0], ("x", "随便聊聊", "", "", "", "gossip")]))
    with pytest.raises(InputError, match=r"line 3: category 'roads' is not one of"):
        evaluate_file(shipped, _write(tmp_path, [ROWS[2], ("x", "路坏了", "roads", "", "on_site", "")]))
