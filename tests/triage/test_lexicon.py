"""The domain lexicon: variants read as their canonical word, before the model sees the text."""
import json

import pytest

from tests.conftest import DATA
from triage.data import DataFolder
from triage.errors import InputError
from triage.lexicon import VARIANT_FREQ, dictionary_entries, read_lexicon, synonyms
from triage.segment import Segmenter
from triage.store.card import segmenter_from_json, segmenter_to_json

LEXICON = """
[[concepts]]
canonical = "贷款"
variants = ["带款", "贷个款", "贷款"]
kind = "typo"

[[concepts]]
canonical = "电子税务局"
variants = ["电子局", "网上税务局"]
"""


def test_a_lexicon_is_read_with_its_variants(tmp_path):
    path = tmp_path / "lexicon.toml"
    path.write_text(LEXICON, encoding="utf-8")
    concepts = read_lexicon(path)
    assert [(c.canonical, c.variants, c.kind) for c in concepts] == [
        ("贷款", ("带款", "贷个款"), "typo"), ("电子税务局", ("电子局", "网上税务局"), "")]
    assert synonyms(concepts) == {"带款": "贷款", "贷个款": "贷款", "电子局": "电子税务局", "网上税务局": "电子税务局"}
    assert dictionary_entries(concepts, known=["电子局"]) == [("带款", VARIANT_FREQ, None), ("贷个款", VARIANT_FREQ, None),
                                                             ("网上税务局", VARIANT_FREQ, None)]


@pytest.mark.parametrize("text, message", [
    ('[[concepts]]\ncanonical = ""\nvariants = ["a"]', r"concepts\[0\]: expected a non-empty 'canonical'"),
    ('[[concepts]]\ncanonical = "贷款"\nvariants = "带款"', r"expected 'variants' as a list of words, found '带款'"),
    ('[[concepts]]\ncanonical = "贷款"\nvariants = ["带 款"]', r"variant '带 款' holds a space"),
    ('[[concepts]]\ncanonical = "贷款"\nvariants = ["带款"]\n[[concepts]]\ncanonical = "借款"\nvariants = ["带款"]',
     r"concepts\[1\]: variant '带款' is already a variant of '贷款'"),
    ('[[concepts]]\ncanonical = "贷款"\nvariants = ["借款"]\n[[concepts]]\ncanonical = "借款"\nvariants = ["借钱"]',
     r"\['借款'\] are both a canonical word and a variant"),
    ("[[concepts]\n", "not valid UTF-8 TOML"),
])
def test_a_bad_lexicon_is_refused_naming_the_entry(tmp_path, text, message):
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_lexicon(path)


def test_the_segmenter_reads_variants_as_the_canonical_word():
    plain = Segmenter([("带款", 3000, None)])
    lexical = Segmenter([("带款", 3000, None)], synonyms={"带款": "贷款"})
    assert "带款" in plain.tokens("想问问带款的事")
    assert lexical.tokens("想问问带款的事") == [t if t != "带款" else "贷款" for t in plain.tokens("想问问带款的事")]
    assert lexical.tokens("带款 到期 续贷 银行 不批") == ["贷款", "到期", "续贷", "银行", "不批"]  # pre-segmented too


def test_synonyms_survive_the_saved_segmenter_and_an_old_one_has_none():
    seg = Segmenter([("带款", 3000, None)], ["的"], synonyms={"带款": "贷款"})
    again = segmenter_from_json(segmenter_to_json(seg))
    assert again == seg and again.synonyms == {"带款": "贷款"}
    old = json.loads(segmenter_to_json(Segmenter([("带款", 3000, None)])))
    assert "synonyms" not in old and segmenter_from_json(json.dumps(old)).synonyms == {}


def test_the_data_folder_gives_its_lexicon_to_the_segmenter_unless_told_not_to():
    folder = DataFolder(DATA)
    concepts = read_lexicon(DATA / "lexicon.toml")
    assert len(concepts) >= 150
    with_lexicon, without = folder.segmenter(lexicon=True), folder.segmenter()
    assert with_lexicon.synonyms == synonyms(concepts) and without.synonyms == {}
    variant, canonical = next((v, c.canonical) for c in concepts for v in c.variants if len(v) >= 3)
    assert canonical.lower() in with_lexicon.tokens(f"企业反映{variant}的问题")
    assert canonical.lower() not in without.tokens(f"企业反映{variant}的问题")
