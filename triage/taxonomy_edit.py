"""Changing the taxonomy of a data folder: rename or add a category, relabel opinions.

Every change is checked (the taxonomy must still load, codes must exist) and written
atomically (``triage.files.atomic``); ``taxonomy.toml`` is edited with tomlkit, so its
comments, order and quoting stay. Work on a copy
(``copy_data``), retrain from it, compare, and only then replace the station's data.
"""
from __future__ import annotations

import io
import re
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import tomlkit

from triage.data import FILES as DATA_FILES, LABELLED
from triage.errors import InputError, TaxonomyError
from triage.files.atomic import write_text
from triage.taxonomy import Taxonomy, load_taxonomy
from triage.text import clean



def copy_data(source: str | Path, target: str | Path) -> Path:
    """Copy the data files of ``source`` into ``target`` (replacing an earlier copy there)."""
    source, target = Path(source), Path(target)
    if not (source / "taxonomy.toml").is_file():
        raise InputError(f"{source.name} is not a data folder: expected taxonomy.toml in it")
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise InputError(f"the copy {target.name} must be outside the data folder {source.name}")
    if target.exists():
        if any(target.iterdir()) and not (target / "taxonomy.toml").is_file():
            raise InputError(f"{target.name} exists and is not a data folder; refusing to replace it")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in DATA_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    return target


def _read_toml(path: Path):
    try:
        return tomlkit.parse(path.read_text("utf-8"))
    except (tomlkit.exceptions.TOMLKitError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path.name} is not valid UTF-8 TOML ({exc})") from None


def _write_taxonomy(path: Path, doc) -> Taxonomy:
    text = tomlkit.dumps(doc)
    try:
        taxonomy = Taxonomy.from_dict(tomllib.loads(text), path.name)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"the edited {path.name} would not be valid TOML ({exc}); nothing was changed") from None
    write_text(path, text, what="taxonomy")
    return taxonomy


def _edit_labelled(data_dir: Path, change, files=LABELLED) -> dict[str, int]:
    """Apply ``change(frame) -> rows changed`` to corpus.csv and corrections.csv (or ``files``)."""
    counts = {}
    for name in files:
        path = data_dir / name
        if not path.is_file():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        counts[name] = int(change(df))
        if counts[name]:
            buf = io.StringIO()
            df.to_csv(buf, index=False)
            write_text(path, buf.getvalue(), what=name)
    return counts


def rename_category(data_dir: str | Path, code: str, new_code: str | None = None, *, name_zh: str | None = None,
                    name_en: str | None = None) -> dict[str, int]:
    """Give category ``code`` a new code and/or new names; opinions labelled with the old
    code are relabelled. Returns the number of relabelled rows per file."""
    data_dir = Path(data_dir)
    path = data_dir / "taxonomy.toml"
    old = load_taxonomy(path)
    old.category(code)  # raises for an unknown code
    if new_code and new_code != code and new_code in old.category_codes + old.subtopic_codes + old.kind_codes:
        raise TaxonomyError(f"category code {new_code!r} already exists in {path.name}")
    doc = _read_toml(path)
    for table in doc.get("categories", []):
        if table.get("code") == code:
            for key, value in (("code", new_code), ("name_zh", name_zh), ("name_en", name_en)):
                if value:
                    if key not in table:
                        raise TaxonomyError(f"{path.name}: category {code!r} has no {key} line to change")
                    table[key] = value
            break
    if new_code and new_code != code:
        for table in doc.get("subtopics", []):  # the subtopics follow their category
            if table.get("category") == code:
                table["category"] = new_code
    _write_taxonomy(path, doc)
    if not new_code or new_code == code:
        return {}

    def change(df):
        hit = df["category"] == code
        df.loc[hit, "category"] = new_code
        return hit.sum()

    return _edit_labelled(data_dir, change)


def add_category(data_dir: str | Path, code: str, name_zh: str, name_en: str, lead_agency_zh: str,
                 lead_agency_en: str, description: str = "") -> Taxonomy:
    """Add a category after the last one in taxonomy.toml; returns the new taxonomy.
    Opinions still have to be labelled with it (``relabel``) before training."""
    path = Path(data_dir) / "taxonomy.toml"
    if code in load_taxonomy(path).category_codes:
        raise TaxonomyError(f"category code {code!r} already exists in {path.name}")
    doc = _read_toml(path)
    fields = {"code": code, "name_zh": name_zh, "name_en": name_en, "lead_agency_zh": lead_agency_zh,
              "lead_agency_en": lead_agency_en, "description": description}
    table = tomlkit.table()
    for k, v in fields.items():
        if v or k != "description":
            table.add(k, v)
    table.add(tomlkit.nl())  # a blank line before the next table, as the file has
    doc["categories"].append(table)
    return _write_taxonomy(path, doc)


def find_opinions(data_dir: str | Path, pattern: str, category: str | None = None) -> pd.DataFrame:
    """Labelled opinions whose text matches the regular expression ``pattern`` (optionally
    only those of ``category``), with masked text, to review before relabelling."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise InputError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    out = []
    for name in LABELLED:
        path = Path(data_dir) / name
        if path.is_file():
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            hit = df["text"].map(lambda t: bool(rx.search(t)))
            if category:
                hit &= df["category"] == category
            out.append(df.loc[hit, ["id", "text", "category", "tier"]].assign(file=name))
    columns = ["id", "text", "category", "tier", "file"]
    found = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)
    return found.assign(text=found["text"].map(clean))


def relabel(data_dir: str | Path, rows, category: str | None = None, tier: str | None = None,
            file: str = "corpus.csv") -> dict[str, int]:
    """Set the category and/or tier of some opinions; returns the rows changed per file.

    rows: ids of ``file``, or a table with ``id`` and ``file`` columns (``find_opinions``).
    Every id must exist and every code must be in the taxonomy; nothing is written otherwise. A
    subtopic that does not belong to the new category is emptied."""
    data_dir = Path(data_dir)
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    if category is not None:
        taxonomy.category(category)
    if tier is not None:
        taxonomy.tier(tier)
    if isinstance(rows, pd.DataFrame):
        wanted = {name: [str(i) for i in group["id"]] for name, group in rows.groupby("file")}
    else:
        wanted = {file: [str(i) for i in rows]}
    for name, ids in wanted.items():
        if name not in LABELLED:
            raise InputError(f"file must be one of {list(LABELLED)}, found {name!r}")
        path = data_dir / name
        if not path.is_file():
            raise InputError(f"{path.name} not found")
        known = set(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")["id"])
        missing = [i for i in ids if i not in known]
        if missing:
            raise InputError(f"{len(missing)} ids are not in {path.name}: {missing[:10]}")
    counts = {}
    for name, ids in wanted.items():
        def change(df, ids=ids):
            hit = df["id"].isin(ids)
            before = df.loc[hit, ["category", "tier"]].copy()
            if category is not None:
                df.loc[hit, "category"] = category
                if "subtopic" in df.columns:  # a subtopic of the old category no longer fits
                    df.loc[hit & (df["subtopic"].map(taxonomy.subtopic_owner) != category), "subtopic"] = ""
            if tier is not None:
                df.loc[hit, "tier"] = tier
            return (df.loc[hit, ["category", "tier"]] != before).any(axis=1).sum()

        counts.update(_edit_labelled(data_dir, change, (name,)))
    return counts
