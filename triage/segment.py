"""Word segmentation with jieba behind a small picklable class.

``Segmenter`` keeps its user dictionary and stop words as plain data, so a saved model
carries them and does not depend on files beside it. The cutter (which holds jieba's
dictionary and cannot be pickled) is built once per process and per user dictionary, and
is never part of the pickled state.

Two interchangeable cutters: ``rjieba`` (the Rust jieba-rs, about 15 times faster and
ready in a fraction of a second) when it is installed, else plain ``jieba``. They give the
same tokens: a text holding a character that jieba-rs counts as Chinese and jieba does not
is split into blocks exactly as jieba splits it, and ``tests/test_segment_parity.py``
checks both on the corpus and on awkward text. ``TRIAGE_SEGMENTER=jieba`` forces plain jieba.

One deliberate difference from the jieba library itself: when a user-dictionary word is
already in jieba's dictionary, jieba adds its new frequency to the dictionary's total
without taking the old one out; jieba-rs replaces it. Both cutters here follow jieba-rs
(the total moves by about 0.03% for the station's dictionary; it changes the cut of a
rare phrase such as 欺负人).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from pathlib import Path
from typing import Iterable

from triage.errors import InputError
from triage.text import mask, mask_names, normalise, strip_placeholders, to_simplified

BACKENDS = ("rjieba", "jieba")
_CUTTERS: dict[tuple[str, str], object] = {}
_CUTTERS_LOCK = threading.Lock()

# A token made only of punctuation, symbols or digits carries no topic.
_NOISE = re.compile(r"^[\W\d_]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")
# jieba's own block splitter (jieba.re_han_default): only these blocks go through the dictionary;
# any other character is a token by itself. jieba-rs counts a few more characters as Chinese
# (_DISPUTED: CJK extension A, U+9FD6-U+9FFF, compatibility ideographs, the supplementary
# planes); a text holding one is split with jieba's expression before it goes to rjieba.
_HAN_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_DISPUTED = re.compile("[\u3400-\u4DBF\u9FD6-\u9FFF\uF900-\uFAFF\U00020000-\U0003FFFF]")
# Every pattern of triage.text's number masks needs a digit or an @ (tests/triage/test_segment_parity.py
# checks it): a text with neither has only names to mask.
_MAYBE_PERSONAL = re.compile(r"[\d@]")
_MEMO_SIZE = 300_000  # distinct raw tokens remembered per segmenter


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


def default_backend() -> str:
    """``rjieba`` when it can be imported (and ``TRIAGE_SEGMENTER`` does not say ``jieba``), else ``jieba``."""
    wanted = os.environ.get("TRIAGE_SEGMENTER", "").strip().lower()
    if wanted == "jieba":
        return "jieba"
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return "jieba"
    return "rjieba"


def _cutter(userdict: tuple, backend: str):
    """``cut(block) -> list[str]`` (precise mode, no HMM) with the user dictionary added;
    one per process, user dictionary and backend."""
    key = (backend, hashlib.sha256(repr(userdict).encode("utf-8")).hexdigest())
    cut = _CUTTERS.get(key)
    if cut is not None:
        return cut
    with _CUTTERS_LOCK:
        cut = _CUTTERS.get(key)
        if cut is None:
            if backend == "rjieba":
                import rjieba

                tok = rjieba.Jieba()
                for word, freq, tag in userdict:
                    tok.add_word(word, freq, tag)
                cut = _bind_rjieba(tok)
            elif backend == "jieba":
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                for word, freq, tag in userdict:
                    old = (tok.FREQ.get(word) or 0) if freq else 0
                    tok.add_word(word, freq, tag)
                    tok.total -= old  # see the module docstring: the total as jieba-rs keeps it
                cut = _bind_jieba(tok)
            else:
                raise ValueError(f"unknown segmenter backend {backend!r}; expected one of {BACKENDS}")
            _CUTTERS[key] = cut
    return cut


def _bind_rjieba(tok):
    fn = tok.cut

    def cut(block: str) -> list[str]:
        return fn(block, False)  # cut(text, hmm)

    return cut


def _bind_jieba(tok):
    fn = tok.lcut

    def cut(block: str) -> list[str]:
        return fn(block, HMM=False)  # lcut(text, cut_all=False, HMM=True)

    return cut


class Segmenter:
    """Turn a text into a list of tokens: normalise, mask personal data, cut with jieba
    (precise mode, no HMM, the user dictionary added), drop stop words, punctuation and
    bare numbers, lower-case Latin letters, read a lexicon variant as its canonical word
    (``synonyms``: variant -> canonical, see ``triage.lexicon``).

    presegmented: ``True`` when texts arrive already segmented (tokens separated by
    spaces; they are then only split), ``False`` to always run jieba, ``"auto"`` (default)
    to decide per text: a text whose space-separated pieces are mostly short CJK words is
    taken as pre-segmented.

    backend: ``None`` (default: rjieba if installed, else jieba; see ``default_backend``),
    ``"rjieba"`` or ``"jieba"``. Not part of the pickled state: both give the same tokens.
    """

    def __init__(self, userdict: Iterable = (), stopwords: Iterable[str] = (), presegmented="auto",
                 backend: str | None = None, synonyms: dict | Iterable = ()):
        if presegmented not in (True, False, "auto"):
            raise ValueError(f"presegmented must be True, False or 'auto', found {presegmented!r}")
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS} or None, found {backend!r}")
        self.userdict = tuple(tuple(e) for e in userdict)
        self.stopwords = frozenset(stopwords)
        self.presegmented = presegmented
        self.backend = backend
        self.synonyms = dict(synonyms)
        self._cut = None
        self._memo = {}

    @classmethod
    def from_files(cls, userdict_path=None, stopwords_path=None, presegmented="auto", backend=None) -> "Segmenter":
        return cls(
            read_userdict(userdict_path) if userdict_path else (),
            read_stopwords(stopwords_path) if stopwords_path else (),
            presegmented,
            backend,
        )

    # pickling: plain data only
    def __getstate__(self):
        state = {"userdict": self.userdict, "stopwords": sorted(self.stopwords), "presegmented": self.presegmented}
        if self.synonyms:  # a segmenter without a lexicon keeps the state it always had
            state["synonyms"] = sorted(self.synonyms.items())
        return state

    def __setstate__(self, state):
        self.userdict = tuple(tuple(e) for e in state["userdict"])
        self.stopwords = frozenset(state["stopwords"])
        self.presegmented = state["presegmented"]
        self.synonyms = {str(k): str(v) for k, v in state.get("synonyms", [])}
        self.backend = None
        self._cut = None
        self._memo = {}

    def __eq__(self, other):
        return isinstance(other, Segmenter) and self.__getstate__() == other.__getstate__()

    def __hash__(self):
        return hash((self.userdict, self.presegmented))

    def __repr__(self):
        return (
            f"Segmenter(userdict=<{len(self.userdict)} words>, stopwords=<{len(self.stopwords)} words>, "
            f"presegmented={self.presegmented!r}" + (f", synonyms=<{len(self.synonyms)} variants>)" if self.synonyms
                                                     else ")")
        )

    @property
    def backend_in_use(self) -> str:
        """The cutter this segmenter uses. rjieba only with a user dictionary whose entries all
        give a frequency (jieba guesses a missing one in its own way)."""
        backend = self.backend or default_backend()
        if backend == "rjieba" and not all(isinstance(f, int) and f > 0 for _, f, _ in self.userdict):
            return "jieba"
        return backend

    def _cutter(self):
        cut = self._cut
        if cut is None:
            backend = self.backend_in_use
            self._rjieba = backend == "rjieba"
            cut = self._cut = _cutter(self.userdict, backend)
        return cut

    def warm_up(self) -> "Segmenter":
        """Load the dictionary and the user dictionary now rather than on first use."""
        self._cutter()("胶合板")
        return self

    def _is_presegmented(self, pieces: list[str]) -> bool:
        if self.presegmented != "auto":
            return bool(self.presegmented)
        if len(pieces) < 4:
            return False
        cjk = [p for p in pieces if _CJK.search(p)]
        return len(cjk) >= 0.6 * len(pieces) and sum(map(len, cjk)) <= 4 * len(cjk)

    def tokens(self, text: object) -> list[str]:
        text = to_simplified(normalise(text))  # traditional script read as simplified
        # full names always (they need no digit); the other masks only where a digit or an @ is
        text = mask(text) if _MAYBE_PERSONAL.search(text) else mask_names(text)
        text = strip_placeholders(text)
        pieces = text.split()
        if not pieces:
            return []
        words = pieces if self._is_presegmented(pieces) else self._cut_text(text)
        kept = list(map(self._memo.get, words))  # what each raw word gives, remembered
        if None in kept:
            kept = [self._keep(w) if k is None else k for w, k in zip(words, kept)]
        return list(filter(None, kept))

    def _keep(self, word: str) -> str:
        """The token a raw word gives: lower-cased, a lexicon variant read as its canonical word,
        or "" for a stop word, punctuation or a bare number."""
        w = word.strip().lower()
        w = self.synonyms.get(w, w)
        kept = w if w and w not in self.stopwords and not _NOISE.match(w) else ""
        if len(self._memo) < _MEMO_SIZE:
            self._memo[word] = kept
        return kept

    def _cut_text(self, text: str) -> list[str]:
        """Cut a whole text (white space comes back as tokens of its own, dropped later)."""
        cut = self._cutter()
        if not self._rjieba or not _DISPUTED.search(text):
            return cut(text)
        words = []
        for piece in text.split():
            # split() with a capturing group alternates: other text, a Chinese block, other text...
            for i, block in enumerate(_HAN_BLOCK.split(piece)):
                if i % 2:
                    words += cut(block)
                elif block:
                    words += block  # any other character is a token by itself, as in jieba
        return words

    def join(self, texts: Iterable[object]) -> list[str]:
        """Segment many texts; each becomes its tokens joined by single spaces."""
        tokens = self.tokens
        return [" ".join(tokens(t)) for t in texts]
