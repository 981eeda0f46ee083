"""Which encoding a text file is in, as Chinese offices produce them.

- a byte-order mark decides: UTF-8, UTF-16 LE or BE ("Unicode text" from Excel);
- UTF-16 without a mark is recognised by its zero bytes (the ASCII of a table: digits,
  commas, tabs, line ends) and decoded, or refused naming UTF-16;
- a file that is valid UTF-8 is UTF-8;
- otherwise each line is UTF-8 or else GB18030 (a superset of GBK and GB2312, as Excel on
  Chinese Windows saves CSV), which also reads files pasted together from both;
- Big5 (traditional Chinese, from Taiwan or Hong Kong) decodes as GB18030 without an error
  but into gibberish; it is told apart by its double-byte pairs (in GBK text almost all fall in
  the GB2312 block, in Big5 about half do) and decoded as Big5, or refused naming Big5.
"""
from __future__ import annotations

import codecs
import io
import re

from triage.errors import InputError
from triage.files.formats import shown

BY_LINE = "utf-8/gb18030 by line"
BIG5 = "cp950"  # Big5 with the Microsoft extensions Windows writes
_SAMPLE = 1 << 16
_PAIR = re.compile(rb"[\x81-\xfe][\x40-\xfe]")


def detect_encoding(path, name=None) -> str:
    """A codec name for ``open``, or ``BY_LINE``. Raises ``InputError`` naming what was found
    when the file is in none of the encodings above. name: how messages call the file."""
    name = shown(path) if name is None else name
    with open(path, "rb") as fh:
        head = fh.read(_SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if _valid(path, "utf-8") is None else _by_line(path, name)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _checked(path, name, "utf-16", "UTF-16 (it starts with a UTF-16 byte-order mark)")
    wide = _utf16_without_bom(head)
    if wide:
        return _checked(path, name, wide, f"UTF-16 {wide[-2:].upper()} without a byte-order mark")
    if _valid(path, "utf-8") is None:
        return "utf-8-sig"
    return _by_line(path, name)


def _valid(path, codec: str) -> int | None:
    """None when the whole file decodes with ``codec``; else the byte offset of the first error."""
    decoder = codecs.getincrementaldecoder(codec)()
    seen = 0
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
                seen += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return max(0, seen + exc.start)
    return None


def _checked(path, name, codec: str, what: str) -> str:
    bad = _valid(path, codec)
    if bad is not None:
        raise InputError(f"{name}: found {what}, but the bytes at offset {bad} are not valid UTF-16; "
                         f"expected a complete UTF-16 or UTF-8 file")
    return codec


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when zero bytes fill one byte position of the pairs and
    not the other (how ASCII looks in UTF-16); None otherwise."""
    n = len(head) - len(head) % 2
    if n < 4 or b"\x00" not in head:
        return None
    even, odd = head[0:n:2].count(0), head[1:n:2].count(0)  # a CJK character rarely has a zero byte
    if odd >= max(2, n // 100) and even <= odd // 10:
        return "utf-16-le"
    if even >= max(2, n // 100) and odd <= even // 10:
        return "utf-16-be"
    return None


def decode_line(line: bytes, name, lineno: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return line.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: line {lineno}: expected text in UTF-8, GBK/GB18030, Big5 or UTF-16, "
                             f"found undecodable bytes at column {exc.start + 1}") from None


def _by_line(path, name) -> str:
    """``BY_LINE`` when every line decodes as UTF-8 or GB18030 and the GB18030 ones look like
    GBK; ``BIG5`` when they look like Big5 and the file decodes as Big5."""
    pairs = inside = 0
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                line.decode("utf-8")
                continue
            except UnicodeDecodeError:
                pass
            if pairs < 50_000:
                found = _PAIR.findall(line)
                pairs += len(found)
                inside += sum(1 for p in found if 0xA1 <= p[0] <= 0xF7 and p[1] >= 0xA1)
            try:
                line.decode("gb18030")
            except UnicodeDecodeError:
                if pairs >= 4 and inside < 0.9 * pairs:
                    break  # looks like Big5: decided below
                decode_line(line, name, lineno)  # raises, naming the line
    if pairs >= 4 and inside < 0.9 * pairs:
        bad = _valid(path, BIG5)
        if bad is None:
            return BIG5
        if pairs >= 20 and inside < 0.75 * pairs:  # far from GBK, and not Big5 either: refuse, never guess
            raise InputError(f"{name}: expected text in UTF-8 or GBK/GB18030, found bytes that look like Big5 "
                             f"(traditional Chinese) but are not valid Big5 at offset {bad}; save the file as UTF-8")
    return BY_LINE


class ByLineText(io.TextIOBase):
    """A read-only text stream over a binary file, decoding each line on its own."""

    def __init__(self, path, name=None):
        self._name = shown(path) if name is None else name
        self._fh = open(path, "rb")
        self._lineno = 0
        self._buf = ""

    def readable(self):
        return True

    def readline(self, size=-1):
        if self._buf:
            line, self._buf = self._buf, ""
            return line
        raw = self._fh.readline()
        if not raw:
            return ""
        self._lineno += 1
        text = decode_line(raw, self._name, self._lineno)
        return text[1:] if self._lineno == 1 and text.startswith("\ufeff") else text

    def read(self, size=-1):
        parts, n = [], 0
        while size is None or size < 0 or n < size:
            line = self.readline()
            if not line:
                break
            parts.append(line)
            n += len(line)
        text = "".join(parts)
        if size is not None and 0 <= size < len(text):
            text, self._buf = text[:size], text[size:]
        return text

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        self._fh.close()
        super().close()


def open_text(path, encoding: str, name=None):
    """A text stream of the file in ``encoding`` (from ``detect_encoding``), line ends kept."""
    if encoding == BY_LINE:
        return ByLineText(path, name)
    return open(path, encoding=encoding, newline="")
