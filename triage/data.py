"""The labelled corpus and the deputies' corrections: loading, validation, merging."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from triage.errors import InputError
from triage.taxonomy import Taxonomy
from triage.text import normalise

CORPUS_COLUMNS = ("id", "text", "category", "tier")


def read_labelled(path: str | Path, taxonomy: Taxonomy, what: str = "corpus") -> pd.DataFrame:
    """Read a labelled CSV (columns id, text, category, tier) and check every row.

    All problems are reported at once, each with its line number."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} file not found: {path}") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{what} file {path} is not a readable UTF-8 CSV: {exc}") from None
    missing = [c for c in CORPUS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{what} file {path}: expected columns {list(CORPUS_COLUMNS)}, missing {missing}; "
                         f"found {list(df.columns)}")
    problems = []
    cats, tiers = set(taxonomy.category_codes), set(taxonomy.tier_codes)
    for i, row in enumerate(df.itertuples(index=False), start=2):  # line 1 is the header
        if not normalise(row.text):
            problems.append(f"line {i}: empty text")
        if row.category not in cats:
            problems.append(f"line {i}: category {row.category!r} is not one of {sorted(cats)}")
        if row.tier not in tiers:
            problems.append(f"line {i}: tier {row.tier!r} is not one of {sorted(tiers)}")
    dup = df["id"][df["id"].duplicated()]
    problems += [f"duplicate id {v!r}" for v in dup.unique()[:10]]
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InputError(f"{what} file {path}: {len(problems)} bad rows: " + "; ".join(problems[:10]) + more)
    return df[list(CORPUS_COLUMNS)].copy()


def merge_corrections(corpus: pd.DataFrame, corrections: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """Base corpus plus corrections; a correction of a text already in the corpus (same
    normalised text) replaces its labels. Returns the training frame and how many
    corrections were used."""
    if corrections is None or corrections.empty:
        return corpus.reset_index(drop=True), 0
    key = corpus["text"].map(normalise)
    ckey = corrections["text"].map(normalise)
    corrections = corrections.loc[~ckey.duplicated(keep="last")]
    ckey = corrections["text"].map(normalise)
    base = corpus.loc[~key.isin(set(ckey))]
    merged = pd.concat([base, corrections], ignore_index=True)
    return merged, len(corrections)


def read_lines(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
