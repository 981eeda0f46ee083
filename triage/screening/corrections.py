"""Closing the loop: the deputies' filled screening workbook back into training data.

``import_corrections`` reads every category and review sheet of a workbook written by
``triage screen``, checks each filled cell (category and tier codes, decision, the
problem a merge goes into), and appends the confirmed labels to ``corrections.csv`` in the
data folder (columns id, text, category, tier), de-duplicated on the normalised text: a
newer decision replaces an older one. ``triage train`` merges that file over the corpus
(corrections win) and records how many it used in the model card.

Which rows become corrections:
- a row with a confirmed category or tier: those values (the suggestion fills the other);
- a row decided ``keep`` or ``merge`` with nothing confirmed: the suggestion, accepted as is;
- anything else (``drop`` or no decision, nothing confirmed) is not imported.
A workbook with any bad cell imports nothing unless ``skip_errors``, which leaves out the
rows with bad cells and imports the rest."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from triage.data import CORPUS_COLUMNS, read_labelled
from triage.errors import InputError
from triage.files.atomic import write_text
from triage.screening.filled import choice, read_sheets
from triage.screening.workbook import DECISIONS
from triage.taxonomy import Taxonomy, load_taxonomy
from triage.text import normalise

REQUIRED = ("record_id", "text", "visit_date", "category", "confirmed_category", "confirmed_tier", "decision")


@dataclass(frozen=True)
class BadCell:
    sheet: str
    row: int
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        return f"sheet {self.sheet!r} row {self.row} {self.column} = {self.value!r}: {self.expected}"


class WorkbookError(InputError):
    """A filled workbook with bad cells; ``bad_cells`` lists every one of them."""

    def __init__(self, path, bad_cells: list[BadCell]):
        self.bad_cells = list(bad_cells)
        super().__init__(f"{Path(path).name}: {len(self.bad_cells)} bad cells, nothing was imported (fix them, or use "
                         f"--skip-errors to import the other rows): " + "; ".join(map(str, self.bad_cells)))


@dataclass
class ImportSummary:
    path: str
    rows: int = 0  # corrections read from the workbook
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    changed_category: int = 0
    changed_tier: int = 0
    accepted: int = 0  # suggestions accepted as they stood
    not_imported: int = 0  # dropped or undecided rows with nothing confirmed
    total: int = 0  # rows of corrections.csv afterwards
    skipped: list = field(default_factory=list)  # bad cells left out with skip_errors


def read_filled(path, taxonomy: Taxonomy) -> tuple[list[dict], list[BadCell], int]:
    """The corrections a filled workbook holds, every bad cell, and how many rows were not
    imported (dropped or undecided with nothing confirmed)."""
    sheets = [(sh.title, sh.keys, sh.rows) for sh in read_sheets(path)]
    cats = [(c.code, c.name_zh) for c in taxonomy.categories]
    tiers = [(t.code, t.name_zh) for t in taxonomy.tiers]
    bad: list[BadCell] = []
    problem_ids = {cells.get("problem_id", "").strip() for _, _, rs in sheets for _, cells in rs} - {""}
    out, seen, not_imported, conflicts = [], {}, 0, set()
    for title, keys, rows in sheets:
        missing = [k for k in REQUIRED if k not in keys]
        if missing:
            bad.append(BadCell(title, 1, "header", ", ".join(missing), "missing columns; expected the headers "
                               "written by 'triage screen'"))
            continue
        for n, get in rows:
            if not any(get.get(k, "").strip() for k in ("record_id", "text", "confirmed_category",
                                                         "confirmed_tier", "decision", "merge_into")):
                continue  # an empty row
            errors = []

            def parse(key, entries, what):
                try:
                    return choice(get.get(key, ""), entries, what)
                except ValueError as exc:
                    errors.append(BadCell(title, n, key, get.get(key, ""), str(exc)))
                    return None

            c_cat = parse("confirmed_category", cats, "category")
            c_tier = parse("confirmed_tier", tiers, "tier")
            decision = parse("decision", DECISIONS, "decision")
            merge_into = get.get("merge_into", "").strip()
            if decision == "merge" and not merge_into:
                errors.append(BadCell(title, n, "merge_into", "", "a merge needs the id of the problem it goes "
                                      "into (e.g. P003)"))
            elif merge_into and decision != "merge":
                errors.append(BadCell(title, n, "merge_into", merge_into, "filled, but the decision is not merge"))
            elif merge_into and merge_into not in problem_ids:
                errors.append(BadCell(title, n, "merge_into", merge_into, "no problem with this id in the workbook"))
            if errors:
                bad += errors
                continue
            if c_cat is None and c_tier is None and decision not in ("keep", "merge"):
                not_imported += 1
                continue
            sugg_cat = choice(get.get("category", ""), cats, "category") if _known(get.get("category"), cats) else None
            sugg_tier = next((choice(get.get(k, ""), tiers, "tier") for k in ("suggested_tier", "tier")
                              if _known(get.get(k), tiers)), None)
            text = get.get("text", "").strip()
            rid = get.get("record_id", "").strip()
            where = dict(sheet=title, row=n)
            if not normalise(text):
                bad.append(BadCell(title, n, "text", text, "no text to learn from; leave its cells empty"))
                continue
            if not rid:
                bad.append(BadCell(title, n, "record_id", "", "the opinion's id is missing"))
                continue
            category, tier = c_cat or sugg_cat, c_tier or sugg_tier
            if category is None or tier is None:
                col = "confirmed_category" if category is None else "confirmed_tier"
                bad.append(BadCell(title, n, col, "", "no suggestion to accept: fill in a value"))
                continue
            month = get.get("visit_date", "")[:7] or "undated"
            rec = {"id": re.sub(r"\s+", "", f"screen-{month}-{rid}"), "rid": rid, "text": text,
                   "category": category, "tier": tier, "changed_category": c_cat is not None and c_cat != sugg_cat,
                   "changed_tier": c_tier is not None and c_tier != sugg_tier, **where}
            key = rid
            if key in seen:
                prev = seen[key]
                if (prev["category"], prev["tier"]) != (category, tier):
                    bad.append(BadCell(title, n, "confirmed_category/confirmed_tier", f"{category}/{tier}",
                                       f"the same opinion {rid} is {prev['category']}/{prev['tier']} in sheet "
                                       f"{prev['sheet']!r} row {prev['row']}"))
                    conflicts.add(rid)
                continue
            seen[key] = rec
            out.append(rec)
    by_text: dict[str, dict] = {}  # one wording raised by two enterprises: one label
    for r in out:
        first = by_text.setdefault(normalise(r["text"]), r)
        if first is not r and (first["category"], first["tier"]) != (r["category"], r["tier"]):
            bad.append(BadCell(r["sheet"], r["row"], "confirmed_category/confirmed_tier",
                               f"{r['category']}/{r['tier']}", f"the same text ({first['rid']}, sheet "
                               f"{first['sheet']!r} row {first['row']}) is {first['category']}/{first['tier']}"))
            conflicts.update((first["rid"], r["rid"]))
    return [r for r in out if r["rid"] not in conflicts], bad, not_imported


def _known(value, entries) -> bool:
    try:
        return choice(value or "", entries, "") is not None
    except ValueError:
        return False


def import_corrections(workbook, data_dir=None, skip_errors: bool = False, progress=None) -> ImportSummary:
    """Append the confirmed labels of a filled workbook to ``corrections.csv`` in
    ``data_dir`` (default: the bundled data folder); written atomically. progress: called
    with "read" once the workbook is read and "written" at the end."""
    from triage import paths

    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    rows, bad, not_imported = read_filled(workbook, taxonomy)
    progress = progress or (lambda _step: None)
    progress("read")
    if bad:
        bad_rows = {(b.sheet, b.row) for b in bad}
        if not skip_errors:
            raise WorkbookError(workbook, bad)
        rows = [r for r in rows if (r["sheet"], r["row"]) not in bad_rows]
    summary = ImportSummary(str(workbook), rows=len(rows), not_imported=not_imported, skipped=bad)
    summary.changed_category = sum(r["changed_category"] for r in rows)
    summary.changed_tier = sum(r["changed_tier"] for r in rows)
    summary.accepted = sum(not (r["changed_category"] or r["changed_tier"]) for r in rows)
    new = pd.DataFrame([{k: r[k] for k in CORPUS_COLUMNS} for r in rows], columns=list(CORPUS_COLUMNS))
    key = new["text"].map(normalise)
    new = new.loc[~key.duplicated(keep="first")].reset_index(drop=True)
    path = data_dir / "corrections.csv"
    old = read_labelled(path, taxonomy, "corrections") if path.is_file() else pd.DataFrame(columns=list(CORPUS_COLUMNS))
    old_key = old["text"].map(normalise)
    new_key = new["text"].map(normalise)
    same = old.assign(_k=old_key).merge(new.assign(_k=new_key), on="_k", suffixes=("_old", ""))
    summary.unchanged = int(((same["category_old"] == same["category"]) & (same["tier_old"] == same["tier"])).sum())
    summary.replaced = int(len(same) - summary.unchanged)
    summary.added = int(len(new) - len(same))
    kept = old.loc[~old_key.isin(set(new_key))]
    taken = set(kept["id"])
    ids = []
    for i in new["id"]:
        j, n = i, 2
        while j in taken:
            j, n = f"{i}-{n}", n + 1
        taken.add(j)
        ids.append(j)
    new["id"] = ids
    merged = pd.concat([kept, new], ignore_index=True)[list(CORPUS_COLUMNS)]
    summary.total = len(merged)
    if not new.empty:  # else nothing to write
        buf = io.StringIO()
        merged.to_csv(buf, index=False, lineterminator="\n")
        write_text(path, buf.getvalue(), what="corrections file")
    progress("written")
    return summary
