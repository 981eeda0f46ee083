"""A station's data folder: the one place that knows its files and loads them.

``DataFolder`` reads the taxonomy, the labelled corpus merged with the deputies'
corrections, the lexicons (user dictionary, stop words, off-topic texts) and the hashes
of the files; ``triage train``, the notebooks' analysis and the model comparison all load
a data folder through it. ``FILES`` is the list of its files.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from triage import paths
from triage.errors import InputError
from triage.files.hashing import sha256_files
from triage.taxonomy import Taxonomy, load_taxonomy
from triage.text import normalise

CORPUS_COLUMNS = ("id", "text", "category", "tier")
OPTIONAL_COLUMNS = ("subtopic",)  # empty or absent: the opinion has no subtopic
OUT_OF_SCOPE_COLUMNS = ("id", "text", "kind")
# every file of a data folder that a model is trained from, in the order they are hashed
FILES = ("taxonomy.toml", "corpus.csv", "corrections.csv", "userdict.txt", "stopwords.txt", "offtopic.txt",
         "out_of_scope.csv", "lexicon.toml")
LABELLED = ("corpus.csv", "corrections.csv")


def read_labelled(path: str | Path, taxonomy: Taxonomy, what: str = "corpus") -> pd.DataFrame:
    """Read a labelled CSV (columns id, text, category, tier, and optionally subtopic) and check
    every row (a subtopic must be one of the taxonomy's, under the row's category).

    All problems are reported at once, each with its line number."""
    path = Path(path)
    return check_labelled(read_table(path, what), taxonomy, f"{what} file {path}")


def read_table(path: str | Path, what: str) -> pd.DataFrame:
    """A UTF-8 CSV of a data folder (or a labelled file) as text columns; ``InputError`` naming
    ``what`` when it is missing or unreadable."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} file not found: {path}") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{what} file {path} is not a readable UTF-8 CSV: {exc}") from None


def check_labelled(df: pd.DataFrame, taxonomy: Taxonomy, what: str, lines=None) -> pd.DataFrame:
    """The checks of ``read_labelled`` on a frame already read (``lines``: each row's line in
    its file, default 2, 3, ...)."""
    missing = [c for c in CORPUS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{what}: expected columns {list(CORPUS_COLUMNS)}, missing {missing}; "
                         f"found {list(df.columns)}")
    problems = []
    cats, tiers = set(taxonomy.category_codes), set(taxonomy.tier_codes)
    if "subtopic" not in df.columns:
        df["subtopic"] = ""
    owner = taxonomy.subtopic_owner
    lines = list(lines) if lines is not None else list(range(2, len(df) + 2))
    for i, sub, cat in zip(lines, df["subtopic"], df["category"]):
        if sub and owner.get(sub) != cat and cat in cats:
            problems.append(f"line {i}: subtopic {sub!r} does not belong to category {cat!r} (its subtopics: "
                            f"{sorted(k for k, v in owner.items() if v == cat)})")
    for i, row in zip(lines, df.itertuples(index=False)):  # line 1 is the header
        if not normalise(row.text):
            problems.append(f"line {i}: empty text")
        if row.category not in cats:
            problems.append(f"line {i}: category {row.category!r} is not one of {sorted(cats)}")
        if row.tier not in tiers:
            problems.append(f"line {i}: tier {row.tier!r} is not one of {sorted(tiers)}")
    dup = df["id"][df["id"].duplicated()]
    problems += [f"duplicate id {v!r}" for v in dup.unique()[:10]]
    refuse_rows(what, problems)
    return df[list(CORPUS_COLUMNS + OPTIONAL_COLUMNS)].copy()


def refuse_rows(what: str, problems: list[str]) -> None:
    """Raise one ``InputError`` naming every bad row of a file (the first ten, and how many more)."""
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InputError(f"{what}: {len(problems)} bad rows: " + "; ".join(problems[:10]) + more)


def read_out_of_scope(path: str | Path, taxonomy: Taxonomy) -> pd.DataFrame:
    """Read ``out_of_scope.csv`` (columns id, text, kind): texts that are no enterprise opinion,
    each with one of the taxonomy's out-of-scope kinds. All bad rows are reported at once."""
    path = Path(path)
    df = read_table(path, "out-of-scope")
    missing = [c for c in OUT_OF_SCOPE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"out-of-scope file {path.name}: expected columns {list(OUT_OF_SCOPE_COLUMNS)}, "
                         f"missing {missing}; found {list(df.columns)}")
    kinds = set(taxonomy.kind_codes)
    problems = [f"line {i}: empty text" for i, t in enumerate(df["text"], start=2) if not normalise(t)]
    problems += [f"line {i}: kind {k!r} is not one of {sorted(kinds)}" for i, k in enumerate(df["kind"], start=2)
                 if k not in kinds]
    problems += [f"duplicate id {v!r}" for v in df["id"][df["id"].duplicated()].unique()[:10]]
    refuse_rows(f"out-of-scope file {path.name}", problems)
    return df[list(OUT_OF_SCOPE_COLUMNS)].copy()


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
    if "subtopic" in merged.columns:
        merged["subtopic"] = merged["subtopic"].fillna("")
    return merged, len(corrections)


