import json

import openpyxl
import pandas as pd
import pytest

from triage.errors import InputError
from triage.files.columns import find_column
from triage.files.encoding import BY_LINE, detect_encoding
from triage.files.escape import escape_formula, escape_formulas
from triage.files.read import read_chunks
from triage.files.write import TableWriter
from triage.files.xlsx_read import xlsx_sheets


def frame(path, **kw):
    return pd.concat(list(read_chunks(path, **kw)), ignore_index=True)


ROWS = [{"id": "1", "内容": "原木收购开不出发票"}, {"id": "2", "内容": "续贷下周到期"}]


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                                                ("gbk", BY_LINE), ("gb18030", BY_LINE)])
def test_csv_encodings_are_detected_and_read(tmp_path, encoding, expected):
    path = tmp_path / "in.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False, encoding=encoding)
    assert detect_encoding(path) == expected
    df = frame(path)
    assert list(df.columns) == ["id", "内容"]
    assert df["内容"].tolist() == ["原木收购开不出发票", "续贷下周到期"]


def test_undecodable_bytes_are_reported_with_offset(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("id,text\n1,好\n".encode("utf-8") + b"\x81\xff\xfe\n")
    with pytest.raises(InputError, match="line 3: expected text in UTF-8, GBK/GB18030, Big5 or UTF-16, found undecodable bytes at column 1"):
        frame(path)


def test_csv_mixing_utf8_and_gbk_lines_is_read_correctly(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("id,text\n".encode() + "1,税务系统登不上\n".encode("utf-8") + "2,旋切机坏了\n".encode("gbk")
                     + "3,\"多行\n意见\"\n".encode("gbk"))
    df = frame(path)
    assert df["text"].tolist() == ["税务系统登不上", "旋切机坏了", "多行\n意见"]


def test_nul_byte_in_a_cell_does_not_lose_the_row(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes("id,text\n1,热压\x00机坏了\n2,续贷\n".encode())
    df = frame(path)
    assert len(df) == 2 and df["id"].tolist() == ["1", "2"]


def test_xlsx_is_read_as_text_and_formulas_are_not_evaluated(tmp_path):
    path = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "意见", "日期"])
    ws.append([1, "电费太贵", "2025-06-25"])
    ws.append([2, "=1+1", None])
    wb.save(path)
    df = frame(path)
    assert df.to_dict(orient="records") == [{"编号": "1", "意见": "电费太贵", "日期": "2025-06-25"},
                                           {"编号": "2", "意见": "", "日期": ""}]


def test_truncated_xlsx_is_a_clear_error(tmp_path):
    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["text"])
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError, match="expected an Excel .xlsx workbook, found an unreadable file"):
        frame(bad)


def test_jsonl_and_its_errors(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    assert frame(path)["内容"].tolist() == ["原木收购开不出发票", "续贷下周到期"]
    path.write_text('{"text": "a"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in.jsonl:2: expected one JSON object per line"):
        frame(path)


def test_chunks_are_bounded(tmp_path):
    path = tmp_path / "in.csv"
    pd.DataFrame({"text": [f"意见{i}" for i in range(25)]}).to_csv(path, index=False)
    assert [len(c) for c in read_chunks(path, chunksize=10)] == [10, 10, 5]


def test_duplicate_columns_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("text,text\na,b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"duplicate column names \['text'\]"):
        frame(path)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"expected a file ending in .* found '.doc'"):
        frame(tmp_path / "x.doc")
    with pytest.raises(InputError, match="input file not found"):
        frame(tmp_path / "x.csv")


def test_find_column():
    assert find_column(["id", "意见内容"], None, ("text", "意见内容"), "text") == "意见内容"
    assert find_column(["ID", "Text"], None, ("text",), "text") == "Text"
    with pytest.raises(InputError, match=r"no text column: expected one of \['text'\] .* found columns \['a'\]"):
        find_column(["a"], None, ("text",), "text")
    with pytest.raises(InputError, match=r"column 'x' not found; found columns \['a'\]"):
        find_column(["a"], "x", ("text",), "text")


@pytest.mark.parametrize("value, expected", [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1+2", "'+1+2"),
                                             ("@SUM(A1)", "'@SUM(A1)"), ("-5", "-5"), ("正常", "正常"), (3, 3)])
def test_escape_formula(value, expected):
    assert escape_formula(value) == expected


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
def test_writer_round_trip_escapes_formulas(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with TableWriter(path) as w:
        w.write(pd.DataFrame({"text": ["=cmd|' /C calc'!A0", "好"], "n": ["1", "2"]}))
    back = frame(path)
    if suffix == ".jsonl":
        assert back["text"].tolist() == ["=cmd|' /C calc'!A0", "好"]
    else:
        assert back["text"].tolist() == ["'=cmd|' /C calc'!A0", "好"]
    assert list(tmp_path.iterdir()) == [path]


def test_writer_leaves_nothing_when_it_fails(tmp_path):
    path = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with TableWriter(path) as w:
            w.write(pd.DataFrame({"text": ["a"]}))
            raise RuntimeError("crash in the middle")
    assert list(tmp_path.iterdir()) == []


def _workbook(path):
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "六月"
    first.append(["企业", "意见"])
    first.append(["宏达胶合板厂", "过桥资金利息太高"])
    first.append(["", "路灯坏了"])
    first.append(["", "电压不稳"])
    first.merge_cells("A2:A4")  # one enterprise cell merged over three opinions
    second = wb.create_sheet("七月")
    second.append(["意见"])
    second.append(["展会展位被取消"])
    wb.save(path)


def test_merged_cells_and_several_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    _workbook(path)
    assert xlsx_sheets(path) == ["六月", "七月"]
    with pytest.raises(InputError, match=r"book.xlsx: the workbook has 2 sheets with data \['六月', '七月'\]; "
                                         r"expected --sheet naming the one to read"):
        frame(path)
    first = frame(path, sheet="六月")
    assert frame(path, sheet="2")["意见"].tolist() == ["展会展位被取消"]
    assert first["意见"].tolist() == ["过桥资金利息太高", "路灯坏了", "电压不稳"]
    assert first["企业"].tolist() == ["宏达胶合板厂", "", ""]
    assert frame(path, sheet="七月")["意见"].tolist() == ["展会展位被取消"]
    with pytest.raises(InputError, match=r"sheet '八月' not found; the workbook has sheets \['六月', '七月'\]"):
        frame(path, sheet="八月")


def test_escaping_a_table_is_escaping_each_cell():
    df = pd.DataFrame([["=1+2", 1.5, True, "-3", None], ["ok", float("nan"), False, "@SUM(A1)", "\tx"],
                       ["+86 138", -2.0, True, "-", "普通"]], columns=["a", "b", "c", "a", "e"])
    out = escape_formulas(df)
    assert out.astype(str).values.tolist() == df.map(escape_formula).astype(str).values.tolist()
    assert out.columns.tolist() == ["a", "b", "c", "a", "e"]
    assert df.iloc[0, 0] == "=1+2"  # the input table is left as it was
    plain = pd.DataFrame({"text": ["木材", "税"], "p": [0.5, 0.7]})
    assert escape_formulas(plain) is plain
