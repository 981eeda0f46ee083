"""Word segmentation with jieba behind a small picklable class.

``Segmenter`` keeps its user dictionary and stop words as plain data, so a saved model
carries them and does not depend on files beside it. jieba's tokenizer (which holds a lock
and cannot be pickled) is built lazily once per process and per dictionary, and is never
part of the pickled state.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from pathlib import Path
from typing import Iterable

from .errors import InputError
from .text import mask, normalise, strip_placeholders

_TOKENIZERS: dict[str, object] = {}
_TOKENIZERS_LOCK = threading.Lock()

# A token made only of punctuation, symbols or digits carries no topic.
_NOISE = re.compile(r"^[\W\d_]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def read_userdict(path: str | Path) -> tuple[tuple[str, int | None, str | None], ...]:
    """Read a jieba user dictionary (``word [freq] [tag]`` per line)."""
    entries = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) > 3 or (len(parts) >= 2 and not parts[1].isdigit()):
            raise InputError(f"{path}:{lineno}: expected 'word [freq] [tag]', found {line!r}")
        word = parts[0]
        freq = int(parts[1]) if len(parts) >= 2 else None
        tag = parts[2] if len(parts) == 3 else None
        entries.append((word, freq, tag))
    return tuple(entries)


def read_stopwords(path: str | Path) -> frozenset[str]:
    words = (w.strip() for w in Path(path).read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


def _tokenizer(userdict: tuple) -> object:
    key = hashlib.sha256(repr(userdict).encode("utf-8")).hexdigest()
    tok = _TOKENIZERS.get(key)
    if tok is not None:
        return tok
    with _TOKENIZERS_LOCK:
        tok = _TOKENIZERS.get(key)
        if tok is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for word, freq, tag in userdict:
                tok.add_word(word, freq, tag)
            _TOKENIZERS[key] = tok
    return tok


class Segmenter:
    """Turn a text into a list of tokens: normalise, mask personal data, cut with jieba
    (precise mode, no HMM, the user dictionary added), drop stop words, punctuation and
    bare numbers, lower-case Latin letters.

    presegmented: ``True`` when texts arrive already segmented (tokens separated by
    spaces; they are then only split), ``False`` to always run jieba, ``"auto"`` (default)
    to decide per text: a text whose space-separated pieces are mostly short CJK words is
    taken as pre-segmented.
    """

    def __init__(self, userdict: Iterable = (), stopwords: Iterable[str] = (), presegmented="auto"):
        if presegmented not in (True, False, "auto"):
            raise ValueError(f"presegmented must be True, False or 'auto', found {presegmented!r}")
        self.userdict = tuple(tuple(e) for e in userdict)
        self.stopwords = frozenset(stopwords)
        self.presegmented = presegmented

    @classmethod
    def from_files(cls, userdict_path=None, stopwords_path=None, presegmented="auto") -> "Segmenter":
        return cls(
            read_userdict(userdict_path) if userdict_path else (),
            read_stopwords(stopwords_path) if stopwords_path else (),
            presegmented,
        )

    # pickling: plain data only
    def __getstate__(self):
        return {"userdict": self.userdict, "stopwords": sorted(self.stopwords), "presegmented": self.presegmented}

    def __setstate__(self, state):
        self.userdict = tuple(tuple(e) for e in state["userdict"])
        self.stopwords = frozenset(state["stopwords"])
        self.presegmented = state["presegmented"]

    def __eq__(self, other):
        return isinstance(other, Segmenter) and self.__getstate__() == other.__getstate__()

    def __hash__(self):
        return hash((self.userdict, self.presegmented))

    def __repr__(self):
        return (
            f"Segmenter(userdict=<{len(self.userdict)} words>, stopwords=<{len(self.stopwords)} words>, "
            f"presegmented={self.presegmented!r})"
        )

    def warm_up(self) -> "Segmenter":
        """Load jieba's dictionary and the user dictionary now rather than on first use."""
        _tokenizer(self.userdict).lcut("胶合板", HMM=False)
        return self

    def _is_presegmented(self, pieces: list[str]) -> bool:
        if self.presegmented != "auto":
            return bool(self.presegmented)
        if len(pieces) < 4:
            return False
        cjk = [p for p in pieces if _CJK.search(p)]
        return len(cjk) >= 0.6 * len(pieces) and sum(map(len, cjk)) <= 4 * len(cjk)

    def tokens(self, text: object) -> list[str]:
        text = strip_placeholders(mask(normalise(text), names=False))
        pieces = text.split()
        if not pieces:
            return []
        if self._is_presegmented(pieces):
            words = pieces
        else:
            cut = _tokenizer(self.userdict).lcut
            words = [w for piece in pieces for w in cut(piece, HMM=False)]
        stop = self.stopwords
        out = []
        for w in words:
            w = w.strip().lower()
            if w and w not in stop and not _NOISE.match(w):
                out.append(w)
        return out

    def join(self, texts: Iterable[object]) -> list[str]:
        """Segment many texts; each becomes its tokens joined by single spaces."""
        return [" ".join(self.tokens(t)) for t in texts]
