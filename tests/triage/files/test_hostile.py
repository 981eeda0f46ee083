"""Faults a hostile test found in reading and writing files (issue 13), each reproduced
through the public entry points (``triage.files.io`` and ``triage classify``)."""
import csv
import json
import os

import openpyxl
import pandas as pd
import pytest

from tests.conftest import SAMPLE
from triage.cli.main import main
from triage.errors import InputError
from triage.files.io import escape_formula, read_chunks

TEXTS = ["从林农手里收的原木开不了票，进项抵扣不了", "续贷下周到期，银行要求先还清再放款", "园區門口的路燈壞了很久沒人修"]


def run(*args):
    return main([str(a) for a in args])


def frame(path, **kw):
    return pd.concat(list(read_chunks(path, **kw)), ignore_index=True)


def csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


# --- 1. a lone carriage return never splits a row -----------------------------------------
def test_a_lone_carriage_return_in_a_cell_stays_in_its_csv_row(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('id,text\n1,"路灯坏了\r=1+2"\n2,续贷到期\n', encoding="utf-8", newline="")
    assert frame(src)["text"].tolist() == ["路灯坏了\r=1+2", "续贷到期"]
    assert run("classify", src, "-o", out, "--quiet") == 0
    rows = csv_rows(out)
    assert len(rows) == 3 and [r[0] for r in rows[1:]] == ["1", "2"]
    assert rows[1][1] == "路灯坏了\r=1+2"
    assert b'"\xe8\xb7\xaf\xe7\x81\xaf\xe5\x9d\x8f\xe4\xba\x86\r=1+2"' in out.read_bytes()  # quoted


@pytest.mark.parametrize("raw", [False, True])
def test_jsonl_with_a_carriage_return_gives_one_row_per_record(tmp_path, raw):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.csv"
    lines = [json.dumps({"id": "1", "text": "路灯坏了\r=1+2"}, ensure_ascii=False), json.dumps({"id": "2", "text": "续贷"})]
    if raw:  # a writer that leaves the control character raw inside the string
        lines[0] = lines[0].replace("\\r", "\r")
    src.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    assert frame(src)["text"].tolist() == ["路灯坏了\r=1+2", "续贷"]
    assert run("classify", src, "-o", out, "--quiet") == 0
    assert [r[0] for r in csv_rows(out)] == ["id", "1", "2"]


# --- 2. a ragged first row is refused, never used as an index ------------------------------
def test_an_extra_field_in_the_first_data_row_is_refused_with_its_row(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,enterprise,text\n1,宏达胶合板厂,续贷到期,\n2,鑫源木业,路灯坏了\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"in.csv: row 2 \(the first data row\) has 4 fields but the header has 3 "
                                         r"\(a trailing separator\?\)"):
        frame(src)
    assert run("classify", src, "-o", tmp_path / "o.csv") == 1
    assert "row 2 (the first data row) has 4 fields" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


# --- 3. an out-of-range date is flagged on its row, never aborts the run -------------------
def test_a_date_out_of_range_leaves_that_deadline_empty_and_the_run_goes_on(tmp_path, capsys):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"visit_date": ["2025-06-25", "9999-12-31", "2025-06-26", "not a date"],
                  "text": TEXTS[:2] * 2}).to_csv(src, index=False)
    assert run("classify", src, "-o", out) == 0
    res = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert [d != "" for d in res["deadline"]] == [True, False, True, False]
    assert (res["category"] != "").all()
    err = capsys.readouterr().err
    assert "warning: 2 rows have an unreadable or out-of-range date (rows 3, 5); their deadline is left empty" in err


# --- 8. encodings ---------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_byte_order_marks_and_utf16_without_one_are_read(tmp_path, encoding):
    src = tmp_path / "in.csv"
    text = "id\ttext\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(TEXTS))
    src.write_bytes(text.encode(encoding))  # utf-16 writes a BOM; -le/-be do not
    df = frame(src)
    assert list(df.columns) == ["id", "text"] and df["text"].tolist() == TEXTS


def test_broken_utf16_is_refused_naming_utf16(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes("id,text\n1,好\n".encode("utf-16") + b"\x00\xd8")  # a lone surrogate at the end
    with pytest.raises(InputError, match="in.csv: found UTF-16 .* not valid UTF-16"):
        frame(src)


def test_big5_is_decoded_as_big5_not_gb18030_gibberish(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["1", "2"], "text": ["園區門口的路燈壞了很久沒人修", "銀行續貸要求先還清再放款，資金週轉不開"]}).to_csv(
        src, index=False, encoding="big5")
    assert frame(src)["text"].tolist() == ["園區門口的路燈壞了很久沒人修", "銀行續貸要求先還清再放款，資金週轉不開"]


def test_a_short_big5_file_and_a_gbk_file_with_rare_characters(tmp_path):
    short = tmp_path / "short.csv"
    short.write_bytes("意見\n路燈壞了\n".encode("big5"))
    assert frame(short)["意見"].tolist() == ["路燈壞了"]
    rare = tmp_path / "rare.csv"  # 镕 and 堃 are GBK characters outside GB2312
    rare.write_bytes("意见\n朱镕基路的路灯坏了\n张堃的厂子用电难\n".encode("gbk"))
    assert frame(rare)["意见"].tolist() == ["朱镕基路的路灯坏了", "张堃的厂子用电难"]


def test_bytes_that_look_like_big5_but_are_not_are_refused_naming_big5(tmp_path):
    src = tmp_path / "in.csv"
    good = "id,text\n1,園區門口的路燈壞了很久沒人修，銀行續貸\n".encode("big5")
    src.write_bytes(good + b"2,\xa4\x40\xa4\x40\xff\xff\n")
    with pytest.raises(InputError, match="in.csv: .*found bytes that look like Big5"):
        frame(src)