def read_lines(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class LabelledData:
    """What a model is trained on: the corpus merged with the corrections (``frame``: id,
    text, category, tier, and per row its ``source``, "corpus" or "correction", and its label
    in the corpus, ``base_category``/``base_tier``, empty for a text only in the
    corrections), the off-topic texts, and the SHA-256 of the folder's files (one digest over
    all and each file's own)."""
    folder: Path
    taxonomy: Taxonomy
    frame: pd.DataFrame
    offtopic: list[str]
    file_hashes: dict[str, str]
    sha256: str
    n_corpus: int
    kinds: list | None = None  # the out-of-scope kind of each off-topic text (None: not known)

    @property
    def n_corrections(self) -> int:
        return int((self.frame["source"] == "correction").sum())

    def card(self) -> dict:
        """The ``data`` section of a model card."""
        return {"sha256": self.sha256, "files": self.file_hashes, "n_rows": int(len(self.frame)),
                "n_corpus": self.n_corpus, "n_corrections": self.n_corrections}


class DataFolder:
    """A data folder (default: the bundled ``data/``, or ``TRIAGE_DATA_DIR``); see ``FILES``.

    Nothing is read until asked for, and every call reads the files again (a notebook may
    change them between two calls)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else paths.data_dir()

    def __repr__(self) -> str:
        return f"DataFolder({self.path.name!r})"

    def file(self, name: str) -> Path:
        if name not in FILES:
            raise ValueError(f"expected one of the data files {list(FILES)}, found {name!r}")
        return self.path / name

    def present(self) -> list[Path]:
        """The data files the folder holds, in the order of ``FILES``."""
        return [self.path / n for n in FILES if (self.path / n).is_file()]

    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(self.file("taxonomy.toml"))

    def corpus(self, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
        return read_labelled(self.file("corpus.csv"), taxonomy or self.taxonomy())

    def corrections(self, taxonomy: Taxonomy | None = None) -> pd.DataFrame | None:
        """The corrections, or ``None`` when the folder has none."""
        path = self.file("corrections.csv")
        return read_labelled(path, taxonomy or self.taxonomy(), "corrections") if path.is_file() else None

    def offtopic(self) -> list[str]:
        """Texts of no category: the lines of ``offtopic.txt`` (kind unknown), then the texts of
        ``out_of_scope.csv``."""
        return self.out_of_scope()[0]

    def out_of_scope(self, taxonomy: Taxonomy | None = None) -> tuple[list[str], list]:
        """(texts, kinds) of no category: ``offtopic.txt`` lines (kind None), then
        ``out_of_scope.csv`` rows with their kinds."""
        texts = read_lines(self.file("offtopic.txt"))
        kinds: list = [None] * len(texts)
        path = self.file("out_of_scope.csv")
        if path.is_file():
            frame = read_out_of_scope(path, taxonomy or self.taxonomy())
            texts += frame["text"].tolist()
            kinds += frame["kind"].tolist()
        return texts, kinds

    def segmenter(self, lexicon: bool = False):
        """A ``Segmenter`` with the folder's user dictionary and stop words (where present), and
        with ``lexicon`` its lexicon (``lexicon.toml``: its variants join the user dictionary and
        are read as their canonical words)."""
        from triage.lexicon import dictionary_entries, read_lexicon, synonyms
        from triage.segment import Segmenter, read_stopwords, read_userdict

        userdict, stopwords = self.file("userdict.txt"), self.file("stopwords.txt")
        words = read_userdict(userdict) if userdict.is_file() else ()
        concepts = read_lexicon(self.file("lexicon.toml")) if lexicon and self.file("lexicon.toml").is_file() else ()
        return Segmenter(tuple(words) + tuple(dictionary_entries(concepts, (w for w, _, _ in words))),
                         read_stopwords(stopwords) if stopwords.is_file() else (), synonyms=synonyms(concepts))

    def hashes(self) -> tuple[str, dict[str, str]]:
        """One SHA-256 over the files present and each file's own (as a model card records them)."""
        return sha256_files(self.present())

    def load(self) -> LabelledData:
        """The training data: the corpus merged with the corrections as ``triage train``
        merges them (``merge_corrections``), each row marked with its source and its corpus label."""
        taxonomy = self.taxonomy()
        corpus, corrections = self.corpus(taxonomy), self.corrections(taxonomy)
        frame, _ = merge_corrections(corpus, corrections)
        key = frame["text"].map(normalise)
        ckeys = set(corrections["text"].map(normalise)) if corrections is not None else set()
        base: dict = {}
        for k, c, t in zip(corpus["text"].map(normalise), corpus["category"], corpus["tier"]):
            base.setdefault(k, (c, t))
        frame = frame.assign(source=np.where(key.isin(ckeys), "correction", "corpus"),
                             base_category=[base.get(k, (None, None))[0] for k in key],
                             base_tier=[base.get(k, (None, None))[1] for k in key]).reset_index(drop=True)
        digest, each = self.hashes()
        off, kinds = self.out_of_scope(taxonomy)
        return LabelledData(self.path, taxonomy, frame, off, each, digest, int(len(corpus)), kinds)
