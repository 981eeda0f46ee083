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
    assert capsys.readouterr().err == ("Error: 2025-06.csv: expected opinions visited in 2025-08, found none; its rows "
                                       "are from 2025-05 (3), 2025-06 (114), 2025-07 (3)\n")  # no absolute path
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


def test_calibrate_write_with_a_backslash_in_the_pairs_path(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "corpus.csv").write_bytes((DATA / "corpus.csv").read_bytes())
    pairs = tmp_path / "C:\\Users\\station\\pairs.csv"  # one file name holding backslashes, as on Windows
    pairs.write_bytes((FIXTURES / "paraphrases.csv").read_bytes())
    assert run("screen-calibrate", pairs, "--data", data, "--write", "--quiet") == 0
    written = tomllib.loads((data / "screening.toml").read_text(encoding="utf-8"))["similarity"]
    assert written["pairs"] == str(pairs) and "\\Users\\station" in written["pairs"]


def test_screen_quiet_prints_nothing_and_no_bar_into_a_pipe(tmp_path, capsys):
    assert run("screen", SAMPLE, "--month", "2025-06", "-o", tmp_path / "o", "--quiet") == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert (tmp_path / "o" / "screening-2025-06.xlsx").is_file()


def test_help_of_every_new_command_has_an_example(capsys):
    for args in (["screen"], ["screen-calibrate"], ["corrections", "import"], ["corrections"]):
        assert main([*args, "--help"]) == 0
        assert "example:" in capsys.readouterr().out


def test_screen_shows_a_progress_bar_on_a_terminal_and_not_with_quiet(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert run("screen", SAMPLE, "--month", "2025-06", "-o", tmp_path / "a") == 0
    err = capsys.readouterr().err
    assert "screen 2025-06" in err and "0/5" in err
    for step in ("model loaded", "read", "earlier months", "triage and group", "write"):  # each shown as it is done
        assert f"step/s, {step}]" in err
    assert run("screen", SAMPLE, "--month", "2025-06", "-o", tmp_path / "b", "--quiet") == 0
    assert capsys.readouterr() == ("", "")


def test_corrections_import_shows_progress_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    import shutil
    import sys

    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("samples", "eval"))
    assert run("screen", SAMPLE, "--month", "2025-06", "-o", tmp_path / "o", "--quiet") == 0
    book = tmp_path / "o" / "screening-2025-06.xlsx"
    assert run("corrections", "import", book, "--data", data) == 0
    out, err = capsys.readouterr()
    assert out.startswith("0 corrections read") and err == ""  # not a terminal: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert run("corrections", "import", book, "--data", data) == 0
    assert "import corrections" in capsys.readouterr().err
    assert run("corrections", "import", book, "--data", data, "--quiet") == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("args, message", [
    (["corrections", "import", "{tmp}/missing.xlsx"], "Error: workbook not found: missing.xlsx\n"),
    (["screen-calibrate", "{tmp}/nope.csv"], "Error: paraphrase pairs file not found: nope.csv\n"),
    (["screen", "{tmp}/m.csv", "--month", "2025-06", "-o", "{tmp}/o", "--previous", "{tmp}/gone"],
     "Error: --previous gone: not found\n"),
])
def test_errors_name_files_without_their_folders(tmp_path, capsys, args, message):
    pd.DataFrame({"text": ["停电"], "visit_date": ["2025-06-01"], "enterprise": ["甲"]}).to_csv(tmp_path / "m.csv",
                                                                                           index=False)
    assert run(*[a.replace("{tmp}", str(tmp_path)) for a in args]) == 1
    err = capsys.readouterr().err
    assert err == message and str(tmp_path) not in err
