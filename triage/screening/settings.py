"""The screening's settings: the month to screen, the similarity threshold recorded in
``screening.toml`` (read with tomllib, written with tomlkit so comments and quoting stay
right), and the escalation rule of the taxonomy."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import tomlkit

from triage.errors import InputError, TaxonomyError
from triage.files.atomic import write_text
from triage.taxonomy import ScreeningRule, Taxonomy, load_taxonomy

SETTINGS_FILE = "screening.toml"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_HEADER = """\
Screening settings / 每月筛选参数
Opinions of the same category whose TF-IDF similarity (character unigrams of the segmented
text, IDF fitted on the texts compared plus corpus.csv) reaches the threshold are grouped into
one candidate problem. The threshold is the lowest at which at least target_precision of the
labelled paraphrase pairs it accepts are truly the same problem; precision and recall are
measured on those pairs. Recompute it with 'triage screen-calibrate PAIRS.csv --write'.
阈值在标注的改写句对上选出：被判为同一问题的句对中至少 95% 确为同一问题。"""
CALIBRATION_KEYS = ("threshold", "target_precision", "precision", "recall", "f1", "n_pairs", "n_same")


def check_month(month: str) -> str:
    if not isinstance(month, str) or not _MONTH.match(month.strip()):
        raise InputError(f"month: expected YYYY-MM like 2025-06, found {month!r}")
    return month.strip()


def load_settings(data_dir) -> dict:
    """The similarity settings recorded in ``screening.toml`` of the data folder (or, when
    that folder has none, of the bundled data folder)."""
    from triage import paths

    path = Path(data_dir) / SETTINGS_FILE
    if not path.is_file():
        path = paths.data_dir() / SETTINGS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"screening settings not found: {SETTINGS_FILE} in the data folder "
                         f"(expected [similarity] threshold = ...; see 'triage screen-calibrate')") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{SETTINGS_FILE} is not valid UTF-8 TOML: {exc}") from None
    s = raw.get("similarity", {})
    t = s.get("threshold")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < 1:
        raise InputError(f"{SETTINGS_FILE}: [similarity] threshold must be a number between 0 and 1, found {t!r}")
    return s


def write_settings(data_dir, calib: dict, pairs_name: str) -> Path:
    """Record a calibration (see ``similarity.calibrate``) in ``screening.toml`` of
    ``data_dir``: the [similarity] table is replaced, the rest of the file (comments, other
    tables) kept. Written with tomlkit, so any path (a Windows one with backslashes too) is
    quoted right."""
    path = Path(data_dir) / SETTINGS_FILE
    if path.is_file():
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except (tomlkit.exceptions.TOMLKitError, UnicodeDecodeError) as exc:
            raise InputError(f"{SETTINGS_FILE} is not valid UTF-8 TOML ({exc}); fix or remove it first") from None
    else:
        doc = tomlkit.document()
        for line in _HEADER.splitlines():
            doc.add(tomlkit.comment(line))
    table = tomlkit.table()
    for key in CALIBRATION_KEYS:
        table.add(key, calib[key])
    table.add("pairs", str(pairs_name))
    doc["similarity"] = table
    text = tomlkit.dumps(doc)
    tomllib.loads(text)  # never write a file that would not load
    return write_text(path, text, what="screening settings")


def screening_rule(data_dir, taxonomy: Taxonomy) -> ScreeningRule:
    """The escalation rule of the data folder's taxonomy file, checked against the model's tiers."""
    path = Path(data_dir) / "taxonomy.toml"
    rule = load_taxonomy(path).screening if path.is_file() else taxonomy.screening
    if rule.escalate_to_tier is not None and rule.escalate_to_tier not in taxonomy.tier_codes:
        raise TaxonomyError(f"taxonomy.toml: screening.escalate_to_tier {rule.escalate_to_tier!r} is not a tier of "
                            f"the model {taxonomy.tier_codes}; retrain the model or fix the file")
    if rule.escalate_min_enterprises < 1:
        raise TaxonomyError(f"taxonomy.toml: screening.escalate_min_enterprises must be at least 1, "
                            f"found {rule.escalate_min_enterprises}")
    return rule
