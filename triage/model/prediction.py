"""What a prediction holds and how a batch of scores becomes prediction columns.

``columns(model, texts, dates, deputies)`` is the body of ``TriageModel.predict_columns``: it
reads only the model's public parameters and learned attributes (``categories_``, ``tiers_``,
``review_threshold_``, ``taxonomy``, ``n_alternatives``, ``n_terms``) and its public
``segment`` and ``scores`` methods.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from triage.model.fast.tables import char_slices
from triage.model.scoring import Scores, explain_rows
from triage.routing import route

from triage.model.hierarchy import OFFTOPIC  # noqa: E402  (re-exported)

REVIEW_REASONS = {
    "off_topic": "looks like no category at all (greeting, chit-chat...) / 疑似与企业诉求无关",
    "out_of_scope": "no enterprise opinion of any category: see out_of_scope_kind for where to refer it / "
                    "不属于企业诉求，见范围外类型及转办单位",
    "novel": "unlike every opinion learned, whatever the probabilities say / 与已学过的意见都不相像",
    "empty_text": "empty text / 内容为空",
    "no_usable_words": "no usable words (only punctuation, numbers or stop words) / 无有效词语",
    "no_known_terms": "none of its words was seen in training / 词语均未在训练语料中出现",
    "low_confidence": "category probability under the review threshold / 类别概率低于复核阈值",
}


@dataclass
class Prediction:
    category: str | None
    category_probability: float
    subtopic: str | None
    subtopic_probability: float
    tier: str | None
    tier_probability: float
    alternatives: list[dict]
    needs_review: bool
    review_reason: str | None
    out_of_scope_kind: str | None
    lead_agency: str | None
    lead_agency_en: str | None
    deadline_days: int | None
    deadline: str | None
    deputy: str | None
    explanation: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


FIELDS = tuple(f.name for f in fields(Prediction))


def columns(model, texts: list, intake_dates: list, deputies: list, alternatives: bool = True,
            terms_as_text: bool = False) -> dict[str, list]:
    """See ``TriageModel.predict_columns``."""
    n = len(texts)
    joined = model.segment(texts)
    usable = [i for i, j in enumerate(joined) if j]
    cols = {
        "category": [None] * n, "category_probability": [0.0] * n, "subtopic": [None] * n,
        "subtopic_probability": [0.0] * n, "out_of_scope_kind": [None] * n, "tier": [None] * n,
        "tier_probability": [0.0] * n, "alternatives": [[] for _ in range(n)], "needs_review": [True] * n,
        "review_reason": [None] * n, "lead_agency": [None] * n, "lead_agency_en": [None] * n,
        "deadline_days": [None] * n, "deadline": [None] * n,
        "deputy": [(str(d).strip() or None) if d is not None else None for d in deputies],
        "explanation": [""] * n if terms_as_text else [[] for _ in range(n)],
    }
    slices = char_slices([joined[i] for i in usable]) if usable else []
    for a, b in slices:  # a few hundred thousand characters at a time: memory stays bounded
        part = usable[a:b]
        values = _values(model, model.scores([joined[i] for i in part]), [intake_dates[i] for i in part],
                         [deputies[i] for i in part], alternatives, terms_as_text)
        everything = len(part) == n
        for name, vals in values.items():
            if everything:
                cols[name] = vals
            else:
                col = cols[name]
                for i, v in zip(part, vals):
                    col[i] = v
    if len(usable) < n:
        usable_set = set(usable)
        for i in range(n):
            if i not in usable_set:
                cols["review_reason"][i] = "empty_text" if not str(texts[i] or "").strip() else "no_usable_words"
    return cols


def _values(model, sc: Scores, dates, deputies, alternatives: bool, terms_as_text: bool) -> dict[str, list]:
    """The prediction columns of the usable texts (all of them have words)."""
    from triage.model.outcomes import decide

    h = model.hierarchy_
    cats, tiers = np.asarray(model.categories_, dtype=object), np.asarray(model.tiers_, dtype=object)
    fine = sc.fine
    d = decide(h, fine, model.temperature_, sc.summed, sc.category)  # the sums model.scores made, not again
    cp, tp = d["coarse"], sc.tier
    rows = np.arange(len(dates))
    real = np.array([i for i, c in enumerate(model.categories_) if c != OFFTOPIC])
    order = real[np.argsort(-cp[:, real], axis=1, kind="stable")]
    top, p = d["top_idx"], d["top"]
    tier_idx = np.argmax(tp, axis=1)
    kind = h.kind[d["kind_idx"]] if d["kind_idx"] is not None else np.full(len(rows), "", dtype=object)
    known = sc.known()
    # an out-of-scope kind won (on words the model knows): no category, the kind's tier and referral
    scope = d["off"] & (kind != "") & known
    off = d["off"] & ~scope
    novel = sc.support < model.novelty_threshold_ if sc.support is not None else np.zeros(len(rows), dtype=bool)
    reasons = np.where(~known, "no_known_terms", np.where(scope, "out_of_scope", np.where(off, "off_topic", np.where(
        novel, "novel", np.where(p < model.review_threshold_, "low_confidence", ""))))).tolist()
    sub = h.subtopic[d["sub_idx"]]
    share = fine[rows, d["sub_idx"]] / np.maximum(d["summed"][rows, top], 1e-12)
    kinds = [model.taxonomy.kind(k) if s else None for k, s in zip(kind.tolist(), scope.tolist())]
    off_col = 0 if d["off_col"] is None else d["off_col"]
    out = {
        "category": [None if s else c for c, s in zip(cats[top].tolist(), scope.tolist())],
        "tier": [k.tier if k else t for k, t in zip(kinds, tiers[tier_idx].tolist())],
        "category_probability": [round(x, 4) for x in p.tolist()],
        "subtopic": [(x or None) if not s else None for x, s in zip(sub.tolist(), scope.tolist())],
        "subtopic_probability": [round(x, 4) if (x and not s) else 0.0 for x, s in
                                 zip((p * share).tolist(), (scope | (sub == "")).tolist())],
        # an out-of-scope text takes its kind's tier by rule: as sure as it is out of scope
        "tier_probability": [round(x, 4) for x in np.where(scope, cp[:, off_col], tp[rows, tier_idx]).tolist()],
        "needs_review": [bool(r) for r in reasons], "review_reason": [r or None for r in reasons],
        "out_of_scope_kind": [k.code if k else None for k in kinds],
    }
    if alternatives and model.n_alternatives:
        alt = np.where(scope[:, None], order[:, :model.n_alternatives], order[:, 1:1 + model.n_alternatives])
        out["alternatives"] = [[{"category": c, "probability": round(q, 4)} for c, q in zip(cs, qs)]
                               for cs, qs in zip(cats[alt].tolist(), cp[rows[:, None], alt].tolist())]
    if model.n_terms:
        explained = np.where(scope, d["kind_idx"] if d["kind_idx"] is not None else d["sub_idx"], d["sub_idx"])
        out["explanation"] = explain_rows(sc.X, sc.weights(), sc.names(), sc.name_info(), explained, model.n_terms,
                                          as_text=terms_as_text)
    cache: dict = {}
    taxonomy = model.taxonomy

    def routed(cat, sub, kind_, tier, date, dep):
        key = (cat, sub, kind_, tier, date, dep)
        try:
            r = cache.get(key)
        except TypeError:  # an unhashable date: no cache
            return route(taxonomy, cat, tier, date, dep, subtopic=sub, kind=kind_)
        if r is None:
            r = cache[key] = route(taxonomy, cat, tier, date, dep, subtopic=sub, kind=kind_)
        return r

    routes = [routed(*args) for args in zip(out["category"], out["subtopic"], out["out_of_scope_kind"], out["tier"],
                                            dates, deputies)]
    for name in ("lead_agency", "lead_agency_en", "deadline_days", "deadline", "deputy"):
        out[name] = [getattr(r, name) for r in routes]
    return out
