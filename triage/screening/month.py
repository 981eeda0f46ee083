"""Monthly screening (梳 -> 筛): from a month of collected opinions to a draft list of
candidate problems for the deputies' meeting.

``screen_month`` reads the month's table (rows outside the month are left out and
counted), triages every opinion, groups the opinions that raise the same problem (see
``similarity``), suggests a tier per problem (the taxonomy's escalation rule: raised by
enough distinct enterprises -> ``key``), routes it (lead agency, deadline in working days),
marks problems already raised in earlier months (``previous``), and collects the opinions
flagged for review. Every text it hands on is masked (``triage.text.clean``).
``write_outputs`` writes the meeting workbook, the HTML report and the problems file."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pandas as pd

from triage.errors import InputError
from triage.files.atomic import write_text
from triage.files.io import DATE_COLUMNS, DEPUTY_COLUMNS, ENTERPRISE_COLUMNS, TEXT_COLUMNS, find_column, read_chunks
from triage.routing import parse_date, route
from triage.screening import similarity as sim
from triage.screening.previous import load_previous
from triage.screening.report import write_report
from triage.screening.results import UNGROUPED_REASONS, Opinion, Problem, ScreeningResult, problems_file
from triage.screening.settings import check_month, load_settings, screening_rule
from triage.screening.workbook import write_workbook
from triage.taxonomy import ScreeningRule
from triage.text import clean

ID_COLUMNS = ("record_id", "id", "编号", "序号", "意见编号")
STEPS = ("read", "earlier months", "triage and group", "write")  # the progress steps of a screening


def _noop(_step: str) -> None:
    return None


# --- reading the month ------------------------------------------------------------------
def read_month(path, month: str, *, text_column=None, date_column=None, enterprise_column=None,
               deputy_column=None, id_column=None):
    """The rows of ``month`` as a frame with columns record_id, enterprise, deputy,
    visit_date, text; and the counts of the rows left out."""
    month = check_month(month)
    frames = list(read_chunks(path))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    cols = df.columns
    text_col = find_column(cols, text_column, TEXT_COLUMNS, "text")
    date_col = find_column(cols, date_column, DATE_COLUMNS, "date")
    ent_col = find_column(cols, enterprise_column, ENTERPRISE_COLUMNS, "enterprise")
    dep_col = find_column(cols, deputy_column, DEPUTY_COLUMNS, "deputy", required=False)
    id_col = find_column(cols, id_column, ID_COLUMNS, "id", required=False)
    rows, outside, undated = [], Counter(), []
    for i, rec in enumerate(df.to_dict("records")):
        rid = str(rec[id_col]).strip() if id_col else ""
        rid = rid or f"row {i + 2}"
        try:
            d = parse_date(rec[date_col])
        except InputError:
            d = None
        if d is None:
            undated.append(rid)
            continue
        if f"{d:%Y-%m}" != month:
            outside[f"{d:%Y-%m}"] += 1
            continue
        rows.append({"record_id": rid, "enterprise": str(rec[ent_col]).strip(),
                     "deputy": str(rec[dep_col]).strip() if dep_col else "", "visit_date": d.isoformat(),
                     "text": str(rec[text_col])})
    kept = pd.DataFrame(rows, columns=["record_id", "enterprise", "deputy", "visit_date", "text"])
    counts = {"rows_read": int(len(df)), "in_month": int(len(kept)), "outside_month": int(sum(outside.values())),
              "outside_by_month": dict(sorted(outside.items())), "undated": len(undated),
              "undated_ids": undated[:50]}
    return kept, counts


# --- screening --------------------------------------------------------------------------
def _segmenter(model):
    return sim.model_segmenter(model)


def screen_frame(model, frame: pd.DataFrame, month: str, *, threshold: float, rule: ScreeningRule,
                 background=(), previous=()) -> tuple[list, list]:
    """Triage and group the rows of one month. ``previous``: problems of earlier months
    (dicts with month, category, texts, recurring_months). Returns (opinions, problems)."""
    tax = model.taxonomy
    texts = frame["text"].tolist()
    preds = model.predict_batch(texts, list(frame["visit_date"]), list(frame["deputy"]))
    opinions = [Opinion(str(r.record_id), clean(r.enterprise), clean(r.deputy), r.visit_date, clean(r.text),
                        p.category, p.category_probability, p.tier, p.tier_probability, p.needs_review,
                        p.review_reason, out_of_scope_kind=p.out_of_scope_kind,
                        referral=p.lead_agency if p.out_of_scope_kind else None)
                for r, p in zip(frame.itertuples(index=False), preds)]
    rows = [i for i, p in enumerate(preds) if p.category and p.review_reason not in UNGROUPED_REASONS]
    if not rows:
        return opinions, []
    seg = _segmenter(model)
    grouped = [texts[i] for i in rows]
    S = sim.cosine_matrix(sim.vectorise(grouped, seg, background))
    labels = sim.group(S, [preds[i].category for i in rows], threshold)
    members: dict[int, list[int]] = {}
    for k, lab in enumerate(labels):
        members.setdefault(lab, []).append(k)
    recurring = _recurring(members, grouped, [preds[i].category for i in rows], month, previous, seg, background,
                           threshold)
    tier_rank = {t: i for i, t in enumerate(tax.tier_codes)}
    problems = []
    for ks in members.values():
        ops = [opinions[rows[k]] for k in ks]
        cat = ops[0].category
        ents = sorted({o.enterprise for o in ops if o.enterprise})
        votes = Counter(o.tier for o in ops)
        tier = max(votes, key=lambda t: (votes[t], tier_rank[t]))
        escalated = False
        if (rule.escalate_to_tier and len(ents) >= rule.escalate_min_enterprises
                and tier_rank[rule.escalate_to_tier] > tier_rank[tier]):
            tier, escalated = rule.escalate_to_tier, True
        first = min(o.visit_date for o in ops)
        r = route(tax, cat, tier, first)
        rep = ops[ks.index(sim.representative(S, ks))]
        problems.append(Problem("", 0, month, cat, rep.text, rep.record_id, [o.record_id for o in ops], len(ops),
                                len(ents), ents, sorted({o.deputy for o in ops if o.deputy}), tier, dict(votes),
                                escalated, r.lead_agency, r.deadline,
                                [o.record_id for o in ops if o.needs_review], recurring[ks[0]],
                                [o.text for o in ops]))
    problems.sort(key=lambda p: (-p.n_enterprises, -p.n_opinions, -len(p.recurring_months), -tier_rank[p.tier],
                                 p.record_ids[0]))
    width = max(3, len(str(len(problems))))
    by_id = {o.record_id: o for o in opinions}
    for rank, p in enumerate(problems, 1):
        p.rank, p.id = rank, f"P{rank:0{width}d}"
        for rid in p.record_ids:
            by_id[rid].problem_id = p.id
    return opinions, problems


def _recurring(members, texts, categories, month, previous, segmenter, background, threshold) -> dict:
    """For each group (keyed by its first row): the sorted months of earlier problems of the
    same category whose opinions are, on average, at least ``threshold`` similar to it. The
    months grouped are vectorised apart from the earlier ones, so that ``--previous`` never
    changes how a month is grouped."""
    prev = [p for p in previous if p["month"] < month and p.get("texts")]
    out = {ks[0]: set() for ks in members.values()}
    if prev:
        S = sim.cosine_matrix(sim.vectorise(list(texts) + [t for p in prev for t in p["texts"]], segmenter,
                                            background))
        start = len(texts)
        for p in prev:
            rows = range(start, start + len(p["texts"]))
            start += len(p["texts"])
            for ks in members.values():
                if categories[ks[0]] == p["category"] and sim.average_link(S, ks, rows) >= threshold:
                    out[ks[0]].update(p.get("recurring_months", []))
                    out[ks[0]].add(p["month"])
    return {k: sorted(v) for k, v in out.items()}


def screen_month(path, month: str, model, *, data_dir=None, previous=(), threshold: float | None = None,
                 progress=None, **columns) -> ScreeningResult:
    """Screen the opinions of ``month`` in the table at ``path`` with ``model``.

    data_dir: the data folder holding screening.toml, taxonomy.toml (escalation rule) and
    corpus.csv (IDF background); default the bundled one. previous: earlier screening
    outputs or opinion tables (see ``load_previous``). progress: called with the name of
    each step of ``STEPS`` done but the last (writing is ``write_outputs``'s)."""
    from triage import paths

    progress = progress or _noop

    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    settings = load_settings(data_dir)
    threshold = float(threshold if threshold is not None else settings["threshold"])
    rule = screening_rule(data_dir, model.taxonomy)
    frame, counts = read_month(path, month, **columns)
    if frame.empty:
        found = ", ".join(f"{m} ({n})" for m, n in counts["outside_by_month"].items()) or "none with a readable date"
        raise InputError(f"{Path(path).name}: expected opinions visited in {month}, found none; its rows are "
                         f"from {found}")
    dup = frame["record_id"][frame["record_id"].duplicated()].unique().tolist()
    if dup:
        raise InputError(f"{Path(path).name}: duplicate record ids in {month}: {dup[:10]}; expected each id once")
    progress(STEPS[0])
    prev = load_previous(previous, model, month) if previous else []
    progress(STEPS[1])
    background = sim.background_texts(data_dir, _segmenter(model))
    opinions, problems = screen_frame(model, frame, month, threshold=threshold, rule=rule, background=background,
                                      previous=prev)
    progress(STEPS[2])
    counts.update(
        empty=sum(o.review_reason == "empty_text" for o in opinions),
        needs_review=sum(o.needs_review for o in opinions),
        grouped=sum(o.problem_id is not None for o in opinions),
        problems=len(problems), recurring=sum(bool(p.recurring_months) for p in problems),
        escalated=sum(p.escalated for p in problems), previous_problems=len(prev),
    )
    sim_info = {k: settings[k] for k in ("threshold", "precision", "recall", "target_precision", "n_pairs")
                if k in settings}
    sim_info["threshold"] = threshold
    version = str((getattr(model, "card_", None) or {}).get("version", "")) or "(not saved)"
    return ScreeningResult(month, Path(path).name, version, sim_info,
                           {"escalate_to_tier": rule.escalate_to_tier,
                            "escalate_min_enterprises": rule.escalate_min_enterprises},
                           counts, opinions, problems, model.taxonomy)


def write_outputs(result: ScreeningResult, out_dir) -> tuple[dict, list[str]]:
    """Write the workbook, the HTML report and the problems file into ``out_dir`` (created
    if needed); each file is written to a temporary name and renamed when complete.
    Returns the paths by kind and the warnings (e.g. no CJK font for the charts)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"output folder {out.name} is a file; expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"could not create the output folder {out.name}: {exc.strerror or exc}") from None
    report, warnings = write_report(result, out / f"report-{result.month}.html")
    files = {"workbook": write_workbook(result, out / f"screening-{result.month}.xlsx"), "report": report}
    data = {"generated": dt.datetime.now().isoformat(timespec="seconds"), **result.to_dict()}
    files["problems"] = write_text(out / problems_file(result.month), json.dumps(data, ensure_ascii=False, indent=1))
    return files, warnings
