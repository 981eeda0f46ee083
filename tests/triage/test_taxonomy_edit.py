"""Renaming and adding categories and relabelling opinions in a copy of the data folder."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import DATA, make_small_data
from triage import taxonomy_edit as te
from triage.errors import InputError, TaxonomyError
from triage.taxonomy import load_taxonomy


@pytest.fixture
def data(tmp_path):
    folder = make_small_data(tmp_path / "data", per_category=4)
    pd.DataFrame([{"id": "c1", "text": "商标被人抢注了怎么办", "category": "branding", "tier": "transfer"}]
                 ).to_csv(folder / "corrections.csv", index=False)
    return folder


def test_rename_changes_code_names_and_labels_and_keeps_comments(data):
    counts = te.rename_category(data, "branding", "brand", name_zh="品牌与市场", name_en="Brand and market")
    assert counts == {"corpus.csv": 4, "corrections.csv": 1}
    tax = load_taxonomy(data / "taxonomy.toml")
    assert tax.category_codes == ["tax", "financing", "brand", "technology", "infrastructure"]
    assert (tax.category("brand").name_zh, tax.category("brand").lead_agency_zh) == ("品牌与市场", "区市场监督管理局")
    text = (data / "taxonomy.toml").read_text("utf-8")
    assert text.splitlines()[0] == (DATA / "taxonomy.toml").read_text("utf-8").splitlines()[0]
    assert set(pd.read_csv(data / "corpus.csv")["category"]) == {"tax", "financing", "brand", "technology", "infrastructure"}


def test_rename_refuses_unknown_or_taken_codes(data):
    before = (data / "taxonomy.toml").read_bytes()
    with pytest.raises(TaxonomyError, match="unknown category code 'brandin'"):
        te.rename_category(data, "brandin", "brand")
    with pytest.raises(TaxonomyError, match="category code 'tax' already exists"):
        te.rename_category(data, "branding", "tax")
    with pytest.raises(TaxonomyError, match="code 'Brand' must be lower-case"):
        te.rename_category(data, "branding", "Brand")
    assert (data / "taxonomy.toml").read_bytes() == before


def test_add_category_then_relabel_found_opinions(data):
    tax = te.add_category(data, "power", "电力保障", "Power supply", "区供电公司", "District power supply company")
    assert tax.category_codes[-1] == "power" and tax.category("power").description == ""
    with pytest.raises(TaxonomyError, match="category code 'power' already exists"):
        te.add_category(data, "power", "x", "x", "x", "x")
    found = te.find_opinions(data, "商标|抢注", category="branding")
    assert found["id"].tolist() == ["c1"] and found["file"].tolist() == ["corrections.csv"]
    assert te.relabel(data, found, category="power") == {"corrections.csv": 1}
    assert pd.read_csv(data / "corrections.csv")["category"].tolist() == ["power"]
    assert te.relabel(data, ["tax-001"], tier="key") == {"corpus.csv": int(
        pd.read_csv(DATA / "corpus.csv").set_index("id").loc["tax-001", "tier"] != "key")}


def test_relabel_checks_everything_before_writing(data):
    before = (data / "corpus.csv").read_bytes()
    with pytest.raises(InputError, match=r"1 ids are not in .*corpus.csv: \['nope'\]"):
        te.relabel(data, ["tax-001", "nope"], category="financing")
    with pytest.raises(TaxonomyError, match="unknown category code 'power'"):
        te.relabel(data, ["tax-001"], category="power")
    with pytest.raises(InputError, match="not a valid regular expression"):
        te.find_opinions(data, "(")
    assert (data / "corpus.csv").read_bytes() == before


def test_find_opinions_masks_personal_data(data):
    corpus = pd.read_csv(data / "corpus.csv", dtype=str)
    corpus.loc[0, "text"] = "王建国经理说电话13812345678打不通"
    corpus.to_csv(data / "corpus.csv", index=False)
    found = te.find_opinions(data, "打不通")
    assert found["text"].tolist() == ["王某经理说电话[手机号]打不通"]


def test_copy_data_replaces_an_earlier_copy_but_not_the_source(data, tmp_path):
    copy = te.copy_data(data, tmp_path / "proposed")
    (copy / "corpus.csv").write_text("changed", encoding="utf-8")
    te.copy_data(data, copy)
    assert (copy / "corpus.csv").read_bytes() == (data / "corpus.csv").read_bytes()
    with pytest.raises(InputError, match="must be outside the data folder"):
        te.copy_data(data, data / "inner")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(InputError, match="exists and is not a data folder"):
        te.copy_data(data, other)


def test_names_with_quotes_and_backslashes_are_written_as_valid_toml_and_comments_stay(data):
    before = (data / "taxonomy.toml").read_text("utf-8")
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    te.rename_category(data, "branding", name_zh='品牌"与\\市场', name_en="C:\\brand\\new")
    te.add_category(data, "power", '电力"保障"', "Power \\ supply", "区供电公司", "District power")
    tax = load_taxonomy(data / "taxonomy.toml")
    assert tax.category("branding").name_zh == '品牌"与\\市场' and tax.category("branding").name_en == "C:\\brand\\new"
    assert (tax.category("power").name_zh, tax.category("power").name_en) == ('电力"保障"', "Power \\ supply")
    after = (data / "taxonomy.toml").read_text("utf-8")
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == comments
    assert "\n\n[[tiers]]" in after  # the new category is followed by a blank line, like the others
