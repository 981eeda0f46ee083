"""What a monthly screening produces: the triaged opinions, the candidate problems and the
counts (``ScreeningResult``), shared by the screening, its workbook and its report."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from triage.taxonomy import Taxonomy

# Opinions that are not a problem to group: they go to the review list only.
UNGROUPED_REASONS = ("empty_text", "no_usable_words", "no_known_terms", "off_topic", "out_of_scope")


@dataclass
class Opinion:
    record_id: str
    enterprise: str
    deputy: str
    visit_date: str
    text: str  # masked
    category: str | None
    category_probability: float
    tier: str | None
    tier_probability: float
    needs_review: bool
    review_reason: str | None
    problem_id: str | None = None
    out_of_scope_kind: str | None = None  # for review_reason "out_of_scope": what it is
    referral: str | None = None  # ... and the agency to refer it to


@dataclass
class Problem:
    id: str
    rank: int
    month: str
    category: str
    representative: str  # masked text of the most central opinion
    representative_id: str
    record_ids: list
    n_opinions: int
    n_enterprises: int
    enterprises: list
    deputies: list
    tier: str
    tier_votes: dict
    escalated: bool
    lead_agency: str
    deadline: str | None
    review_ids: list
    recurring_months: list = field(default_factory=list)
    texts: list = field(default_factory=list)  # masked texts of the members, for later months


@dataclass
class ScreeningResult:
    month: str
    source: str
    model_version: str
    similarity: dict
    rule: dict
    counts: dict
    opinions: list
    problems: list
    taxonomy: Taxonomy = field(repr=False, default=None)

    @property
    def review(self) -> list:
        return [o for o in self.opinions if o.needs_review]

    def to_dict(self) -> dict:
        return {"month": self.month, "source": self.source, "model_version": self.model_version,
                "similarity": self.similarity, "rule": self.rule, "counts": self.counts,
                "problems": [asdict(p) for p in self.problems], "opinions": [asdict(o) for o in self.opinions]}


def problems_file(month: str) -> str:
    """The name of a month's problems file (``problems-2025-06.json``)."""
    return f"problems-{month}.json"
