import pytest

from tests.conftest import DATA, FAST, make_small_data
from triage.errors import TaxonomyError
from triage.taxonomy import load_taxonomy


def test_bundled_taxonomy_has_the_station_codes(taxonomy):
    assert taxonomy.category_codes == ["tax", "financing", "branding", "technology", "infrastructure"]
    assert taxonomy.tier_codes == ["on_site", "transfer", "key"]
    assert taxonomy.category("tax").lead_agency_zh == "区税务局"
    assert [t.deadline_days for t in taxonomy.tiers] == [7, 90, 180]
    for entry in (*taxonomy.categories, *taxonomy.tiers):
        assert entry.name_zh and entry.name_en


def test_unknown_code_is_named(taxonomy):
    with pytest.raises(TaxonomyError, match=r"unknown category code 'roads'"):
        taxonomy.category("roads")


BAD = [
    ("", "expected at least 2 \\[\\[categories\\]\\] entries, found 0"),
    ('[[categories]]\ncode="a"\nname_zh="甲"\nname_en="A"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[categories]]\ncode="a"\nname_zh="乙"\nname_en="B"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[tiers]]\ncode="t"\nname_zh="t"\nname_en="t"\ndeadline_days=7\n', "duplicate category code 'a'"),
    ('[[categories]]\ncode="a"\nname_zh="甲"\nname_en="A"\nlead_agency_zh="x"\n'
     '[[categories]]\ncode="b"\nname_zh="乙"\nname_en="B"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[tiers]]\ncode="t"\nname_zh="t"\nname_en="t"\ndeadline_days=7\n', "categories\\[0\\]: missing key 'lead_agency_en'"),
    ('[[categories]]\ncode="a"\nname_zh="甲"\nname_en="A"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[categories]]\ncode="B"\nname_zh="乙"\nname_en="B"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[tiers]]\ncode="t"\nname_zh="t"\nname_en="t"\ndeadline_days=7\n', "code 'B' must be lower-case"),
    ('[[categories]]\ncode="a"\nname_zh="甲"\nname_en="A"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[categories]]\ncode="b"\nname_zh="乙"\nname_en="B"\nlead_agency_zh="x"\nlead_agency_en="x"\n'
     '[[tiers]]\ncode="t"\nname_zh="t"\nname_en="t"\ndeadline_days="7"\n', "'deadline_days' must be int, found str"),
    ("not = [valid", "is not valid UTF-8 TOML"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_taxonomy_files_are_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(path)


def test_missing_taxonomy_file(tmp_path):
    with pytest.raises(TaxonomyError, match="taxonomy file not found"):
        load_taxonomy(tmp_path / "nope.toml")


def test_a_station_adds_and_renames_a_category_without_code_change(tmp_path):
    """Edit the data files only: rename tax, split a new 'labour' category off, retrain."""
    import pandas as pd

    from triage.train import train_from_data

    data = make_small_data(tmp_path / "data", per_category=30)
    toml = (data / "taxonomy.toml").read_text(encoding="utf-8").replace('name_zh = "税收与税改"', 'name_zh = "财税"')
    toml += ('\n[[categories]]\ncode = "labour"\nname_zh = "用工"\nname_en = "Labour"\n'
             'lead_agency_zh = "区人力资源和社会保障局"\nlead_agency_en = "District Human Resources Bureau"\n')
    (data / "taxonomy.toml").write_text(toml, encoding="utf-8")
    labour = ["工人社保断缴了三个月，老板说资金紧张", "招不到普工，春节后一半人没回来", "车间工人要求涨工资，不然就走",
              "外地工人孩子上学难，留不住人", "劳务派遣的工人出了工伤，责任谁担", "工人加班费怎么算，大家有争议",
              "夜班工人没有宿舍，只能租村里的房子", "用工旺季缺人，淡季又养不起", "老工人到了退休年龄还想干，合同怎么签",
              "新招的学徒干两个月就走，培训白搭"]
    corpus = pd.read_csv(data / "corpus.csv", dtype=str)
    extra = pd.DataFrame({"id": [f"lab-{i}" for i in range(len(labour))], "text": labour,
                          "category": "labour", "tier": ["transfer", "on_site"] * 5})
    pd.concat([corpus, extra]).to_csv(data / "corpus.csv", index=False)
    model, folder = train_from_data(data, tmp_path / "models", **FAST)
    assert "labour" in model.categories_
    assert model.taxonomy.category("tax").name_zh == "财税"
    assert model.taxonomy.category("labour").lead_agency_zh == "区人力资源和社会保障局"
    assert load_taxonomy(DATA / "taxonomy.toml").category("tax").name_zh == "税收与税改"


# ------------------------------------------------------------- subtopics and out-of-scope kinds
def test_the_shipped_taxonomy_has_subtopics_under_every_category_and_seven_kinds():
    from triage.taxonomy import load_taxonomy

    tax = load_taxonomy(DATA / "taxonomy.toml")
    for code in tax.category_codes:
        assert sum(s.category == code for s in tax.subtopics) >= 12, code
    assert tax.kind_codes == ["labour_wages", "environment_residents", "public_order_safety", "social_services",
                              "personal_family", "congress_deputies", "greetings_chitchat"]
    wage = tax.kind("labour_wages")
    assert (wage.tier, wage.referral_zh) == ("on_site", "区人社局劳动保障监察大队")
    assert tax.subtopic("tax_export_refund").category == "tax"


@pytest.mark.parametrize("extra, message", [
    ('[[subtopics]]\ncode = "x1"\ncategory = "nope"\nname_zh = "甲"\nname_en = "A"\n',
     r"subtopics\[0\]: category 'nope' is not a category code"),
    ('[[subtopics]]\ncode = "tax"\ncategory = "tax"\nname_zh = "甲"\nname_en = "A"\n', r"codes \['tax'\] are used twice"),
    ('[[out_of_scope]]\ncode = "wages"\nname_zh = "工资"\nname_en = "Wages"\ntier = "urgent"\nreferral_zh = "甲"\n'
     'referral_en = "A"\n', r"out_of_scope\[0\]: tier 'urgent' is not a tier code"),
    ('[[out_of_scope]]\ncode = "wages"\nname_zh = "工资"\nname_en = "Wages"\ntier = "on_site"\n',
     r"out_of_scope\[0\]: missing key 'referral_zh'"),
])
def test_bad_subtopics_and_kinds_are_refused_naming_the_entry(tmp_path, extra, message):
    from triage.errors import TaxonomyError
    from triage.taxonomy import load_taxonomy

    text = (DATA / "taxonomy.toml").read_text("utf-8").split("\n[[subtopics]]")[0] + "\n" + extra
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(path)


def test_routing_uses_the_subtopic_agency_and_refers_an_out_of_scope_kind():
    from triage.routing import route
    from triage.taxonomy import load_taxonomy

    tax = load_taxonomy(DATA / "taxonomy.toml")
    export = tax.subtopic("tax_export_refund")
    assert export.lead_agency_zh and export.lead_agency_zh != "区税务局"
    assert route(tax, "tax", "transfer", subtopic="tax_export_refund").lead_agency == export.lead_agency_zh
    assert route(tax, "tax", "transfer", subtopic="tax_input_credit").lead_agency == "区税务局"  # none of its own
    assert route(tax, "tax", "transfer").lead_agency == "区税务局"
    wage = route(tax, None, "on_site", "2026-03-02", kind="labour_wages")
    assert (wage.lead_agency, wage.deadline_days) == ("区人社局劳动保障监察大队", 7)
