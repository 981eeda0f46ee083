"""Closing the loop: filled workbook -> corrections.csv -> retraining."""
import json
import shutil

import openpyxl
import pandas as pd
import pytest

from tests.conftest import DATA, FAST, make_small_data
from triage.cli.main import main
from triage.screening.corrections import BadCell, WorkbookError, import_corrections
from triage.screening.month import screen_month, write_outputs
from triage.screening.workbook import header_key

BROADBAND = ["网速太慢，抖音直播带货根本播不了", "我们想在网上卖板材，但宽带太慢直播一直卡顿",
             "直播卖货的时候网络老是断，宽带带宽不够用"]
MONTH = pd.DataFrame({
    "record_id": ["r1", "r2", "r3", "r4", "r5"],
    "enterprise": ["甲木业", "乙板业", "丙家具", "丁木业", "戊板厂"],
    "deputy": ["周建华"] * 5,
    "visit_date": ["2025-06-05"] * 5,
    "text": BROADBAND + ["收木头开不了发票，进项抵扣不了，税负太重", "园区路灯坏了大半年，晚上下夜班的工人怕出事"],
})


def screen(model, tmp_path, data=None):
    src = tmp_path / "m.csv"
    MONTH.to_csv(src, index=False)
    files, _ = write_outputs(screen_month(src, "2025-06", model, data_dir=data), tmp_path / "out")
    return files["workbook"]


def fill(workbook, target, edits: dict) -> dict:
    """Write ``edits`` {record_id: {column key: value}} into every sheet row of that
    opinion; returns {record_id: [(sheet, row), ...]}."""
    wb = openpyxl.load_workbook(workbook)
    where = {}
    for ws in wb.worksheets:
        keys = [header_key(c.value) for c in ws[1]]
        if "record_id" not in keys or "decision" not in keys:
            continue
        for row in ws.iter_rows(min_row=2):
            rid = row[keys.index("record_id")].value
            if rid in edits:
                where.setdefault(rid, []).append((ws.title, row[0].row))
                for key, value in edits[rid].items():
                    row[keys.index(key)].value = value
    wb.save(target)
    return where


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(DATA / "taxonomy.toml", folder / "taxonomy.toml")
    return folder


def test_a_workbook_with_bad_cells_is_refused_with_every_cell_named(shipped, tmp_path, data, capsys):
    wb = screen(shipped, tmp_path)
    filled = tmp_path / "filled.xlsx"
    where = fill(wb, filled, {
        "r1": {"confirmed_category": "taxx", "decision": "keep 保留"},
        "r4": {"confirmed_tier": "urgent", "decision": "maybe"},
        "r5": {"decision": "merge 合并"},
        "r2": {"decision": "merge", "merge_into": "P999"},
        "r3": {"decision": "keep 保留"},
    })
    with pytest.raises(WorkbookError) as err:
        import_corrections(filled, data)
    (s1, n1), = where["r1"]
    (s4, n4), = where["r4"]
    (s5, n5), = where["r5"]
    s2, n2 = where["r2"][0]
    cells = [(b.sheet, b.row, b.column, b.value) for b in err.value.bad_cells]
    assert sorted(cells) == sorted([
        (s1, n1, "confirmed_category", "taxx"),
        (s4, n4, "confirmed_tier", "urgent"), (s4, n4, "decision", "maybe"),
        (s5, n5, "merge_into", ""),
    ] + [(s, n, "merge_into", "P999") for s, n in where["r2"]])
    assert s1 == "branding 品牌建设" and s4 == "tax 税收与税改"
    assert f"sheet 'branding 品牌建设' row {n1} confirmed_category = 'taxx': expected a category from the list: " \
           "tax 税收与税改, financing 融资" in str(err.value)
    assert not (data / "corrections.csv").exists()  # nothing imported

    assert main(["corrections", "import", str(filled), "--data", str(data)]) == 1
    errline = capsys.readouterr().err
    assert errline.startswith("Error: ") and errline.count("\n") == 1
    assert f"sheet 'tax 税收与税改' row {n4} confirmed_tier = 'urgent'" in errline
    assert f"row {n4} decision = 'maybe'" in errline and not (data / "corrections.csv").exists()

    assert main(["corrections", "import", str(filled), "--data", str(data), "--skip-errors"]) == 0
    out = capsys.readouterr()
    assert out.err.count("skipped: ") == len(cells)
    saved = pd.read_csv(data / "corrections.csv", dtype=str)
    assert saved["id"].tolist() == ["screen-2025-06-r3"]  # the only good, decided row
    assert "0 changed category" in out.out and "1 accepted as suggested" in out.out


