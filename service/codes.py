"""The code vocabularies of the API, as enums for the OpenAPI documentation.

Response fields are plain strings whose schema lists the codes (``documented``): a register
entry made under an older taxonomy still answers, never a 500 for a code the taxonomy has
since dropped. Category and tier codes come from the taxonomy of the model in service, read when the app is
created (from the model already loaded, else from the ``taxonomy.json`` of the version folder,
else from ``data/taxonomy.toml``); review reasons from the library; status, kind, satisfaction
and supervision from the register. Responses carry codes only; the register's requests also
take the Chinese name of a code (``不满意`` for ``dissatisfied``), so their enums list both.
Request fields are checked by the library, as before, so its messages stay the ones users see.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated

from pydantic import WithJsonSchema

from triage import paths
from triage.model.estimator import REVIEW_REASONS
from triage.register.states import KINDS, SATISFACTION, STATUSES, SUPERVISION
from triage.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger("service")


def _zh(names) -> str:
    return names[0] if isinstance(names, tuple) else names


def documented(title: str, values) -> object:
    """A string whose OpenAPI schema is the enum of ``values`` (not enforced: see above)."""
    return Annotated[str, WithJsonSchema({"type": "string", "enum": list(dict.fromkeys(values)), "title": title})]


def _both(pairs) -> list[str]:
    return [v for pair in pairs for v in pair if v]


def accepted(title: str, pairs) -> object:
    """A request field documented with the codes and their Chinese names; the register checks
    it (its message names the expected values and what was found)."""
    return documented(title, _both(pairs))


@dataclass(frozen=True)
class Codes:
    """The enums one app documents: response fields (codes) and request fields (``*_in``:
    codes and Chinese names)."""
    Category: object
    Tier: object
    ReviewReason: object
    Subtopic: object
    ScopeKind: object
    Status: object
    Kind: object
    Satisfaction: object
    Supervision: object
    category_in: object
    tier_in: object
    status_in: object
    kind_in: object
    satisfaction_in: object
    supervision_in: object


def taxonomy_for(model_dir, holder=None) -> Taxonomy:
    """The taxonomy of the model in service, without loading the model when it is not in yet."""
    if holder is not None and holder.ready:
        return holder.get().taxonomy
    try:
        from triage.store.folder import resolve_model_dir

        raw = json.loads((resolve_model_dir(model_dir) / "taxonomy.json").read_text("utf-8"))
        return Taxonomy.from_dict(raw)
    except Exception as exc:  # noqa: BLE001 - documentation only: fall back to the shipped taxonomy
        log.info("OpenAPI enums from data/taxonomy.toml (the model folder's taxonomy is unreadable: %s)",
                 type(exc).__name__)
        return load_taxonomy(paths.taxonomy_path())


def build_codes(taxonomy: Taxonomy) -> Codes:
    cats = [(c.code, c.name_zh) for c in taxonomy.categories]
    tiers = [(t.code, t.name_zh) for t in taxonomy.tiers]
    return Codes(
        Category=documented("CategoryCode", [c for c, _ in cats]),
        Tier=documented("TierCode", [t for t, _ in tiers]),
        ReviewReason=documented("ReviewReason", REVIEW_REASONS),
        Subtopic=documented("SubtopicCode", [s.code for s in taxonomy.subtopics] or ["none"]),
        ScopeKind=documented("OutOfScopeKind", [k.code for k in taxonomy.out_of_scope] or ["none"]),
        Status=documented("Status", STATUSES),
        Kind=documented("Kind", KINDS),
        Satisfaction=documented("Satisfaction", SATISFACTION),
        Supervision=documented("Supervision", SUPERVISION),
        category_in=accepted("CategoryCodeOrName", cats),
        tier_in=accepted("TierCodeOrName", tiers),
        status_in=accepted("StatusOrName", ((c, _zh(n)) for c, n in STATUSES.items())),
        kind_in=accepted("KindOrName", ((c, _zh(n)) for c, n in KINDS.items())),
        satisfaction_in=accepted("SatisfactionOrName", ((c, _zh(n)) for c, n in SATISFACTION.items())),
        supervision_in=accepted("SupervisionOrName", ((c, _zh(n)) for c, n in SUPERVISION.items())),
    )
