import pickle


import pytest

from tests.conftest import DATA
from triage.errors import InputError
from triage.segment import Segmenter, read_userdict


@pytest.fixture(scope="module")
def seg():
    return Segmenter.from_files(DATA / "userdict.txt", DATA / "stopwords.txt")


@pytest.mark.parametrize("word", ["留抵退税", "过桥资金", "生态板", "胶合板", "冷压", "旋切"])
def test_user_dictionary_words_stay_whole(seg, word):
    assert word in seg.tokens(f"我们厂的{word}问题一直没解决")


def test_without_user_dictionary_a_domain_word_is_split():
    assert "留抵退税" not in Segmenter().tokens("我们的留抵退税问题")


def test_stop_words_punctuation_and_numbers_are_dropped(seg):
    tokens = seg.tokens("我们的那个胶合板，2025年，就是！！！")
    assert "的" not in tokens and "我们" not in tokens and "，" not in tokens and "2025" not in tokens
    assert "胶合板" in tokens


def test_personal_data_never_becomes_a_token(seg):
    tokens = seg.tokens("有事打13812345678或者邮件 a@b.cn，身份证110101199003074578")
    assert not any(ch.isdigit() for t in tokens for ch in t)
    assert not any("@" in t for t in tokens)


def test_presegmented_input_is_split_on_spaces(seg):
    text = "城乡 建设 小区 电梯 故障 维修 资金 申请"
    assert seg.tokens(text) == ["城乡", "建设", "小区", "电梯", "故障", "维修", "资金", "申请"]
    forced = Segmenter(presegmented=True)
    assert forced.tokens("胶合板厂 贷款难") == ["胶合板厂", "贷款难"]


def test_ordinary_text_with_a_few_spaces_is_still_cut(seg):
    assert seg.tokens("我们厂的热压机坏了 师傅说要换配件") == ["厂", "热压机", "坏", "师傅", "换", "配件"]


def test_pickle_round_trip_keeps_behaviour_and_holds_no_tokenizer(seg):
    seg.warm_up()
    blob = pickle.dumps(seg)
    assert b"jieba" not in blob
    again = pickle.loads(blob)
    assert again == seg
    text = "过桥资金利息太高，生态板卖不动"
    assert again.tokens(text) == seg.tokens(text)


def test_bad_user_dictionary_line_is_reported(tmp_path):
    bad = tmp_path / "dict.txt"
    bad.write_text("胶合板 2000 n\n单板 很多 n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dict.txt:2: expected 'word \[freq\] \[tag\]'"):
        read_userdict(bad)


def test_presegmented_must_be_valid():
    with pytest.raises(ValueError, match="presegmented"):
        Segmenter(presegmented="yes")


# --- full names are masked before segmentation (issue 12) -------------------------------
NAMED = {"周建华主任反映胶合板厂的留抵退税还没到账": "建华", "联系人：李明辉，贷款到期了": "明辉",
         "陈小梅会计说发票开不了": "小梅"}


@pytest.mark.parametrize("text,given", NAMED.items())
def test_a_full_name_never_becomes_a_token(seg, text, given):
    tokens = Segmenter().tokens(text) + seg.tokens(text)
    assert not [t for t in tokens if set(t) & set(given)]
    assert "某" in tokens  # the surname keeps its placeholder: "周某主任"


def test_a_full_name_never_becomes_an_explanation_term(taxonomy):
    from triage.model.estimator import TriageModel

    tax = ["周建华主任说增值税发票开不了", "周建华主任问留抵退税几时到账", "周建华主任反映税务申报系统登不上",
           "周建华主任说进项抵扣不了税负重", "周建华主任问出口退税进度", "周建华主任说税务稽查太频繁"]
    fin = ["银行贷款到期续贷难", "过桥资金利息太高", "担保公司收费贵贷款批不下来",
           "农商行放款太慢周转不开", "抵押物评估价太低贷不到款", "无还本续贷政策落不了地"]
    model = TriageModel(taxonomy, feature_sets=("word+char",), classifiers=("logreg",), cv=2,
                        review_threshold=0.0, n_terms=20).fit(tax + fin, ["tax"] * 6 + ["financing"] * 6,
                                                                  ["transfer"] * 12)
    cols = model.predict_columns(["周建华主任说发票的事还没解决"], [None], [None], terms_as_text=True)
    assert cols["category"] == ["tax"]
    terms = cols["explanation"][0]
    assert terms and "建" not in terms and "华" not in terms