def test_import_is_deduplicated_and_a_newer_decision_wins(shipped, tmp_path, data):
    (data / "corrections.csv").write_text("id,text,category,tier\nold-1,园区没有公交车，工人上下班不方便,infrastructure,"
                                          "transfer\n", encoding="utf-8")
    wb = screen(shipped, tmp_path)
    first = tmp_path / "first.xlsx"
    fill(wb, first, {"r1": {"confirmed_category": "基础设施", "decision": "keep 保留"},  # the Chinese name
                     "r2": {"confirmed_category": "infrastructure"},  # a code; no decision, still confirmed
                     "r4": {"decision": "keep"}, "r5": {"decision": "drop 删除"}})  # r3: undecided
    s = import_corrections(first, data)
    assert (s.rows, s.added, s.replaced, s.unchanged, s.not_imported, s.total) == (3, 3, 0, 0, 2, 4)
    assert (s.changed_category, s.accepted) == (2, 1)
    again = import_corrections(first, data)
    assert (again.added, again.replaced, again.unchanged, again.total) == (0, 0, 3, 4)
    second = tmp_path / "second.xlsx"
    fill(wb, second, {"r1": {"confirmed_category": "branding 品牌建设", "confirmed_tier": "key 重点提"}})
    s = import_corrections(second, data)
    assert (s.added, s.replaced, s.total) == (0, 1, 4)
    saved = pd.read_csv(data / "corrections.csv", dtype=str).set_index("id")
    assert list(saved.index) == ["old-1", "screen-2025-06-r4", "screen-2025-06-r2", "screen-2025-06-r1"]
    assert tuple(saved.loc["screen-2025-06-r1", ["category", "tier"]]) == ("branding", "key")
    assert saved.loc["screen-2025-06-r4", "category"] == "tax"


def test_round_trip_fill_import_retrain_changes_the_corrected_prediction(small_model, tmp_path):
    from triage.train import train_from_data

    before, _ = small_model  # trained on make_small_data with FAST settings
    data = make_small_data(tmp_path / "data")
    wrong = [t for t in BROADBAND if before.predict(t).category != "infrastructure"]
    assert wrong  # the small model files some of the broadband complaints under branding
    filled = tmp_path / "filled.xlsx"
    fill(screen(before, tmp_path, data), filled,
         {r: {"confirmed_category": "infrastructure 基础设施", "decision": "keep 保留"} for r in ("r1", "r2", "r3")})
    assert main(["corrections", "import", str(filled), "--data", str(data)]) == 0
    after, folder = train_from_data(data, tmp_path / "models", **FAST)
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    assert card["data"]["n_corrections"] == 3
    assert [after.predict(t).category for t in wrong] == ["infrastructure"] * len(wrong)


def test_a_file_that_is_not_a_screening_workbook_is_refused(tmp_path, data):
    plain = tmp_path / "plain.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(plain, index=False)
    with pytest.raises(Exception, match=r"expected sheets with the columns \['record_id'"):
        import_corrections(plain, data)
    text = tmp_path / "x.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(Exception, match="expected the .xlsx workbook written by 'triage screen'"):
        import_corrections(text, data)


def test_bad_cell_message():
    assert str(BadCell("tax 税收与税改", 7, "decision", "maybe", "expected keep, merge or drop")) == \
        "sheet 'tax 税收与税改' row 7 decision = 'maybe': expected keep, merge or drop"


def test_one_wording_from_two_enterprises_needs_one_label(shipped, tmp_path, data):
    src = tmp_path / "dup.csv"
    text = "收木头开不了发票，进项抵扣不了，税负太重"
    pd.DataFrame({"record_id": ["d1", "d2"], "enterprise": ["甲木业", "乙板业"], "visit_date": ["2025-06-05"] * 2,
                  "text": [text, text]}).to_csv(src, index=False)
    files, _ = write_outputs(screen_month(src, "2025-06", shipped), tmp_path / "out")
    clash = tmp_path / "clash.xlsx"
    where = fill(files["workbook"], clash, {"d1": {"confirmed_tier": "key"}, "d2": {"confirmed_tier": "on_site"}})
    with pytest.raises(WorkbookError) as err:
        import_corrections(clash, data)
    (s2, n2), = where["d2"]
    (s1, n1), = where["d1"]
    assert [str(b) for b in err.value.bad_cells] == [
        f"sheet {s2!r} row {n2} confirmed_category/confirmed_tier = 'tax/on_site': the same text (d1, sheet {s1!r} "
        f"row {n1}) is tax/key"]
    agree = tmp_path / "agree.xlsx"
    fill(files["workbook"], agree, {"d1": {"confirmed_tier": "key"}, "d2": {"confirmed_tier": "key"}})
    s = import_corrections(agree, data)
    assert (s.rows, s.added, s.total) == (2, 1, 1)
