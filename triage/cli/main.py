"""The ``triage`` command: a thin door into the library.

Each command parses its arguments, calls one library function and prints the result;
library errors become a one-line ``Error: ...`` and exit code 2."""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from importlib import import_module

from triage.errors import TriageError

EXIT_OK, EXIT_BUG, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="triage", formatter_class=fmt,
        description="Sort and route opinions collected by a deputy liaison station.\n"
                    "联络站意见分类与交办建议。",
        epilog="Run 'triage COMMAND --help' for a command's options and an example.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("classify", formatter_class=fmt, help="triage every opinion of a CSV/XLSX/JSONL file",
                       description="Add category, tier, probabilities, review flag, lead agency, deadline and "
                                   "explanation to every row of a table. 批量分类。",
                       epilog=textwrap.dedent("""\
                           example:
                             triage classify data/samples/2025-06.csv -o out.csv
                             triage classify opinions.xlsx -o sorted.xlsx --text-column 意见描述"""))
    c.add_argument("input", help="CSV (UTF-8, UTF-8 with BOM or GBK/GB18030), XLSX or JSONL")
    c.add_argument("-o", "--output", required=True, help="output file; .csv, .xlsx or .jsonl decides the format")
    c.add_argument("--text-column", help="name of the text column (default: text, 内容, 意见, 意见内容, 留言详情)")
    c.add_argument("--date-column", help="intake date column for deadlines (default: visit_date, date, 日期 ...)")
    c.add_argument("--deputy-column", help="deputy column (default: deputy, 代表 ...)")
    c.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    c.add_argument("--chunk-size", type=int, default=5000, help="rows per chunk (default 5000)")
    c.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    model_arg(c)

    e = sub.add_parser("evaluate", formatter_class=fmt, help="show a model's cross-validated report, or score it on a labelled file",
                       description="Without a file: the cross-validated metrics and model comparison stored in the "
                                   "model card. With a labelled CSV (id, text, category, tier): the model's metrics on it. 评估。",
                       epilog=textwrap.dedent("""\
                           example:
                             triage evaluate
                             triage evaluate held_out.csv --json"""))
    e.add_argument("labelled", nargs="?", help="labelled CSV with columns id, text, category, tier")
    e.add_argument("--json", action="store_true", help="print JSON instead of tables")
    model_arg(e)
    for name in _COMMAND_MODULES:  # further command groups, each in its own module
        import_module(name).add_commands(sub, fmt)
    return p


# Modules that add commands: each has add_commands(subparsers, formatter_class) and sets
# a handler with ``parser.set_defaults(func=handler)``; a handler takes the parsed
# arguments and returns an exit code.
_COMMAND_MODULES: tuple[str, ...] = ("triage.cli.train", "triage.cli.models", "triage.cli.serve", "triage.cli.register", "triage.cli.screen")


def model_arg(p):
    p.add_argument("--model", help="model version folder, or models folder with a CURRENT mark (default: the shipped model)")


def load_model(path):
    from triage import paths
    from triage.store.folder import load

    return load(path or paths.models_dir())


def cmd_classify(a) -> int:
    from triage.batch import classify_file

    if a.jobs < 1 or a.chunk_size < 1:
        raise TriageError(f"--jobs and --chunk-size must be at least 1, found {a.jobs} and {a.chunk_size}")
    from triage.files.io import file_format

    file_format(a.input), file_format(a.output)  # refuse a wrong extension before loading the model
    model = load_model(a.model)
    s = classify_file(a.input, a.output, model, text_column=a.text_column, date_column=a.date_column,
                      deputy_column=a.deputy_column, chunksize=a.chunk_size, jobs=a.jobs,
                      progress=not a.quiet and sys.stderr.isatty())
    if not a.quiet:
        d = s.to_dict()
        print(f"{d['rows']} rows -> {a.output} in {d['seconds']:.1f}s; needs review: {d['needs_review']} "
              f"{d['review_reasons'] or ''}", file=sys.stderr)
        print("categories: " + ", ".join(f"{k} {v}" for k, v in sorted(d["categories"].items())), file=sys.stderr)
        if d["bad_dates"]:
            print(f"warning: {d['bad_dates']} rows have an unreadable date; their deadline is left empty", file=sys.stderr)
        if d["replaced_columns"]:
            print(f"note: replaced existing columns {d['replaced_columns']}", file=sys.stderr)
    return EXIT_OK


def cmd_evaluate(a) -> int:
    from triage.evaluation.evaluate import evaluate_file, format_metrics

    model = load_model(a.model)
    if a.labelled:
        report = evaluate_file(model, a.labelled)
        title = f"model {model.card_['version']} on {a.labelled}"
    else:
        report = {"cv": {"category": model.report_["category"]["cv"], "tier": model.report_["tier"]["cv"]},
                  "comparison": {"category": model.report_["category"]["comparison"],
                                 "tier": model.report_["tier"]["comparison"]},
                  "review": model.report_["review"]}
        title = f"model {model.card_['version']}, {model.report_['cv_folds']}-fold cross-validation"
    if a.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(title)
    if a.labelled:
        print(format_metrics("category", report["category"]))
        print(format_metrics("tier", report["tier"]))
        print(f"review: {report['review']}")
    else:
        print(format_metrics("category", report["cv"]["category"]))
        print(format_metrics("tier", report["cv"]["tier"]))
        for part in ("category", "tier"):
            print(f"{part} candidates (macro-F1 / accuracy):")
            for row in report["comparison"][part]:
                print(f"  {row['features']:<10} {row['classifier']:<10} {row['macro_f1']:.3f} / {row['accuracy']:.3f}")
    return EXIT_OK


COMMANDS = {"classify": cmd_classify, "evaluate": cmd_evaluate}


def main(argv=None) -> int:
    parser = _parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage error
        return EXIT_USAGE if exc.code else EXIT_OK
    if a.version:
        from importlib.metadata import version

        print(version("station-triage"))
        return EXIT_OK
    if not a.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        handler = getattr(a, "func", None) or COMMANDS[a.command]
        return handler(a)
    except TriageError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("Error: interrupted; no output was written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the trace only on request
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        print(f"Error: unexpected {type(exc).__name__}: {exc} (set TRIAGE_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_BUG


def run() -> None:
    sys.exit(main())
