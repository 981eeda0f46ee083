"""Creating suggestions from the deputies' filled-in screening workbook (format of
``triage.screening.workbook``: one row per opinion, grouped by problem; decision keep / merge / drop)."""
import json

import openpyxl
import pytest

from triage.cli.main import main
from triage.errors import InputError
from triage.register import read_problems
from triage.screening.workbook import GUIDE_SHEET, REVIEW_SHEET, header

KEYS = ("problem_id", "suggested_tier", "record_id", "enterprise", "text", "category", "tier",
        "confirmed_category", "confirmed_tier", "decision", "merge_into")
TAX = [  # problem, suggested tier, record, enterprise, text, category, tier, confirmed category, tier, decision, merge
    ("P001", "key 重点提 ↑", "r1", "甲木业", "收购原木开不出发票", "tax 税收与税改", "transfer 分级转", None, None, "keep 保留", None),
    ("P001", "key 重点提 ↑", "r2", "乙板材", "林农不给开票，进项抵扣不了", "tax 税收与税改", "transfer 分级转", None, None, "keep", None),
    ("P001", "key 重点提 ↑", "r3", "丙家具", "发票问题", "tax 税收与税改", "on_site 现场办", None, None, "drop 删除", None),
    ("P002", "transfer 分级转", "r4", "丁胶合板", "收购发票难开", "tax 税收与税改", "transfer 分级转", None, None, "merge 合并", "P001"),
    ("P002", "transfer 分级转", "r5", "戊木业", "退税慢", "tax 税收与税改", "transfer 分级转", None, None, None, None),
]
ROAD = [("P003", "on_site 现场办", "r6", "己板业", "园区路灯坏了", "infrastructure 基础设施", "on_site 现场办", None, None, "保留", None)]
REVIEW = [
    ("P001", "key 重点提 ↑", "r2", "乙板材", "林农不给开票，进项抵扣不了", "tax 税收与税改", "transfer 分级转", None, None, None, None),
    (None, None, "r7", "庚木业", "贷款续不上", "tax 税收与税改", "transfer 分级转", "financing 融资", "transfer 分级转", "keep", None),
    (None, None, "r8", "辛木业", "你好", None, None, None, None, None, None),
]


def workbook(path, tax=TAX, road=ROAD, review=REVIEW):
    wb = openpyxl.Workbook()
    wb.active.title = GUIDE_SHEET
    wb.active["A1"] = "2025-06 意见筛选表 / screening workbook"
    for title, rows in (("tax 税收与税改", tax), ("infrastructure 基础设施", road), (REVIEW_SHEET, review)):
        ws = wb.create_sheet(title)
        ws.append([header(k) for k in ("rank",) + KEYS + ("note",)])
        for i, r in enumerate(rows, 1):
            ws.append([i, *r, None])
    wb.save(path)
    return path


def test_confirmed_problems_of_the_filled_workbook(tmp_path):
    ps = read_problems(workbook(tmp_path / "screening-2025-06.xlsx"))
    got = [(p.problem_id, p.text, p.category, p.tier, p.enterprises, p.opinion_ids, p.source) for p in ps.problems]
    assert got == [
        ("P001", "收购原木开不出发票", "tax", "key", ("甲木业", "乙板材", "丁胶合板"), ("r1", "r2", "r4"), "screening-2025-06.xlsx"),
        ("P003", "园区路灯坏了", "infrastructure", "on_site", ("己板业",), ("r6",), "screening-2025-06.xlsx"),
        ("r7", "贷款续不上", "financing", "transfer", ("庚木业",), ("r7",), "screening-2025-06.xlsx"),
    ]
    assert ps.not_confirmed == ["P002"]


@pytest.mark.parametrize("change, message", [
    (dict(decision="maybe"), r"sheet 'tax 税收与税改' row 2: decision must be keep 保留, merge 合并 or drop 删除, found 'maybe'"),
    (dict(decision="merge", merge_into="P999"), r"sheet 'tax 税收与税改' row 2: merge_into must name a problem of the workbook"),
])
def test_bad_cells_are_refused_with_sheet_and_row(tmp_path, change, message):
    row = dict(zip(KEYS, TAX[0]), **change)
    with pytest.raises(InputError, match=message):
        read_problems(workbook(tmp_path / "w.xlsx", tax=[tuple(row[k] for k in KEYS)] + TAX[1:]))


def test_two_different_decisions_for_one_opinion_are_refused(tmp_path):
    review = [REVIEW[0][:9] + ("drop", None)] + REVIEW[1:]
    with pytest.raises(InputError, match=r"opinion r2 has decision 'keep' at sheet 'tax 税收与税改' row 3 but 'drop' "
                                         r"on sheet '复核 review' row 2"):
        read_problems(workbook(tmp_path / "w.xlsx", review=review))


def test_create_one_suggestion_per_confirmed_problem_of_the_workbook(register_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TRIAGE_USER", "联络站")
    path = workbook(tmp_path / "screening-2025-06.xlsx")
    assert main(["register", "init", "--db", register_db]) == 0
    assert main(["register", "create", str(path), "--each", "--on", "2025-07-02", "--db", register_db]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "note: left out 1 problem(s) not marked confirmed: P002",
        "created S-2025-001 建议 [draft 草稿] version 1: 收购原木开不出发票 from 1 problem(s)",
        "created S-2025-002 建议 [draft 草稿] version 1: 园区路灯坏了 from 1 problem(s)",
        "created S-2025-003 建议 [draft 草稿] version 1: 贷款续不上 from 1 problem(s)",
    ]
    assert main(["register", "show", "S-2025-001", "--json", "--db", register_db]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["tier"], s["supervision"], s["opinion_ids"]) == ("key", "all", ["r1", "r2", "r4"])
    assert s["problems"][0]["source"] == "screening-2025-06.xlsx"


@pytest.mark.parametrize("written, read", [("'-园区路灯坏了", "-园区路灯坏了"), ("' =1+2路灯", "=1+2路灯"),  # (cell text is trimmed)
                                           ("'＝路灯坏了", "＝路灯坏了"), ("'路灯'坏了", "'路灯'坏了")])
def test_texts_escaped_against_formulas_are_read_as_written(tmp_path, written, read):
    """Whatever the writer escapes (a sign, a sign behind spaces, a full-width sign) is read back
    as it was; a quote that escapes nothing stays."""
    road = [ROAD[0][:4] + (written,) + ROAD[0][5:]]
    ps = read_problems(workbook(tmp_path / "w.xlsx", road=road))
    assert [p.text for p in ps.problems if p.problem_id == "P003"] == [read]
