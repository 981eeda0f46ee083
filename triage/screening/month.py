"""Monthly screening (梳 -> 筛): from a month of collected opinions to a draft list of
candidate problems for the deputies' meeting.

``screen_month`` reads the month's table (rows outside the month are left out and
counted), triages every opinion, groups the opinions that raise the same problem (see
``screening_similarity``), suggests a tier per problem (the taxonomy's escalation rule:
raised by enough distinct enterprises -> ``key``), routes it (lead agency, deadline), marks
problems already raised in earlier months, and collects the opinions flagged for review.
Every text it hands on is masked (``triage.text.clean``)."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from triage.screening import similarity as sim
from triage.errors import InputError, TaxonomyError
from triage.files.io import DATE_COLUMNS, DEPUTY_COLUMNS, ENTERPRISE_COLUMNS, TEXT_COLUMNS, find_column, read_chunks
from triage.routing import parse_date, route
from triage.taxonomy import ScreeningRule, Taxonomy, load_taxonomy
from triage.text import clean

ID_COLUMNS = ("record_id", "id", "编号", "序号", "意见编号")
# Opinions that are not a problem to group: they go to the review list only.
UNGROUPED_REASONS = ("empty_text", "no_usable_words", "no_known_terms", "off_topic")
SETTINGS_FILE = "screening.toml"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


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


# --- settings ---------------------------------------------------------------------------
def check_month(month: str) -> str:
    if not isinstance(month, str) or not _MONTH.match(month.strip()):
        raise InputError(f"month: expected YYYY-MM like 2025-06, found {month!r}")
    return month.strip()


def load_settings(data_dir) -> dict:
    """The similarity settings recorded in ``screening.toml`` of the data folder (or, when
    that folder has none, of the bundled data folder)."""
    import tomllib

    from triage import paths

    path = Path(data_dir) / SETTINGS_FILE
    if not path.is_file():
        path = paths.data_dir() / SETTINGS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"screening settings not found: {Path(data_dir) / SETTINGS_FILE} "
                         f"(expected [similarity] threshold = ...; see 'triage screen-calibrate')") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid UTF-8 TOML: {exc}") from None
    s = raw.get("similarity", {})
    t = s.get("threshold")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < 1:
        raise InputError(f"{path}: [similarity] threshold must be a number between 0 and 1, found {t!r}")
    return s


def screening_rule(data_dir, taxonomy: Taxonomy) -> ScreeningRule:
    """The escalation rule of the data folder's taxonomy file, checked against the model's tiers."""
    path = Path(data_dir) / "taxonomy.toml"
    rule = load_taxonomy(path).screening if path.is_file() else taxonomy.screening
    if rule.escalate_to_tier is not None and rule.escalate_to_tier not in taxonomy.tier_codes:
        raise TaxonomyError(f"{path}: screening.escalate_to_tier {rule.escalate_to_tier!r} is not a tier of the "
                            f"model {taxonomy.tier_codes}; retrain the model or fix the file")
    if rule.escalate_min_enterprises < 1:
        raise TaxonomyError(f"{path}: screening.escalate_min_enterprises must be at least 1, "
                            f"found {rule.escalate_min_enterprises}")
    return rule


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
                        p.review_reason) for r, p in zip(frame.itertuples(index=False), preds)]
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
                 **columns) -> ScreeningResult:
    """Screen the opinions of ``month`` in the table at ``path`` with ``model``.

    data_dir: the data folder holding screening.toml, taxonomy.toml (escalation rule) and
    corpus.csv (IDF background); default the bundled one. previous: earlier screening
    outputs or opinion tables (see ``load_previous``)."""
    from triage import paths

    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    settings = load_settings(data_dir)
    threshold = float(threshold if threshold is not None else settings["threshold"])
    rule = screening_rule(data_dir, model.taxonomy)
    frame, counts = read_month(path, month, **columns)
    if frame.empty:
        found = ", ".join(f"{m} ({n})" for m, n in counts["outside_by_month"].items()) or "none with a readable date"
        raise InputError(f"{path}: expected opinions visited in {month}, found none; its rows are from {found}")
    dup = frame["record_id"][frame["record_id"].duplicated()].unique().tolist()
    if dup:
        raise InputError(f"{path}: duplicate record ids in {month}: {dup[:10]}; expected each id once")
    prev = load_previous(previous, model, month) if previous else []
    background = sim.background_texts(data_dir, _segmenter(model))
    opinions, problems = screen_frame(model, frame, month, threshold=threshold, rule=rule, background=background,
                                      previous=prev)
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


# --- earlier months ---------------------------------------------------------------------
def problems_file(month: str) -> str:
    return f"problems-{month}.json"


def load_previous(sources, model, month: str) -> list[dict]:
    """Problems of months before ``month``, from screening outputs (``problems-YYYY-MM.json``
    files, or folders holding them directly or one level down) or from opinion tables
    (CSV/XLSX/JSONL with a text and a date column: each row counts as raised in its month)."""
    out = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            files = sorted(src.glob("problems-*.json")) + sorted(src.glob("*/problems-*.json"))
            if not files:
                raise InputError(f"--previous {src}: expected problems-YYYY-MM.json files (written by "
                                 f"'triage screen') in the folder or its subfolders, found none")
            for f in files:
                out += _read_problems_json(f)
        elif src.suffix.lower() == ".json":
            out += _read_problems_json(src)
        elif src.is_file():
            out += _previous_from_table(src, model)
        else:
            raise InputError(f"--previous {src}: not found")
    return [p for p in out if p["month"] < month]


def _read_problems_json(path: Path) -> list[dict]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        probs = raw["problems"]
        return [{"month": str(p["month"]), "category": p["category"], "texts": list(p["texts"]),
                 "recurring_months": list(p.get("recurring_months", []))} for p in probs]
    except FileNotFoundError:
        raise InputError(f"--previous {path}: not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: expected a problems file written by 'triage screen', "
                         f"found unreadable content ({type(exc).__name__}: {exc})") from None


def _previous_from_table(path: Path, model) -> list[dict]:
    frames = list(read_chunks(path))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    text_col = find_column(df.columns, None, TEXT_COLUMNS, "text")
    date_col = find_column(df.columns, None, DATE_COLUMNS, "date")
    texts, months = [], []
    for t, d in zip(df[text_col], df[date_col]):
        try:
            d = parse_date(d)
        except InputError:
            d = None
        if d is not None and str(t).strip():
            texts.append(str(t))
            months.append(f"{d:%Y-%m}")
    preds = model.predict(texts) if texts else []
    return [{"month": m, "category": p.category, "texts": [clean(t)], "recurring_months": []}
            for t, m, p in zip(texts, months, preds)
            if p.category and p.review_reason not in UNGROUPED_REASONS]


def write_outputs(result: ScreeningResult, out_dir) -> tuple[dict, list[str]]:
    """Write the workbook, the HTML report and the problems file into ``out_dir`` (created
    if needed); each file is written to a temporary name and renamed when complete.
    Returns the paths by kind and the warnings (e.g. no CJK font for the charts)."""
    from triage.screening.report import write_report
    from triage.screening.workbook import write_workbook

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"output folder {out} is a file; expected a folder")
    out.mkdir(parents=True, exist_ok=True)
    report, warnings = write_report(result, out / f"report-{result.month}.html")
    files = {"workbook": write_workbook(result, out / f"screening-{result.month}.xlsx"), "report": report}
    data = {"generated": dt.datetime.now().isoformat(timespec="seconds"), **result.to_dict()}
    path = out / problems_file(result.month)
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1))
    files["problems"] = path
    return files, warnings


def atomic_write(path, data: bytes | str) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place, so that
    ``path`` is either the old file or the complete new one. Permissions follow the umask."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"output folder not found: {path.parent}")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"could not write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