def test_a_tab_separated_txt_export_is_read_with_tabs(tmp_path):
    src = tmp_path / "export.txt"
    src.write_text("编号\t意见\n1\t电费太贵, 用电成本高\n2\t路灯坏了\n", encoding="utf-16")  # Excel's "Unicode text"
    df = frame(src)
    assert list(df.columns) == ["编号", "意见"] and df["意见"].tolist() == ["电费太贵, 用电成本高", "路灯坏了"]


def test_tsv_in_and_out_are_tab_separated(tmp_path):
    src, out = tmp_path / "in.tsv", tmp_path / "out.tsv"
    src.write_text("id\ttext\n1\t路灯坏了, 电压不稳\n", encoding="utf-8")
    assert run("classify", src, "-o", out, "--quiet") == 0
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    assert rows[0][:3] == ["id", "text", "category"] and rows[1][:2] == ["1", "路灯坏了, 电压不稳"]


# --- 9. smaller ones ------------------------------------------------------------------------
def test_an_overlong_cell_is_refused_for_xlsx_with_row_and_column(tmp_path, capsys):
    src, out = tmp_path / "in.csv", tmp_path / "out.xlsx"
    pd.DataFrame({"text": ["续贷到期", "路灯坏了" + "很" * 40_000]}).to_csv(src, index=False)
    assert run("classify", src, "-o", out) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: row 3, column 'text': a cell of 40,004 characters; an Excel cell holds at most 32,767")
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".jsonl"])
def test_a_jsonl_key_first_seen_after_the_first_chunk(tmp_path, suffix):
    src, out = tmp_path / "in.jsonl", tmp_path / f"out{suffix}"
    recs = [{"id": str(i), "text": TEXTS[i % 2]} for i in range(5)] + [{"id": "5", "text": TEXTS[0], "note": "后加"}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    assert run("classify", src, "-o", out, "--quiet", "--chunk-size", "2") == 0
    res = frame(out)
    assert len(res) == 6 and res["note"].fillna("").tolist() == [""] * 5 + ["后加"]


def test_csv_header_cells_are_escaped(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text('text,"=HYPERLINK(""http://x"")"\n路灯坏了,1\n', encoding="utf-8")
    assert run("classify", src, "-o", out, "--quiet") == 0
    assert csv_rows(out)[0][1] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.parametrize("value, expected", [(" =1+2", "' =1+2"), ("\u3000@SUM(A1)", "'\u3000@SUM(A1)"),
                                             ("＝1+2", "'＝1+2"), ("＋86", "'＋86"), ("－cmd", "'－cmd"),
                                             ("＠SUM(A1)", "'＠SUM(A1)"), (" -5", " -5"), ("a=b", "a=b")])
def test_formulas_behind_spaces_or_in_full_width_are_escaped(value, expected):
    assert escape_formula(value) == expected


def test_a_csv_without_header_never_shows_its_first_row(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("张伟,13800138000,110101199003071234,路灯坏了\n李娜,13900139000,110101199104081234,续贷\n",
                   encoding="utf-8")
    assert run("classify", src, "-o", tmp_path / "o.csv") == 1
    err = capsys.readouterr().err
    assert "looks like data, not column names (is the header row missing?)" in err
    for secret in ("张伟", "13800138000", "110101199003071234"):
        assert secret not in err


def test_error_messages_never_show_absolute_paths(tmp_path, capsys):
    assert run("classify", tmp_path / "missing.csv", "-o", tmp_path / "o.csv") == 1
    assert run("classify", SAMPLE, "-o", tmp_path / "nodir" / "o.csv") == 1
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    assert run("classify", bad, "-o", tmp_path / "o.csv") == 1
    err = capsys.readouterr().err
    assert err.count("Error: ") == 3 and str(tmp_path) not in err and "missing.csv" in err and "bad.xlsx" in err


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
def test_outputs_get_the_umask_permissions(tmp_path, suffix):
    old = os.umask(0o022)
    try:
        out = tmp_path / f"out{suffix}"
        assert run("classify", SAMPLE, "-o", out, "--quiet") == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


# --- files for people -----------------------------------------------------------------------
def test_the_workbook_is_for_people(tmp_path):
    out = tmp_path / "out.xlsx"
    assert run("classify", SAMPLE, "-o", out, "--quiet") == 0
    ws = openpyxl.load_workbook(out).active
    head = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:R121"
    assert head[5:13] == ["类别 category", "类别名称 category name", "子议题 subtopic", "层级 tier", "层级名称 tier name",
                          "类别概率 category probability", "层级概率 tier probability", "需复核 needs review"]
    row = [c for c in ws[2]]
    assert [c.value for c in row[5:10]] == ["tax", "税收与税改", "tax_log_purchase_invoice", "key", "重点提"]
    assert isinstance(row[10].value, float) and row[10].number_format == "0.0%"
    assert {c.value for c in ws["M"][1:]} == {"是", "否"}
    assert ws.column_dimensions["E"].width == 60 and ws.column_dimensions["C"].width >= 8


def test_triage_columns_pauses_the_cycle_collector_only_for_the_chunk(shipped, monkeypatch):
    import gc

    from triage.batch import triage_columns

    seen = []
    real = shipped.predict_columns

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(shipped, "predict_columns", spy)
    assert gc.isenabled()
    cols, bad = triage_columns(shipped, ["路灯坏了"], [None], [None])
    assert seen == [False] and gc.isenabled() and len(cols["category"]) == 1
    gc.disable()
    try:
        triage_columns(shipped, ["路灯坏了"], [None], [None])
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(shipped, "predict_columns", broken)
    with pytest.raises(RuntimeError):
        triage_columns(shipped, ["路灯坏了"], [None], [None])
    assert gc.isenabled()
