import math

import pytest

from triage.text import clean, mask, normalise


@pytest.mark.parametrize("raw, expected", [
    ("ＡＢＣ１２３", "ABC123"),                       # full-width letters and digits
    ("胶合板\u3000\u3000价格", "胶合板 价格"),           # ideographic spaces folded
    ("  多个   空格\t和\n换行 ", "多个 空格 和 换行"),
    ("零宽\u200b字符\u202e反向", "零宽字符反向"),        # zero-width and bidi marks dropped
    ("控制\x00字符\x07", "控制字符"),
    ("孤立代理\ud800字符", "孤立代理字符"),
    ("（全角括号）", "(全角括号)"),
    (None, ""),
    (math.nan, ""),
    (123, "123"),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("我手机13812345678，有事打", "我手机[手机号],有事打"),
    ("电话 138-1234-5678", "电话 [手机号]"),
    ("+86 139 1234 5678", "[手机号]"),
    ("１３８１２３４５６７８", "[手机号]"),                       # full-width digits
    ("座机0539-8123456转分机", "座机[电话]转分机"),
    ("电话：8123456", "电话:[电话]"),
    ("身份证号110101199003074578", "身份证号[身份证号]"),
    ("身份证11010119900307457X", "身份证[身份证号]"),
    ("联系邮箱 wang.li@example.com.cn", "联系邮箱 [邮箱]"),
    ("王建国经理让我转告", "王某经理让我转告"),
    ("联系人：刘晓梅", "联系人:刘某"),
    ("订单号202506250017381", "订单号[号码]"),              # any run of 11+ digits is an identifier
    ("编号213812345678", "编号[号码]"),                     # a phone glued to another digit
    ("A13812345678", "A[手机号]"),
])
def test_mask(raw, expected):
    assert clean(raw) == expected


@pytest.mark.parametrize("text", [
    "贷款金额2000000元，年利率4.35%",
    "2025年6月25日走访",
    "纳税服务热线12366一直占线",
    "订单号2025062501",
    "李会计说下周报",                 # a surname with a title is not a full name
])
def test_mask_leaves_ordinary_numbers_and_words(text):
    assert clean(text) == normalise(text)


def test_mask_without_names_keeps_names():
    assert mask("王建国经理 13812345678", names=False) == "王建国经理 [手机号]"


def test_traditional_script_is_read_as_simplified_and_simplified_is_left_alone():
    from triage.text import to_simplified

    assert to_simplified("從林農手裡收的原木開不了發票，進項抵扣不了") == "从林农手里收的原木开不了发票，进项抵扣不了"
    plain = "从林农手里收的原木开不了发票"
    assert to_simplified(plain) is plain  # no traditional-only character: not even copied


def test_the_segmenter_gives_the_same_tokens_for_both_scripts():
    from triage.segment import Segmenter

    seg = Segmenter()
    assert seg.tokens("園區門口的道路坑窪，貨車進出困難") == seg.tokens("园区门口的道路坑洼，货车进出困难")


def test_a_traditional_character_that_gb2312_also_has_is_still_converted():
    from triage.text import to_simplified

    assert to_simplified("以後再說") == "以后再说"   # 說 is not in GB2312
    assert to_simplified("以後") == "以后"          # 後 is: the fast GB2312 path must not miss it
