"""``triage register ...`` end to end, on SQLite and PostgreSQL."""
import json

import pytest

from triage.cli.main import main

PROBLEMS = """problem_id,text,category,tier,enterprises,opinion_ids,confirmed
P1,向林农收购原木开不出收购发票，进项无法抵扣,tax,transfer,甲木业;乙板材,2025-06-001;2025-06-014,是
P2,园区道路破损，运输车辆难以通行,infrastructure,on_site,丁胶合板,2025-06-020,是
P3,希望组织参加家具展会,branding,transfer,戊家具,2025-06-031,否
"""


@pytest.fixture
def cli(register_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_USER", "联络站")
    monkeypatch.delenv("TRIAGE_REGISTER_DB", raising=False)
    (tmp_path / "problems.csv").write_text(PROBLEMS, encoding="utf-8")

    def run(*args, db=True):
        code = main([str(a) for a in args] + (["--db", register_db] if db else []))
        out = capsys.readouterr()
        return code, out.out, out.err
    return run, tmp_path


def test_a_suggestion_from_screening_to_closure(cli):
    run, tmp = cli
    assert run("register", "init")[0] == 0
    code, out, _ = run("register", "init")
    assert code == 0 and "already at the newest schema (0001)" in out
    code, out, _ = run("register", "create", tmp / "problems.csv", "--each", "--on", "2025-06-20")
    assert code == 0
    assert out.splitlines() == [
        "note: left out 1 problem(s) not marked confirmed: P3",
        "created S-2025-001 建议 [draft 草稿] version 1: 向林农收购原木开不出收购发票,进项无法抵扣 from 1 problem(s)",
        "created S-2025-002 建议 [draft 草稿] version 1: 园区道路破损,运输车辆难以通行 from 1 problem(s)",
    ]
    code, out, _ = run("register", "assign", "S-2025-001", "--deputy", "周建华", "--co-organiser", "区林业局",
                       "--on", "2025-06-23", "--expect-version", "1")
    assert code == 0 and out.startswith("S-2025-001 建议 [assigned 已交办] version 2, due 2025-10-31")
    code, _, err = run("register", "progress", "1", "召开座谈会", "--expect-version", "1", "--on", "2025-06-24")
    assert (code, err.strip()) == (1, "Error: S-2025-001 is at version 2, but this change was based on version 1: "
                                      "someone else changed it meanwhile; reload it and try again")
    assert run("register", "progress", "1", "召开座谈会", "--expect-version", "2", "--on", "2025-06-24")[0] == 0
    (tmp / "answer.txt").write_text("已明确收购发票开具流程", encoding="utf-8")
    assert run("register", "answer", "1", "--file", tmp / "answer.txt", "--by", "区税务局", "--on", "2025-06-30")[0] == 0
    code, out, _ = run("register", "rate", "S-2025-001", "不满意", "--note", "抵扣仍未解决", "--on", "2025-07-01")
    assert code == 0 and "[look_back 回头看] version 5, due 2025-07-29" in out
    code, out, _ = run("register", "list", "--overdue")
    assert code == 0 and out.splitlines()[1].startswith("S-2025-001  回头看   分级转   区税务局")
    assert out.splitlines()[-1] == "1 item(s)"
    code, out, _ = run("register", "history", "S-2025-001")
    lines = out.splitlines()
    assert lines[0].startswith("v1 2025-06-20 create   draft")
    v5 = lines.index(next(ln for ln in lines if ln.startswith("v5 ")))
    assert lines[v5].startswith("v5 2025-07-01 rate     answered -> look_back    by 联络站")
    assert lines[v5 + 1:] == ['    satisfaction: null -> "dissatisfied"', "    look_backs: 0 -> 1",
                              '    deadline: "2025-10-31" -> "2025-07-29"', "    working_days: 90 -> 20",
                              "    note: 抵扣仍未解决"]
    assert "    deadline: null -> \"2025-10-31\"" in lines
    assert any(ln.startswith("v4 2025-06-30 answer") and "by 区税务局" in ln for ln in lines)
    code, out, _ = run("register", "show", "1", "--json")
    s = json.loads(out)
    assert (s["status"], s["deputies"], s["co_organisers"], s["look_backs"]) == ("look_back", ["周建华"], ["区林业局"], 1)
    assert s["problems"][0]["opinion_ids"] == ["2025-06-001", "2025-06-014"]
    code, out, _ = run("register", "stats", "--html", tmp / "report.html")
    assert code == 0 and out.splitlines()[0] == "2025年以来共提出建议1件（办结0件）、议案0件（办结0件）"
    assert "2025年以来共提出建议1件" in (tmp / "report.html").read_text(encoding="utf-8")


def test_create_a_motion_from_chosen_problems_of_a_json_file(cli):
    run, tmp = cli
    run("register", "init")
    (tmp / "p.json").write_text(json.dumps({"problems": [
        {"id": "A", "问题": "单板企业普遍开票难", "类别": "税收与税改", "层级": "重点提", "企业": ["甲", "乙", "丙"]},
        {"id": "B", "问题": "原木进项抵扣难", "类别": "tax", "层级": "transfer", "企业": "丁"},
        {"id": "C", "问题": "道路破损", "类别": "infrastructure", "层级": "on_site"}]}, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run("register", "create", tmp / "p.json", "--problem", "A", "--problem", "B", "--kind", "议案",
                       "--title", "关于解决木材收购发票问题的议案", "--on", "2025-03-03")
    assert code == 0 and out.strip() == ("created M-2025-001 议案 [draft 草稿] version 1: 关于解决木材收购发票问题的议案 "
                                         "from 2 problem(s)")
    s = json.loads(run("register", "show", "M-2025-001", "--json")[1])
    assert (s["tier"], s["supervision"], s["enterprises"]) == ("key", "all", ["丁", "丙", "乙", "甲"])
    code, _, err = run("register", "create", tmp / "p.json", "--problem", "Z")
    assert code == 1 and "problem ids ['Z'] are not among the confirmed problems of" in err


@pytest.mark.parametrize("args, message", [
    (["register", "show", "9"], "Error: no suggestion or motion '9' in the register"),
    (["register", "list", "--status", "late"], "Error: status: expected one of draft (草稿)"),
    (["register", "rate", "1", "很好"], "Error: satisfaction: expected one of satisfied (满意), basically_satisfied (基本满意)"),
    (["register", "answer", "1"], "Error: give the answer either as text or with --file"),
])
def test_errors_are_one_line(cli, args, message):
    run, tmp = cli
    run("register", "init")
    run("register", "create", tmp / "problems.csv", "--problem", "P2", "--on", "2025-06-20")
    code, out, err = run(*args)
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1


def test_a_missing_register_is_named_with_the_command_to_create_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TRIAGE_REGISTER_DB", raising=False)
    db = tmp_path / "nothing.db"
    assert main(["register", "list", "--db", str(db)]) == 1
    assert capsys.readouterr().err.strip() == ("Error: no register at nothing.db; create it with: triage register init "
                                               "(and the same --db)")  # the file's name, not its folder
    assert not db.exists()


def test_correct_date_fixes_a_mistyped_year_and_history_shows_it(cli):
    run, tmp = cli
    run("register", "init")
    code, out, _ = run("register", "create", tmp / "problems.csv", "--problem", "P2", "--on", "2024-06-20")
    assert code == 0 and "created S-2024-001" in out
    code, out, err = run("register", "correct-date", "S-2024-001", "--on", "2025-06-20", "--reason", "录入年份错误")
    assert (code, err) == (0, "")
    assert out.startswith("S-2025-001 建议 [draft 草稿] version 2")
    code, out, _ = run("register", "history", "S-2024-001")  # the old code still finds it
    lines = out.splitlines()
    assert lines[0].startswith("v1 2024-06-20 create")
    v2 = lines.index(next(ln for ln in lines if ln.startswith("v2 ")))
    assert lines[v2].startswith("v2 2025-06-20 correct_date draft")
    assert lines[v2 + 1:] == ["    corrects v1", '    effective_on: "2024-06-20" -> "2025-06-20"',
                              '    created_on: "2024-06-20" -> "2025-06-20"', '    code: "S-2024-001" -> "S-2025-001"',
                              "    year: 2024 -> 2025", "    note: 录入年份错误"]


@pytest.mark.parametrize("args, message", [
    (["register", "list", "--due-within", "99999999999"],
     "Error: due within: expected a number of days from 0 to 36500, found 99999999999"),
    (["register", "create", "problems.csv", "--problem", "P1", "--on", "0025-06-25"],
     "Error: date: expected a date between 2000-01-01 and "),
    (["register", "correct-date", "1", "--on", "9999-12-31", "--reason", "x"],
     "Error: date: expected a date between 2000-01-01 and "),
])
def test_out_of_range_numbers_and_dates_are_one_line_errors(cli, args, message):
    run, tmp = cli
    run("register", "init")
    run("register", "create", tmp / "problems.csv", "--problem", "P2", "--on", "2025-06-20")
    args = [str(tmp / a) if a == "problems.csv" else a for a in args]
    code, out, err = run(*args)
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and str(tmp) not in err


@pytest.mark.parametrize("action", ["init", "upgrade", "create", "assign", "progress", "answer", "rate", "list", "show",
                                    "history", "stats", "correct-date"])
def test_every_action_has_help_with_an_example(action, capsys):
    assert main(["register", action, "--help"]) == 0
    assert "example:\n  triage register " + action in capsys.readouterr().out


def test_quiet_changes_say_nothing_but_still_happen_and_errors_still_show(cli):
    run, tmp = cli
    assert run("register", "init", "--quiet") == (0, "", "")
    assert run("register", "create", tmp / "problems.csv", "--each", "--on", "2025-06-20", "-q") == (0, "", "")
    code, out, err = run("register", "assign", "S-2025-001", "--deputy", "周建华", "--quiet")
    assert (code, out, err) == (0, "", "")
    code, out, _ = run("register", "show", "S-2025-001")
    assert code == 0 and "assigned" in out and "周建华" in out  # the quiet change was made
    code, out, err = run("register", "assign", "S-2025-999", "--deputy", "周建华", "--quiet")
    assert code == 1 and out == "" and err.startswith("Error: ") and "S-2025-999" in err
