"""Property-based tests: any Unicode input gives a valid result or a clear error, and
personal numbers never get through masking."""
import re
import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from triage.text import clean, normalise

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

mobiles = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"),
                    st.text(alphabet="0123456789", min_size=9, max_size=9))


@st.composite
def id_numbers(draw):
    region = draw(st.integers(110000, 659999))
    year = draw(st.integers(1930, 2010))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    seq = draw(st.integers(0, 999))
    check = draw(st.sampled_from("0123456789X"))
    return f"{region}{year}{month:02d}{day:02d}{seq:03d}{check}"


@SETTINGS
@given(ANY_TEXT)
@example("\ud800\udfff孤立代理")
@example("\u202e\u200f反向\u0000控制")
@example("🙂" * 50)
def test_normalise_is_total_clean_and_idempotent(text):
    out = normalise(text)
    assert isinstance(out, str)
    assert out == out.strip() and "  " not in out
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in out)
    assert normalise(out) == out


def _normalise_by_the_book(text: str) -> str:
    """What ``normalise`` promises, written plainly: no shortcut before NFKC."""
    from triage.text import _INVISIBLE, _SPACE

    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


WIDE_TEXT = st.text(alphabet=st.one_of(st.sampled_from("，：；！？（）％　～＂＇／－＋＝＜＞［］｛｝｜＠＃＄＆＊＿\u0301\u0308\u3099"),
                                       st.characters(codec=None, exclude_categories=())), max_size=200)


@SETTINGS
@given(WIDE_TEXT)
@example("（１）税负，还是太重！\u0301")
@example("Ａ\u0301，ｶ\u3099")
def test_the_full_width_shortcut_gives_exactly_nfkc(text):
    # full-width punctuation is replaced before NFKC for speed; combining marks after it
    # must still compose exactly as NFKC composes them
    assert normalise(text) == _normalise_by_the_book(text)


@SETTINGS
@given(ANY_TEXT)
@example("联系人王某经理")
@example("联系人：王建国经理，电话13812345678")
def test_masking_twice_changes_nothing(text):
    once = clean(text)
    assert clean(once) == once


@SETTINGS
@given(prefix=ANY_TEXT, number=mobiles, suffix=ANY_TEXT, sep=st.sampled_from(["", " ", "-"]))
def test_no_mobile_number_survives_masking(prefix, number, suffix, sep):
    written = number[:3] + sep + number[3:7] + sep + number[7:]
    out = clean(prefix + written + suffix)
    assert number not in _digits_runs(out)


@SETTINGS
@given(prefix=ANY_TEXT, number=id_numbers(), suffix=ANY_TEXT)
def test_no_id_number_survives_masking(prefix, number, suffix):
    out = clean(prefix + number + suffix)
    assert number[:17] not in _digits_runs(out)


def _digits_runs(text):
    """The text with every separator between digits removed, so '138 1234 5678' reads as one run."""
    return re.sub(r"(?<=\d)[ -](?=\d)", "", text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(ANY_TEXT)
@example("")
@example("，。！？……")
@example("请问食堂几点开饭")
@example("\u200f\u202eمرحبا\u202c")
@example("胶合板" * 33_334)  # 100,000 characters
def test_segmenting_and_predicting_any_text_gives_a_valid_result(shipped, text):
    seg = shipped.category_pipeline_.named_steps["segment"].segmenter
    tokens = seg.tokens(text)
    assert all(t and not any(ch.isspace() for ch in t) for t in tokens)
    p = shipped.predict(text)
    if p.category is None and p.review_reason == "out_of_scope":  # no category: referred, with its kind's tier
        kind = shipped.taxonomy.kind(p.out_of_scope_kind)
        assert p.needs_review and p.subtopic is None and p.tier == kind.tier and p.lead_agency == kind.referral_zh
    elif p.category is None:
        assert p.needs_review and p.review_reason in ("empty_text", "no_usable_words")
    else:
        owner = {s.code: s.category for s in shipped.taxonomy.subtopics}
        assert p.subtopic is None or owner[p.subtopic] == p.category
        assert p.category in shipped.taxonomy.category_codes and p.tier in shipped.taxonomy.tier_codes
        assert 0.0 <= p.category_probability <= 1.0
        assert p.needs_review == (p.review_reason is not None)
    for term in p.explanation:
        assert not re.search(r"1[3-9]\d{9}", term["term"])
