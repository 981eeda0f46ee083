"""The screening commands as a station user meets them: summaries, errors, help."""
import tomllib

import pandas as pd
import pytest

from tests.conftest import DATA, FIXTURES, SAMPLE
from triage.cli.main import main


def run(*args):
    return main([str(a) for a in args])


def test_screen_prints_the_month_summary_and_the_files(tmp_path, capsys):
    out = tmp_path / "screening" / "2025-06"  # parents are created
    assert run("screen", SAMPLE, "--month", "2025-06", "-o", out) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2025-06: 114 opinions -> ") and "candidate problems" in lines[0]
    assert lines[1] == "left out: 6 rows outside 2025-06 (2025-05 3, 2025-07 3), 0 without a readable date"
    assert lines[2:] == [f"workbook: {out / 'screening-2025-06.xlsx'}", f"report: {out / 'report-2025-06.html'}",
                         f"problems: {out / 'problems-2025-06.json'}"]


@pytest.mark.parametrize("args, message", [
    (["--month", "June"], "Error: month: expected YYYY-MM like 2025-06, found 'June'"),
    (["--month", "2025-13"], "Error: month: expected YYYY-MM like 2025-06, found '2025-13'"),
])
def test_screen_refuses_a_bad_month_in_one_line(tmp_path, capsys, args, message):
    assert run("screen", SAMPLE, *args, "-o", tmp_path / "o") == 1
    assert capsys.readouterr().err == message + "\n"
    assert not (tmp_path / "o").exists()


def test_a_month_without_opinions_is_refused(tmp_path, capsys):
    assert run("screen", SAMPLE, "--month", "2025-08", "-o", tmp_path / "o") == 1
    assert capsys.readouterr().err == (f"Error: {SAMPLE}: expected opinions visited in 2025-08, found none; its rows "
                                       "are from 2025-05 (3), 2025-06 (114), 2025-07 (3)\n")
    assert not (tmp_path / "o").exists()


def test_screen_needs_an_enterprise_column(tmp_path, capsys):
    src = tmp_path / "m.csv"
    pd.DataFrame({"text": ["停电"], "visit_date": ["2025-06-01"]}).to_csv(src, index=False)
    assert run("screen", src, "--month", "2025-06", "-o", tmp_path / "o") == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: no enterprise column: expected one of ['enterprise', '企业', '企业名称', '单位']")
    assert not (tmp_path / "o").exists()


def test_previous_must_exist_and_hold_problems(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run("screen", SAMPLE, "--month", "2025-06", "-o", tmp_path / "o", "--previous", tmp_path / "empty") == 1
    assert "expected problems-YYYY-MM.json files" in capsys.readouterr().err


def test_calibrate_prints_and_records_the_threshold(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "corpus.csv").write_bytes((DATA / "corpus.csv").read_bytes())
    recorded = tomllib.loads((DATA / "screening.toml").read_text(encoding="utf-8"))["similarity"]
    assert run("screen-calibrate", FIXTURES / "paraphrases.csv", "--data", data, "--write") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"threshold {recorded['threshold']}: precision ")
    written = tomllib.loads((data / "screening.toml").read_text(encoding="utf-8"))["similarity"]
    assert written["threshold"] == recorded["threshold"] and written["recall"] == recorded["recall"]


def test_help_of_every_new_command_has_an_example(capsys):
    for args in (["screen"], ["screen-calibrate"], ["corrections", "import"], ["corrections"]):
        assert main([*args, "--help"]) == 0
        assert "example:" in capsys.readouterr().out
