"""The meeting workbook: sheets, columns, drop-down lists, masking, formula escaping."""
import openpyxl
import pandas as pd
import pytest

from tests.conftest import SAMPLE
from triage.cli.main import main
from triage.screening.workbook import COLUMNS, header

SHEETS = ["说明 guide", "tax 税收与税改", "financing 融资", "branding 品牌建设", "technology 技术升级",
          "infrastructure 基础设施", "复核 review", "lists"]
HEADERS = [f"{zh} {key}" for key, zh in COLUMNS]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screen") / "2025-06"
    assert main(["screen", str(SAMPLE), "--month", "2025-06", "-o", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def sheets(out):
    return pd.read_excel(out / "screening-2025-06.xlsx", sheet_name=None, dtype=str, keep_default_na=False)


def test_the_folder_holds_workbook_report_and_problems(out):
    assert sorted(p.name for p in out.iterdir()) == ["problems-2025-06.json", "report-2025-06.html",
                                                    "screening-2025-06.xlsx"]


def test_sheets_and_columns(sheets):
    assert list(sheets) == SHEETS
    for name in SHEETS[1:7]:
        assert list(sheets[name].columns) == HEADERS, name
    for key in ("confirmed_category", "confirmed_tier", "decision", "merge_into"):
        assert header(key) in HEADERS
    assert list(sheets["lists"].columns) == ["confirmed_category", "confirmed_tier", "decision"]
    assert sheets["lists"]["decision"].tolist()[:3] == ["keep 保留", "merge 合并", "drop 删除"]


def test_category_sheets_hold_every_grouped_opinion_once_ranked_by_problem(sheets):
    rows = pd.concat([sheets[n] for n in SHEETS[1:6]])
    ids = rows["意见编号 record_id"].tolist()
    assert len(ids) == len(set(ids)) == 109  # 114 in June, minus 2 empty and 3 out of scope
    tax = sheets["tax 税收与税改"]
    first = tax[tax["问题编号 problem_id"] == "P001"]
    assert set(first["意见编号 record_id"]) >= {"2025060001", "2025060018", "2025060037", "2025060052"}
    assert set(first["建议层级 suggested_tier"]) == {"key 重点提"}  # two of its opinions read as key already: no ↑
    assert set(first["预测类别 category"]) == {"tax 税收与税改"}
    assert (tax["确认类别 confirmed_category"] == "").all() and (tax["决定 decision"] == "").all()
    ranks = [int(r) for r in tax["排序 rank"]]
    assert ranks == sorted(ranks)


def test_review_sheet_lists_every_flagged_opinion(sheets):
    review = sheets["复核 review"]
    reasons = dict(zip(review["意见编号 record_id"], review["复核原因 review_reason"]))
    # an out-of-scope text shows its kind, and the agency to refer it to in the lead agency column
    assert {k: v for k, v in reasons.items() if v.startswith(("empty_text", "out_of_scope"))} == {
        "2025060013": "out_of_scope: 关于人大和代表的问题", "2025060027": "empty_text",
        "2025060056": "out_of_scope: 问候与闲聊", "2025060071": "empty_text", "2025060085": "out_of_scope: 问候与闲聊"}
    agencies = dict(zip(review["意见编号 record_id"], review["主办单位 lead_agency"]))
    assert agencies["2025060056"] == "无需转办（联络站工作人员回复）"
    assert agencies["2025060013"] == "区人大常委会代表工作委员会 / 联络站工作人员"
    assert len(review) == 9 and set(review["需复核 needs_review"]) == {"是 yes"}


def test_input_cells_have_drop_down_lists(out):
    wb = openpyxl.load_workbook(out / "screening-2025-06.xlsx")
    assert wb["lists"].sheet_state == "hidden"
    keys = [k for k, _ in COLUMNS]
    for name in SHEETS[1:7]:
        ws = wb[name]
        formulas = {}
        for dv in ws.data_validations.dataValidation:
            col = str(dv.sqref).split(":")[0].rstrip("0123456789")
            formulas[keys[openpyxl.utils.column_index_from_string(col) - 1]] = (dv.type, dv.formula1)
        assert formulas == {"confirmed_category": ("list", "=lists!$A$2:$A$6"),
                            "confirmed_tier": ("list", "=lists!$B$2:$B$4"),
                            "decision": ("list", "=lists!$C$2:$C$4")}, name


def test_phone_numbers_are_masked(sheets):
    text = pd.concat([sheets[n] for n in SHEETS[1:7]]).astype(str).to_string()
    for number in ("13812345678", "7281456", "15965432108"):
        assert number not in text
    rows = pd.concat([sheets[n] for n in SHEETS[1:6]]).set_index("意见编号 record_id")["意见内容 text"]
    assert "有事打我电话[手机号]" in rows["2025060042"]
    assert "[电话]" in rows["2025060097"]


def test_cells_are_escaped_against_formula_injection(tmp_path, shipped):
    from triage.screening.month import screen_month, write_outputs

    src = tmp_path / "m.csv"
    pd.DataFrame({"enterprise": ["=HYPERLINK(\"http://x\")", "乙厂"], "visit_date": ["2025-06-03"] * 2,
                  "deputy": ["@周建华", "周建华"],
                  "text": ["=1+2 收原木开不了发票，进项抵扣不了", "-停电太频繁，压机一停板子就废了"]}).to_csv(src, index=False)
    write_outputs(screen_month(src, "2025-06", shipped), tmp_path / "out")
    wb = openpyxl.load_workbook(tmp_path / "out" / "screening-2025-06.xlsx")
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [v for v in values if v[0] in "=+-@"]
    assert "'=1+2 收原木开不了发票,进项抵扣不了" in values and "'=HYPERLINK(\"http://x\")" in values
    assert "'@周建华" in values and "'-停电太频繁,压机一停板子就废了" in values
