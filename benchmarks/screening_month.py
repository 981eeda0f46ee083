"""The monthly screening on a labelled month written apart from the corpus: how well `triage
screen` groups different wordings of one problem, and whether it keeps look-alikes and
out-of-scope texts apart. The figures of the user guide's screening page.

    python benchmarks/screening_month.py                       # data/eval/month/2026-05.csv, shipped model
    python benchmarks/screening_month.py --month-file my.csv --month 2026-06

The labelled file has the station's columns (record_id, enterprise, deputy, visit_date, text)
and a gold ``problem_id`` (rows sharing it are one concrete problem; ``X..`` are out of
scope) and ``note`` (``lookalike:<problem id>``). Only the station's columns are given to
the screening. Beside it, the calibration figures recorded in ``data/screening.toml`` (the
labelled pairs the threshold was chosen on). The month is never used to choose anything.
Prints a table and a last line of JSON.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from triage import load  # noqa: E402
from triage.screening.month import screen_month  # noqa: E402

STATION = ["record_id", "enterprise", "deputy", "visit_date", "text"]


def measure(gold: pd.DataFrame, result) -> dict:
    problem_of = {rid: p.id for p in result.problems for rid in p.record_ids}
    truth = dict(zip(gold["record_id"], gold["problem_id"]))
    inside = [r for r in gold["record_id"] if not truth[r].startswith("X")]
    same = grouped = right = 0
    for a, b in itertools.combinations(inside, 2):
        together = problem_of.get(a) is not None and problem_of.get(a) == problem_of.get(b)
        gold_same = truth[a] == truth[b]
        same += gold_same
        grouped += together
        right += together and gold_same
    pairs = {tuple(sorted((pid, note.split(":", 1)[1])))
             for pid, note in zip(gold["problem_id"], gold["note"]) if note.startswith("lookalike:")}
    members = {pid: set(gold.loc[gold["problem_id"] == pid, "record_id"]) for pid in set(gold["problem_id"])}
    merged_lookalikes = sum(1 for a, b in pairs if any(problem_of.get(x) is not None and problem_of.get(x) ==
                                                       problem_of.get(y) for x in members[a] for y in members[b]))
    outside = [r for r in gold["record_id"] if truth[r].startswith("X")]
    escalated = [p for p in result.problems if p.escalated]
    mixed = [p for p in escalated if len({truth[r] for r in p.record_ids}) > 1]
    multi = {pid for pid, rows in members.items() if not pid.startswith("X") and len(rows) > 1}
    exact = sum(1 for pid in multi if any(set(p.record_ids) == members[pid] for p in result.problems))
    return {"opinions": len(gold), "same_problem_pairs": same, "pairs_grouped": grouped,
            "precision": round(right / grouped, 4) if grouped else None, "recall": round(right / same, 4) if same else None,
            "multi_opinion_problems": len(multi), "found_exactly": exact,
            "lookalike_pairs": len(pairs), "lookalikes_merged": merged_lookalikes,
            "out_of_scope_texts": len(outside), "out_of_scope_grouped": sum(r in problem_of for r in outside),
            "out_of_scope_flagged": sum(o.review_reason == "out_of_scope" for o in result.opinions
                                        if o.record_id in set(outside)),
            "escalated": len(escalated), "escalated_mixing_problems": len(mixed)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--month-file", type=Path, default=ROOT / "data" / "eval" / "month" / "2026-05.csv")
    ap.add_argument("--month", default="2026-05")
    ap.add_argument("--model", default=str(ROOT / "models"))
    a = ap.parse_args(argv)
    model = load(a.model)
    gold = pd.read_csv(a.month_file, dtype=str, keep_default_na=False)
    with tempfile.TemporaryDirectory() as tmp:
        station = Path(tmp) / "month.csv"
        gold[STATION].to_csv(station, index=False)
        result = screen_month(station, a.month, model)
    m = measure(gold, result)
    recorded = tomllib.loads((ROOT / "data" / "screening.toml").read_text("utf-8"))["similarity"]
    print(f"model {model.card_['version']}, threshold {recorded['threshold']}")
    print(f"labelled pairs (threshold chosen on them): precision {recorded['precision']:.1%}, recall "
          f"{recorded['recall']:.1%} on {recorded['n_pairs']} pairs")
    print(f"month {a.month_file.name} (written apart): {m['pairs_grouped']} pairs grouped, precision "
          f"{m['precision']:.1%}, recall {m['recall']:.1%} of {m['same_problem_pairs']} same-problem pairs; "
          f"{m['found_exactly']} of {m['multi_opinion_problems']} multi-opinion problems found exactly; "
          f"{m['lookalikes_merged']} of {m['lookalike_pairs']} look-alike pairs merged; "
          f"{m['out_of_scope_grouped']} of {m['out_of_scope_texts']} out-of-scope texts grouped "
          f"({m['out_of_scope_flagged']} flagged out_of_scope); {m['escalated']} problems escalated, "
          f"{m['escalated_mixing_problems']} of them mixing different problems")
    print(json.dumps({"model": model.card_["version"], "recorded_pairs": recorded, "month": m}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
