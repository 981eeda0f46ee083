"""The fast segmenter (rjieba, jieba-rs) gives exactly the tokens of plain jieba with the
same settings, so either can back ``Segmenter``. The Teddy Cup texts (outside the
repository) are checked by ``benchmarks/teddy2020c.py``, which reports it in its JSON."""
import re

import pandas as pd
import pytest

from tests.conftest import DATA, FIXTURES, SAMPLE
from triage import segment
from triage.segment import Segmenter, default_backend
from triage.text import _MASKS, mask

AWKWARD = [
    "",
    "   ",
    "胶合板",
    "abc.def_1.5%胶合板-厂#1&2+3 C++ c# 3.14 50% 1-2",
    "ｆｕｌｌ　ｗｉｄｔｈ 胶合板１２３",
    "𠀀𠀁胶合板㐀木材﨎豈税",  # CJK extension B and A, compatibility ideographs
    "胶合板\u9fd6\u9fff木材",  # Unicode 8+ ideographs that jieba does not count as Chinese
    "欺负人太欺负人了",  # a dictionary word whose frequency the user dictionary does not touch
    "生态板生态板生态板" * 50,
    "E0级板材、ENF级、FSC认证、CARB P2 认证怎么办？",
    "电话：13812345678，邮箱 a@b.cn，身份证 11010119900307457X",
    "🙂🙂 emoji 胶合板 😀",
    "城乡 建设 小区 电梯 故障 维修 资金 申请",  # pre-segmented
    "العربية 한국어 日本語のテキスト русский",
    "\u200b零宽\u202e反向",
]


def texts_of_the_repository() -> list[str]:
    corpus = pd.read_csv(DATA / "corpus.csv", dtype=str, keep_default_na=False)["text"].tolist()
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)["text"].tolist()
    other = pd.read_csv(DATA / "out_of_scope.csv", dtype=str, keep_default_na=False)["text"].tolist()
    other += (FIXTURES / "offtopic_heldout.txt").read_text("utf-8").splitlines()
    paraphrases = pd.read_csv(FIXTURES / "paraphrases.csv", dtype=str, keep_default_na=False)
    words = [l.split()[0] for l in (DATA / "userdict.txt").read_text("utf-8").splitlines() if l.strip()]
    return corpus + sample + other + [t for c in paraphrases.columns for t in paraphrases[c]] + words + AWKWARD


@pytest.fixture(scope="module")
def pair():
    return tuple(Segmenter.from_files(DATA / "userdict.txt", DATA / "stopwords.txt", backend=b).warm_up()
                 for b in ("jieba", "rjieba"))


def test_rjieba_is_installed_and_the_default():
    assert default_backend() == "rjieba"
    assert Segmenter.from_files(DATA / "userdict.txt").backend_in_use == "rjieba"


def test_same_tokens_on_every_text_of_the_repository(pair):
    slow, fast = pair
    texts = texts_of_the_repository()
    assert len(texts) > 2000
    differ = [i for i, t in enumerate(texts) if slow.tokens(t) != fast.tokens(t)]
    assert differ == []


@pytest.mark.parametrize("text", AWKWARD)
def test_same_tokens_on_awkward_text(pair, text):
    slow, fast = pair
    assert fast.tokens(text) == slow.tokens(text)


def test_same_tokens_without_user_dictionary_and_stop_words():
    slow, fast = Segmenter(backend="jieba"), Segmenter(backend="rjieba")
    for text in texts_of_the_repository()[:400] + AWKWARD:
        assert fast.tokens(text) == slow.tokens(text)


def test_a_user_dictionary_without_frequencies_falls_back_to_jieba():
    seg = Segmenter([("胶合板", None, None), ("生态板", 300, "n")])
    assert seg.backend_in_use == "jieba"
    assert "胶合板" in seg.tokens("我们的胶合板卖不动")


def test_without_rjieba_plain_jieba_is_used(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_rjieba(name, *args, **kwargs):
        if name == "rjieba":
            raise ImportError("no rjieba here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rjieba)
    assert default_backend() == "jieba"
    assert Segmenter().backend_in_use == "jieba"


def test_the_environment_can_force_plain_jieba(monkeypatch):
    monkeypatch.setenv("TRIAGE_SEGMENTER", "jieba")
    assert default_backend() == "jieba"


def test_backend_is_not_part_of_the_pickled_state():
    import pickle

    fast = Segmenter.from_files(DATA / "userdict.txt", backend="rjieba")
    again = pickle.loads(pickle.dumps(fast))
    assert again == fast and again.backend is None


# ``Segmenter.tokens`` skips the number masks (not the name masks) for a text without a digit or
# an @: that is only right
# while every masking pattern needs one of them.
def test_every_masking_pattern_needs_a_digit_or_an_at_sign():
    for kind, pattern in _MASKS:
        assert r"\d" in pattern.pattern or "@" in pattern.pattern, kind


def test_masking_leaves_text_without_digits_or_at_sign_alone():
    for text in texts_of_the_repository():
        plain = re.sub(r"[\d@]", "", text)
        assert segment._MAYBE_PERSONAL.search(plain) is None
        assert mask(plain, names=False) == plain
