"""The taxonomy: categories with their subtopics, out-of-scope kinds and routing tiers,
loaded from a TOML data file.

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
class Subtopic:
    """The second level: a subtopic belongs to one category; its lead agency, when given,
    overrides the category's."""
    code: str
    category: str
    name_zh: str
    name_en: str
    description: str = ""
    lead_agency_zh: str = ""
    lead_agency_en: str = ""


@dataclass(frozen=True)
class OutOfScopeKind:
    """What the station receives that is no enterprise opinion of any category (a wage
    dispute, residents' complaints...): the tier it suggests and the agency to refer it to."""
    code: str
    name_zh: str
    name_en: str
    tier: str
    referral_zh: str
    referral_en: str
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
    subtopics: tuple[Subtopic, ...] = ()
    out_of_scope: tuple[OutOfScopeKind, ...] = ()

    @property
    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories]

    @property
    def subtopic_codes(self) -> list[str]:
        return [s.code for s in self.subtopics]

    @property
    def subtopic_owner(self) -> dict[str, str]:
        """subtopic code -> the code of its category."""
        return {s.code: s.category for s in self.subtopics}

    @property
    def kind_codes(self) -> list[str]:
        return [k.code for k in self.out_of_scope]

    def subtopic(self, code: str) -> Subtopic:
        return _find(self.subtopics, code, "subtopic code")

    def kind(self, code: str) -> OutOfScopeKind:
        return _find(self.out_of_scope, code, "out-of-scope kind")

    @property
    def tier_codes(self) -> list[str]:
        return [t.code for t in self.tiers]

    def category(self, code: str) -> Category:
        return _find(self.categories, code, "category code")

    def tier(self, code: str) -> Tier:
        return _find(self.tiers, code, "tier code")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict, source: str = "taxonomy") -> "Taxonomy":
        return _parse(raw, source)


def _find(entries, code: str, what: str):
    for entry in entries:
        if entry.code == code:
            return entry
    raise TaxonomyError(f"unknown {what} {code!r}; expected one of {[e.code for e in entries]}")


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
    if not isinstance(cats_raw, (list, tuple)) or len(cats_raw) < 2:
        raise TaxonomyError(f"{source}: expected at least 2 [[categories]] entries, found {len(cats_raw or [])}")
    if not isinstance(tiers_raw, (list, tuple)) or len(tiers_raw) < 1:
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
    subtopics = _subtopics(raw.get("subtopics", []), [c.code for c in categories], source)
    kinds = _kinds(raw.get("out_of_scope", []), [t.code for t in tiers], source)
    _codes_ok(subtopics, "subtopic", source)
    _codes_ok(kinds, "out_of_scope", source)
    shared = sorted({c.code for c in categories} & {e.code for e in subtopics + kinds}
                    | {e.code for e in subtopics} & {k.code for k in kinds})
    if shared:
        raise TaxonomyError(f"{source}: codes {shared} are used twice (categories, subtopics and out_of_scope "
                            "kinds need codes of their own)")
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
        subtopics=subtopics,
        out_of_scope=kinds,
    )


def _entries(raw, label: str, source: str) -> list:
    if not isinstance(raw, (list, tuple)) or not all(isinstance(e, dict) for e in raw):
        raise TaxonomyError(f"{source}: expected [[{label}]] tables, found {type(raw).__name__}")
    return raw


def _subtopics(raw, categories: list[str], source: str) -> tuple[Subtopic, ...]:
    out = []
    for i, e in enumerate(_entries(raw, "subtopics", source)):
        where = f"{source}: subtopics[{i}]"
        cat = _require(e, "category", str, where)
        if cat not in categories:
            raise TaxonomyError(f"{where}: category {cat!r} is not a category code {categories}")
        out.append(Subtopic(code=_require(e, "code", str, where), category=cat,
                            name_zh=_require(e, "name_zh", str, where), name_en=_require(e, "name_en", str, where),
                            description=str(e.get("description", "")),
                            lead_agency_zh=str(e.get("lead_agency_zh", "")),
                            lead_agency_en=str(e.get("lead_agency_en", ""))))
    return tuple(out)  # a category without subtopics is learned as a whole


def _kinds(raw, tiers: list[str], source: str) -> tuple[OutOfScopeKind, ...]:
    out = []
    for i, e in enumerate(_entries(raw, "out_of_scope", source)):
        where = f"{source}: out_of_scope[{i}]"
        tier = _require(e, "tier", str, where)
        if tier not in tiers:
            raise TaxonomyError(f"{where}: tier {tier!r} is not a tier code {tiers}")
        out.append(OutOfScopeKind(code=_require(e, "code", str, where), name_zh=_require(e, "name_zh", str, where),
                                  name_en=_require(e, "name_en", str, where), tier=tier,
                                  referral_zh=_require(e, "referral_zh", str, where),
                                  referral_en=_require(e, "referral_en", str, where),
                                  description=str(e.get("description", ""))))
    return tuple(out)
