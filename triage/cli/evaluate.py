"""``triage evaluate``: a model's cross-validated report, or its scores on a labelled file."""
from __future__ import annotations

import json
import textwrap

from triage.cli.common import EXIT_OK, load_model, model_arg, progress_bar, quiet_arg


def add_commands(sub, fmt) -> None:
    e = sub.add_parser(
        "evaluate", formatter_class=fmt, help="show a model's cross-validated report, or score it on a labelled file",
        description="Without a file: the cross-validated metrics and model comparison stored in the model card. "
                    "With a labelled CSV (id, text, category, tier): the model's metrics on it. 评估。",
        epilog=textwrap.dedent("""\
            example:
              triage evaluate
              triage evaluate held_out.csv --json"""))
    e.add_argument("labelled", nargs="?", help="labelled CSV with columns id, text, category, tier")
    e.add_argument("--json", action="store_true", help="print JSON instead of tables")
    quiet_arg(e)
    model_arg(e)
    e.set_defaults(func=cmd_evaluate)


def cmd_evaluate(a) -> int:
    from triage.evaluation.evaluate import evaluate_file, format_extras, format_metrics

    with progress_bar(a.quiet, total=2 if a.labelled else 1, unit=" steps", desc="evaluate") as bar:
        model = load_model(a.model)
        bar.update(1)
        if a.labelled:
            report = evaluate_file(model, a.labelled)
            bar.update(1)
    if a.labelled:
        title = f"model {model.card_['version']} on {a.labelled}"
    else:
        r = model.report_
        report = {"cv": {"category": r["category"]["cv"], "tier": r["tier"]["cv"]},
                  "comparison": {"category": r["category"]["comparison"], "tier": r["tier"]["comparison"]},
                  "review": r["review"],
                  **{k: r[k] for k in ("subtopic", "out_of_scope", "calibration") if r.get(k)}}
        title = f"model {model.card_['version']}, {r['cv_folds']}-fold cross-validation"
    if a.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(title)
    if a.labelled:
        print(format_metrics("category", report["category"]))
        print(format_metrics("tier", report["tier"]))
        rv = report["review"]
        accepted = "n/a" if rv["accuracy_accepted"] is None else f"{rv['accuracy_accepted']:.1%}"
        print(f"review: threshold {rv['threshold']:.2f}, {rv['flagged']} flagged, coverage {rv['coverage']:.1%}, "
              f"accuracy of accepted {accepted}")
        if format_extras(report):
            print(format_extras(report))
        return EXIT_OK
    print(format_metrics("category", report["cv"]["category"]))
    print(format_metrics("tier", report["cv"]["tier"]))
    for part in ("category", "tier"):
        print(f"{part} candidates (macro-F1 / accuracy):")
        for row in report["comparison"][part]:
            print(f"  {row['features']:<10} {row['classifier']:<10} {row['macro_f1']:.3f} / {row['accuracy']:.3f}")
    if format_extras(report):
        print(format_extras(report))
    return EXIT_OK
