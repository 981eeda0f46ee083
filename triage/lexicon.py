"""The domain lexicon: concepts with their variants (synonyms, colloquial forms, regional words,
pinyin-input typos), kept as data in ``data/lexicon.toml`` for analysts to edit.

Each variant is read as its concept's canonical word: the segmenter cuts a variant as one word
(it joins the user dictionary) and gives the canonical word as its token, so 带款, 贷个款 and
贷款 are one feature, and the screening compares them as the same word. The mapping costs
nothing per text: the segmenter remembers what each raw word gives.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from triage.errors import InputError

VARIANT_FREQ = 3000  # the user-dictionary frequency of a variant: high enough to be cut as one word


@dataclass(frozen=True)
class Concept:
    canonical: str
    variants: tuple[str, ...]
    kind: str = ""
    note: str = ""


def read_lexicon(path: str | Path) -> tuple[Concept, ...]:
    """Read and check a lexicon file; a bad entry raises ``InputError`` naming it."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"lexicon {path.name} is not valid UTF-8 TOML: {exc}") from None
    entries = raw.get("concepts", [])
    if not isinstance(entries, list):
        raise InputError(f"lexicon {path.name}: expected [[concepts]] tables, found {type(entries).__name__}")
    out, owner = [], {}
    for i, e in enumerate(entries):
        where = f"lexicon {path.name}: concepts[{i}]"
        canonical = e.get("canonical") if isinstance(e, dict) else None
        variants = e.get("variants") if isinstance(e, dict) else None
        if not isinstance(canonical, str) or not canonical.strip():
            raise InputError(f"{where}: expected a non-empty 'canonical' word, found {canonical!r}")
        if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
            raise InputError(f"{where}: expected 'variants' as a list of words, found {variants!r}")
        canonical = canonical.strip()
        clean = tuple(dict.fromkeys(v.strip() for v in variants if v.strip() != canonical))
        for v in clean:
            if any(c.isspace() for c in v):
                raise InputError(f"{where}: variant {v!r} holds a space; a variant is one word")
            if v in owner:
                raise InputError(f"{where}: variant {v!r} is already a variant of {owner[v]!r}")
            owner[v] = canonical
        out.append(Concept(canonical, clean, str(e.get("kind", "")), str(e.get("note", ""))))
    canon = {c.canonical for c in out}
    clash = sorted(v for v in owner if v in canon)
    if clash:
        raise InputError(f"lexicon {path.name}: {clash[:5]} are both a canonical word and a variant")
    return tuple(out)


def synonyms(concepts) -> dict[str, str]:
    """variant -> canonical word (lower-cased, as the segmenter's tokens are)."""
    return {v.lower(): c.canonical.lower() for c in concepts for v in c.variants}


def dictionary_entries(concepts, known=()) -> list[tuple[str, int, None]]:
    """User-dictionary entries that make the segmenter cut each variant as one word (those
    not already in ``known``, the words of the user dictionary)."""
    seen = set(known)
    return [(v, VARIANT_FREQ, None) for c in concepts for v in c.variants if v not in seen]
