"""Text handling: normalisation, masking of personal data, segmentation.

Order matters and is the same everywhere: ``normalise`` -> ``mask`` -> segment. Masking
happens before segmentation, so a phone or ID number, or a full name before a title or after
an introduction, can never become a feature, an explanation term or a log line.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Control, format, bidi and zero-width characters, lone surrogates and private-use code points.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\ue000-\uf8ff]"
)
_SPACE = re.compile(r"\s+")
# The full-width punctuation of Chinese text, each with its compatibility decomposition
# (NFKD). Replacing a character by its NFKD before NFKC changes nothing in the result (NFKC
# starts by decomposing every character that way), but a text left with none of them passes
# NFKC's quick check and is returned as it is, instead of being decomposed and recomposed
# character by character: normalising a typical opinion takes about a third of the time.
_WIDE = tuple((c, unicodedata.normalize("NFKD", c)) for c in "，：；！？（）％　～＂＇／－＋＝＜＞［］｛｝｜＠＃＄＆＊＿")


def normalise(text: object) -> str:
    """NFKC (full-width letters, digits and spaces become half-width), drop invisible and
    control characters, fold runs of white space into one space, strip.

    ``None`` and NaN become the empty string; any other non-string is converted with ``str``.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        if isinstance(text, float) and text != text:  # NaN from pandas
            return ""
        text = str(text)
    text = _INVISIBLE.sub("", text)  # lone surrogates would make NFKC and encoders fail
    for wide, narrow in _WIDE:  # see _WIDE: only a speed-up, NFKC gives the same either way
        if wide in text:
            text = text.replace(wide, narrow)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)  # NFKC can expose new ones
    return _SPACE.sub(" ", text).strip()


# --- masking ---------------------------------------------------------------------------
PLACEHOLDERS = {
    "email": "[邮箱]",
    "id": "[身份证号]",
    "bank": "[卡号]",
    "mobile": "[手机号]",
    "landline": "[电话]",
    "number": "[号码]",
    "name": "某",
}
_D = r"(?<![0-9])"  # not glued to a longer number
_E = r"(?![0-9])"
_MASKS = [
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")),
    # 18-digit ID (last may be X), optionally written in groups 6-8-4; old 15-digit IDs.
    ("id", re.compile(_D + r"[1-9]\d{5}[ -]?(?:18|19|20)\d{2}[ -]?(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[ -]?\d{3}[\dXx]" + _E)),
    ("id", re.compile(_D + r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + _E)),
    ("bank", re.compile(_D + r"(?:62|4\d|5[1-5])\d{2}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?" + _E)),
    ("mobile", re.compile(_D + r"(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + _E)),
    ("landline", re.compile(_D + r"(?:\(?0\d{2,3}\)?[ -]?)[2-9]\d{6,7}(?:-\d{1,5})?" + _E)),
    ("landline", re.compile(r"(电话|座机|手机|联系|[Tt]el|TEL)([:：是为]?\s*)\d{7,8}" + _E)),
    ("landline", re.compile(_D + r"400[ -]?\d{3}[ -]?\d{4}" + _E)),
    # Any other run of 11 or more digits, single spaces or hyphens allowed between them, is an
    # identifier of some kind (a phone number glued to other digits, an account, a licence):
    # never let it through.
    ("number", re.compile(r"\d(?:[ -]?\d){10,}")),
]
# Most frequent Chinese surnames; a surname followed by a given name and a title or an
# introduction is taken for a person's full name.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_TITLES = (
    "先生|女士|小姐|经理|总经理|董事长|老板|老总|厂长|会计|出纳|主任|书记|师傅|代表|局长|科长|处长|行长|所长|镇长|县长|区长|主管|工程师|总监|同志|委员"
)
_GIVEN = "[\u4e00-\u67cf\u67d1-\u9fff]"  # a CJK character other than 某, so masking twice changes nothing
_NAME_BEFORE_TITLE = re.compile(rf"([{_SURNAMES}]){_GIVEN}{{1,2}}(?=(?:{_TITLES}))")
_NAME_AFTER_INTRO = re.compile(
    rf"(联系人|负责人|我叫|姓名|本人|签名|经办人)([:：是为]?\s*)([{_SURNAMES}]){_GIVEN}{{1,2}}"
)


def mask(text: str, names: bool = True) -> str:
    """Replace personal data with placeholders: e-mail addresses, ID-card and bank-card
    numbers, mobile, landline and hotline numbers, any other run of 11 or more digits,
    and (``names=True``) people's full
    names when they stand before a title or after an introduction ("王建国经理" -> "王某经理").

    Apply to normalised text (``normalise`` first), so full-width digits are already ASCII.
    Name masking is a heuristic: it misses names given without a title or introduction.
    """
    for kind, pattern in _MASKS:
        ph = PLACEHOLDERS[kind]
        if pattern.groups:  # keep the leading context word ("电话:") and mask the number only
            text = pattern.sub(lambda m, ph=ph: "".join(m.groups()) + ph, text)
        else:
            text = pattern.sub(ph, text)
    return mask_names(text) if names else text


def mask_names(text: str) -> str:
    """Only the name part of ``mask``: a full name before a title or after an introduction
    keeps its surname and loses its given name ("周建华主任" -> "周某主任")."""
    text = _NAME_BEFORE_TITLE.sub(lambda m: m.group(1) + PLACEHOLDERS["name"], text)
    return _NAME_AFTER_INTRO.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + PLACEHOLDERS["name"], text)


def clean(text: object, names: bool = True) -> str:
    """``mask(normalise(text))``: what is safe to show in a log line or a report."""
    return mask(normalise(text), names=names)


_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for k, p in PLACEHOLDERS.items() if k != "name"))


def strip_placeholders(text: str) -> str:
    return _PLACEHOLDER_RE.sub(" ", text)


def drop_spaces(text: str) -> str:
    """Segmented text without its spaces: the preprocessor of character n-gram vectorisers,
    so that n-grams run across word boundaries (``triage.model.features``, the screening's
    similarity)."""
    return text.replace(" ", "")


@lru_cache(maxsize=1)
def _traditional():
    """The characters only traditional script uses (a frozenset: testing a text against it costs
    about 2 µs for 80 characters, a regular expression of these 4,099 characters about 27 µs)
    and a traditional-to-simplified converter, both from the OpenCC tables shipped in
    ``opencc-python-reimplemented``; read on first use."""
    import os

    import opencc

    folder = os.path.join(os.path.dirname(opencc.__file__), "dictionary")

    def table(name: str) -> dict[str, str]:
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            return {k: v.split()[0] for k, v in (line.rstrip("\n").split("\t", 1) for line in fh if "\t" in line)}

    simplified = table("STCharacters.txt")  # keys: characters of simplified script
    only = frozenset(k for k, v in table("TSCharacters.txt").items() if len(k) == 1 and k != v and k not in simplified)
    in_gb2312 = re.compile("[" + "".join(sorted(c for c in only if _gb2312(c))) + "]")  # 後 於 乾 ... (14)
    return only, in_gb2312, opencc.OpenCC("t2s")


def _gb2312(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def to_simplified(text: str) -> str:
    """Text in traditional script converted to simplified (OpenCC t2s, phrases first); text
    holding no character that only traditional script uses comes back as it is, untouched.

    Most texts are pure GB2312 (simplified script, 0.35 µs to check) and hold none of the 14
    traditional characters GB2312 also has; only the others are tested character by character."""
    only, in_gb2312, converter = _traditional()
    if _gb2312(text) and not in_gb2312.search(text):
        return text
    return text if only.isdisjoint(text) else converter.convert(text)
