"""The coverage tables of a data folder's datasheet (``data/README.md``), computed from the files.

    python -m triage.datasheet [DATA_DIR]      # prints the tables as Markdown

Subtopic by tier, style by category, and out-of-scope kind by style: the tables the datasheet
shows, so that every figure in it comes from the data itself.
"""
from __future__ import annotations

import sys

import pandas as pd

from triage.data import DataFolder, read_out_of_scope


def _table(frame: pd.DataFrame, rows: str, cols: str, row_order=None, col_order=None) -> str:
    t = pd.crosstab(frame[rows], frame[cols])
    if row_order is not None:
        t = t.reindex([r for r in row_order if r in t.index])
    if col_order is not None:
        t = t.reindex(columns=[c for c in col_order if c in t.columns])
    t["total"] = t.sum(axis=1)
    head = f"| {rows} | " + " | ".join(map(str, t.columns)) + " |"
    rule = "|---|" + "---:|" * len(t.columns)
    body = [f"| {i} | " + " | ".join(str(int(v)) for v in row) + " |" for i, row in zip(t.index, t.to_numpy())]
    total = "| **all** | " + " | ".join(str(int(v)) for v in t.sum(axis=0)) + " |"
    return "\n".join([head, rule, *body, total])


def coverage(data_dir=None) -> str:
    """The datasheet's coverage tables of a data folder, as Markdown."""
    folder = DataFolder(data_dir)
    taxonomy = folder.taxonomy()
    corpus = pd.read_csv(folder.file("corpus.csv"), dtype=str, keep_default_na=False)
    folder.corpus(taxonomy)  # the same checks as training
    parts = [f"In-scope opinions: {len(corpus)}."]
    if "subtopic" in corpus.columns and taxonomy.subtopics:
        named = corpus.assign(subtopic=corpus["subtopic"].replace("", "(none)"))
        parts += ["### Subtopic × tier", _table(named, "subtopic", "tier", taxonomy.subtopic_codes + ["(none)"],
                                                  taxonomy.tier_codes)]
    if "style" in corpus.columns:
        parts += ["### Style × category", _table(corpus, "style", "category", None, taxonomy.category_codes)]
    if folder.file("out_of_scope.csv").is_file():
        oos = read_out_of_scope(folder.file("out_of_scope.csv"), taxonomy)
        raw = pd.read_csv(folder.file("out_of_scope.csv"), dtype=str, keep_default_na=False)
        if "style" in raw.columns:
            oos = oos.assign(style=raw["style"])
            parts += [f"Out-of-scope texts: {len(oos)}.", "### Out-of-scope kind × style",
                      _table(oos, "kind", "style", taxonomy.kind_codes)]
        else:
            parts += [f"Out-of-scope texts: {len(oos)}.", oos["kind"].value_counts().to_string()]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":  # pragma: no cover - exercised by tests/triage/test_datasheet.py through coverage()
    sys.stdout.write(coverage(sys.argv[1] if len(sys.argv) > 1 else None))
