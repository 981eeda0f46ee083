import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import DATA, FAST, SAMPLE
from triage.batch import OUTPUT_COLUMNS
from triage.cli.main import main
from triage.routing import route
from triage.taxonomy import load_taxonomy


def run(*args):
    return main([str(a) for a in args])


def test_classify_sample_keeps_every_row_and_column(tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert run("classify", SAMPLE, "-o", out) == 0
    src = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    res = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(res.columns) == list(src.columns) + list(OUTPUT_COLUMNS)
    assert len(res) == len(src) == 120
    assert res["record_id"].tolist() == src["record_id"].tolist()
    empty = res[src["text"].str.strip() == ""]
    assert len(empty) == 2 and (empty["review_reason"] == "empty_text").all() and (empty["needs_review"] == "True").all()
    taxonomy = load_taxonomy(DATA / "taxonomy.toml")
    assert set(res.loc[res["category"] != "", "category"]) == set(taxonomy.category_codes)
    dated = res[(res["visit_date"] == "2025-06-25") & (res["category"] != "")]
    # 97 dated opinions, less 3 that are no enterprise opinion (a deputy's visit, two greetings): no category
    assert len(dated) == 94 and set(dated["tier"]) == set(taxonomy.tier_codes)
    scope = res[res["review_reason"] == "out_of_scope"]
    assert len(scope) == 3 and set(scope["out_of_scope_kind"]) == {"congress_deputies", "greetings_chitchat"}
    assert (scope["category"] == "").all() and (scope["subtopic"] == "").all()
    for tier, rows in dated.groupby("tier"):  # every row's deadline counted from its own intake date and tier
        assert set(rows["deadline"]) == {route(taxonomy, "tax", tier, "2025-06-25").deadline}, tier
    by_days = sorted(taxonomy.tier_codes, key=lambda t: taxonomy.tier(t).deadline_days)
    deadlines = [dated.loc[dated["tier"] == t, "deadline"].iloc[0] for t in by_days]
    assert "2025-06-25" < deadlines[0] and deadlines == sorted(set(deadlines))  # a longer tier ends later
    assert set(dated.loc[dated["tier"] == "on_site", "deadline"]) == {"2025-07-04"}  # 7 working days
    err = capsys.readouterr().err
    assert err.startswith(f"120 opinions → {out.name} in ") and "10 need review (5 low confidence, 3 out of scope, 2 empty text)" in err
    assert "{" not in err


@pytest.mark.parametrize("suffix", [".xlsx", ".jsonl"])
def test_classify_writes_the_format_of_the_extension(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    assert run("classify", SAMPLE, "-o", out, "--quiet") == 0
    from triage.files.io import read_chunks

    res = pd.concat(list(read_chunks(out)))
    assert len(res) == 120 and "category" in res.columns


def test_gbk_xlsx_and_chosen_text_column(tmp_path):
    df = pd.DataFrame({"编号": ["1", "2"], "意见描述": ["原木收购开不出发票，进项抵扣不了", ""]})
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False, encoding="gbk")
    out = tmp_path / "out.xlsx"
    assert run("classify", src, "-o", out, "--text-column", "意见描述", "--quiet") == 0
    res = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert res["类别 category"].tolist() == ["tax", ""] and res["类别名称 category name"].tolist() == ["税收与税改", ""]
    assert res["需复核 needs review"].tolist() == ["否", "是"]
    from triage.files.read import read_chunks

    back = pd.concat(list(read_chunks(out)))  # the bilingual headers read back as the machine names
    assert back["category"].tolist() == ["tax", ""]
    assert res["复核原因 review reason"].tolist()[1] == "empty_text"


def test_parallel_jobs_give_the_same_output(tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert run("classify", SAMPLE, "-o", one, "--quiet", "--chunk-size", "25") == 0
    assert run("classify", SAMPLE, "-o", two, "--quiet", "--chunk-size", "25", "--jobs", "2") == 0
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize("args, message", [
    (["classify", "missing.csv", "-o", "{tmp}/o.csv"], "Error: input file not found: missing.csv"),
    (["classify", SAMPLE, "-o", "{tmp}/o.docx"], "Error: o.docx: expected a file ending in"),
    (["classify", SAMPLE, "-o", "{tmp}/o.csv", "--text-column", "正文"], "Error: column '正文' not found"),
    (["classify", SAMPLE, "-o", "{tmp}/o.csv", "--model", "{tmp}"], "Error: "),
    (["classify", SAMPLE, "-o", "{tmp}/nodir/o.csv"], "Error: output folder not found"),
])
def test_errors_are_one_line_with_exit_code_1(tmp_path, capsys, args, message):
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    assert run(*args) == 1
    err = capsys.readouterr().err
    assert err.startswith(message.replace("{tmp}", str(tmp_path)))
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_missing_text_column_names_what_was_found(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("编号,备注\n1,x\n", encoding="utf-8")
    assert run("classify", src, "-o", tmp_path / "o.csv") == 1
    err = capsys.readouterr().err
    assert "no text column: expected one of ['text', '内容', '意见', '意见内容', '留言详情']" in err
    assert "found columns ['编号', '备注']" in err


def test_usage_errors_exit_2_and_help_exits_0(capsys):
    assert run() == 2
    assert run("classify") == 2
    assert run("--help") == 0
    assert run("classify", "--jobs", "0", SAMPLE, "-o", "x.csv") == 2
    capsys.readouterr()
    for command in ("classify", "train", "evaluate", "screen", "models", "register", "serve"):
        assert run(command, "--help") == 0
        out = capsys.readouterr().out
        assert "example:" in out or command in ("models", "register")
        assert "exit codes: 0 success, 1 bad input or data" in out and "130 interrupted" in out


def test_evaluate_on_a_labelled_file(tmp_path, capsys):
    src = tmp_path / "labelled.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["留抵退税三个月没到账", "园区门口的路灯坏了"],
                  "category": ["tax", "infrastructure"], "tier": ["transfer", "on_site"]}).to_csv(src, index=False)
    assert run("evaluate", src, "--json") == 0
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["category"]["n"] == 2 and report["category"]["accuracy"] == 1.0


def test_train_command_writes_a_current_version(small_data, tmp_path, capsys):
    models = tmp_path / "models"
    args = ["train", "--data", small_data, "--models", models, "--features", *FAST["feature_sets"],
            "--classifiers", *FAST["classifiers"], "--cv", "3"]
    assert run(*args) == 0
    assert "cross-validated macro-F1" in capsys.readouterr().out
    current = (models / "CURRENT").read_text().strip()
    assert (models / current / "card.json").is_file()


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "triage", "classify", "nope.csv", "-o", "x.csv"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: input file not found: nope.csv"


def test_standard_input_and_output_with_format(tmp_path):
    import json

    done = subprocess.run([sys.executable, "-m", "triage", "classify", "-", "-o", "-", "--format", "jsonl", "--quiet"],
                          stdin=open(SAMPLE, "rb"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    recs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(recs) == 120 and recs[0]["record_id"] == "2025060001" and recs[0]["category"] == "tax"
    done = subprocess.run([sys.executable, "-m", "triage", "classify", "-", "-o", "-", "--format", "xlsx"],
                          stdin=open(SAMPLE, "rb"), capture_output=True)
    assert done.returncode == 0 and done.stdout[:2] == b"PK"  # a workbook, into a pipe
    assert done.stderr.decode().startswith("120 opinions → standard output in ")
    (tmp_path / "o.xlsx").write_bytes(done.stdout)
    from triage.files.io import read_chunks

    assert len(pd.concat(list(read_chunks(tmp_path / "o.xlsx")))) == 120


def test_a_workbook_is_never_written_to_a_terminal_nor_read_from_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run("classify", SAMPLE, "-o", "-", "--format", "xlsx") == 1
    assert "refusing to write a workbook to a terminal" in capsys.readouterr().err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert run("classify", "-", "-o", tmp_path / "o.csv") == 1
    assert "expected a table on standard input (a pipe or a redirected file), found a terminal" in capsys.readouterr().err


def test_sheet_flag_picks_the_sheet_and_lists_them_when_needed(tmp_path, capsys):
    import openpyxl

    book = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "六月"
    wb.active.append(["意见"])
    wb.active.append(["路灯坏了"])
    july = wb.create_sheet("七月")
    july.append(["意见"])
    july.append(["续贷到期"])
    july.append(["电费太贵"])
    wb.save(book)
    assert run("classify", book, "-o", tmp_path / "o.csv") == 1
    assert "the workbook has 2 sheets with data ['六月', '七月']; expected --sheet" in capsys.readouterr().err
    assert run("classify", book, "--sheet", "七月", "-o", tmp_path / "o.csv", "--quiet") == 0
    assert pd.read_csv(tmp_path / "o.csv", encoding="utf-8-sig")["意见"].tolist() == ["续贷到期", "电费太贵"]


def test_jobs_auto_is_one_process_for_small_inputs_and_more_for_big_ones(tmp_path):
    import os

    from triage.batch import auto_jobs

    small = tmp_path / "small.csv"
    pd.DataFrame({"text": ["续贷到期"] * 30_000}).to_csv(small, index=False)  # 30,000 rows of 4 characters
    assert auto_jobs(small, None, 100, 5000) == 1  # one chunk holds all of it
    assert auto_jobs(small, None, 5000, 5000) == 1  # well under the size that pays for a pool
    big = tmp_path / "big.csv"
    pd.DataFrame({"text": ["从林农手里收的原木开不了票，没法给我们开增值税发票，原料这块进项抵扣不了"] * 60_000}).to_csv(big, index=False)
    assert auto_jobs(big, None, 5000, 5000) == max(1, min(4, len(os.sched_getaffinity(0))))


def test_evaluate_accepts_quiet_and_prints_no_dict(tmp_path, capsys):
    src = tmp_path / "labelled.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["留抵退税三个月没到账", "园区门口的路灯坏了"],
                  "category": ["tax", "infrastructure"], "tier": ["transfer", "on_site"]}).to_csv(src, index=False)
    assert run("evaluate", src, "--quiet") == 0
    out = capsys.readouterr().out
    assert "review: threshold " in out and "{" not in out
