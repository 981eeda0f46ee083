"""The taxonomy: categories and routing tiers, loaded from a TOML data file.

A station changes its categories by editing the file (see ``data/taxonomy.toml``) and
retraining; no code knows the category codes.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from triage.errors import TaxonomyError

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    lead_agency_zh: str
    lead_agency_en: str
    description: str = ""


@dataclass(frozen=True)
class Tier:
    code: str
    name_zh: str
    name_en: str
    deadline_days: int
    supervision_zh: str = ""
    supervision_en: str = ""
    description: str = ""


@dataclass(frozen=True)
class ScreeningRule:
    escalate_to_tier: str | None = None
    escalate_min_enterprises: int = 3


@dataclass(frozen=True)
class Taxonomy:
    name: str
    version: str
    categories: tuple[Category, ...]
    tiers: tuple[Tier, ...]
    screening: ScreeningRule = field(default_factory=ScreeningRule)

    @property
    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories]

    @property
    def tier_codes(self) -> list[str]:
        return [t.code for t in self.tiers]

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise TaxonomyError(f"unknown category code {code!r}; expected one of {self.category_codes}")

    def tier(self, code: str) -> Tier:
        for t in self.tiers:
            if t.code == code:
                return t
        raise TaxonomyError(f"unknown tier code {code!r}; expected one of {self.tier_codes}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict, source: str = "taxonomy") -> "Taxonomy":
        return _parse(raw, source)


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy TOML file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(f"taxonomy file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"taxonomy file {path} is not valid UTF-8 TOML: {exc}") from None
    return _parse(raw, str(path))


def _require(entry: dict, key: str, kind: type, where: str):
    if key not in entry:
        raise TaxonomyError(f"{where}: missing key {key!r}")
    value = entry[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise TaxonomyError(f"{where}: {key!r} must be {kind.__name__}, found {type(value).__name__} {value!r}")
    if kind is str and not value.strip():
        raise TaxonomyError(f"{where}: {key!r} must not be empty")
    return value


def _codes_ok(entries: list, label: str, source: str) -> None:
    seen = set()
    for i, entry in enumerate(entries):
        code = entry.code
        if not _CODE.match(code):
            raise TaxonomyError(
                f"{source}: {label}[{i}] code {code!r} must be lower-case letters, digits or '_' (at most 32)"
            )
        if code in seen:
            raise TaxonomyError(f"{source}: duplicate {label} code {code!r}")
        seen.add(code)


def _parse(raw: dict, source: str) -> Taxonomy:
    cats_raw = raw.get("categories")
    tiers_raw = raw.get("tiers")
    if not isinstance(cats_raw, list) or len(cats_raw) < 2:
        raise TaxonomyError(f"{source}: expected at least 2 [[categories]] entries, found {len(cats_raw or [])}")
    if not isinstance(tiers_raw, list) or len(tiers_raw) < 1:
        raise TaxonomyError(f"{source}: expected at least 1 [[tiers]] entry, found {len(tiers_raw or [])}")
    categories = []
    for i, c in enumerate(cats_raw):
        where = f"{source}: categories[{i}]"
        categories.append(
            Category(
                code=_require(c, "code", str, where),
                name_zh=_require(c, "name_zh", str, where),
                name_en=_require(c, "name_en", str, where),
                lead_agency_zh=_require(c, "lead_agency_zh", str, where),
                lead_agency_en=_require(c, "lead_agency_en", str, where),
                description=str(c.get("description", "")),
            )
        )
    tiers = []
    for i, t in enumerate(tiers_raw):
        where = f"{source}: tiers[{i}]"
        days = _require(t, "deadline_days", int, where)
        if days < 1:
            raise TaxonomyError(f"{where}: 'deadline_days' must be at least 1, found {days}")
        tiers.append(
            Tier(
                code=_require(t, "code", str, where),
                name_zh=_require(t, "name_zh", str, where),
                name_en=_require(t, "name_en", str, where),
                deadline_days=days,
                supervision_zh=str(t.get("supervision_zh", "")),
                supervision_en=str(t.get("supervision_en", "")),
                description=str(t.get("description", "")),
            )
        )
    _codes_ok(categories, "category", source)
    _codes_ok(tiers, "tier", source)
    scr = raw.get("screening", {}) or {}
    rule = ScreeningRule(
        escalate_to_tier=scr.get("escalate_to_tier"),
        escalate_min_enterprises=int(scr.get("escalate_min_enterprises", 3)),
    )
    if rule.escalate_to_tier is not None and rule.escalate_to_tier not in [t.code for t in tiers]:
        raise TaxonomyError(
            f"{source}: screening.escalate_to_tier {rule.escalate_to_tier!r} is not a tier code "
            f"{[t.code for t in tiers]}"
        )
    return Taxonomy(
        name=str(raw.get("name", "taxonomy")),
        version=str(raw.get("version", "")),
        categories=tuple(categories),
        tiers=tuple(tiers),
        screening=rule,
    )
