"""Commands of the monthly screening: ``triage screen``, ``triage screen-calibrate`` and
``triage corrections import``. Thin doors: parse, call one library function, print."""
from __future__ import annotations

import sys
import textwrap

from triage.cli.common import EXIT_OK, load_model, model_arg, progress_steps, quiet_arg, say


def add_commands(sub, fmt) -> None:
    s = sub.add_parser(
        "screen", formatter_class=fmt, help="prepare a month's candidate problems for the deputies' meeting",
        description="Triage a month of collected opinions, group the ones that raise the same problem, suggest a "
                    "tier per problem (several enterprises -> key), mark problems of earlier months, and write the "
                    "meeting workbook, an HTML report and a problems file into a folder. 每月梳理筛选。",
        epilog=textwrap.dedent("""\
            example:
              triage screen data/samples/2025-06.csv --month 2025-06 -o screening/2025-06
              triage screen july.xlsx --month 2025-07 -o screening/2025-07 --previous screening/"""))
    s.add_argument("input", help="the month's opinions: CSV, XLSX or JSONL with text, enterprise, deputy and "
                                 "visit date columns")
    s.add_argument("--month", required=True, help="the month to screen, YYYY-MM; rows of other months are left "
                                                  "out and counted")
    s.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    s.add_argument("--previous", nargs="+", metavar="FOLDER_OR_FILE",
                   help="earlier months: folders of earlier 'triage screen' outputs, their problems-*.json "
                        "files, or opinion tables with a date column")
    s.add_argument("--data", help="data folder with screening.toml, taxonomy.toml and corpus.csv "
                                  "(default: the bundled data/)")
    s.add_argument("--text-column", help="text column (default: text, 内容, 意见 ...)")
    s.add_argument("--date-column", help="visit date column (default: visit_date, date, 日期 ...)")
    s.add_argument("--enterprise-column", help="enterprise column (default: enterprise, 企业, 企业名称, 单位)")
    s.add_argument("--deputy-column", help="deputy column (default: deputy, 代表 ...)")
    s.add_argument("--id-column", help="record id column (default: record_id, id, 编号 ...; else the row number)")
    model_arg(s)
    quiet_arg(s)
    s.set_defaults(func=cmd_screen)

    k = sub.add_parser(
        "screen-calibrate", formatter_class=fmt, help="choose the screening similarity threshold on labelled pairs",
        description="Choose the lowest similarity at which at least the target share of the labelled pairs it "
                    "accepts are the same problem, and print it (with --write, record it in screening.toml). "
                    "在标注句对上选择相似度阈值。",
        epilog=textwrap.dedent("""\
            example:
              triage screen-calibrate tests/fixtures/paraphrases.csv
              triage screen-calibrate my-pairs.csv --target-precision 0.9 --write --data my-station/data"""))
    k.add_argument("pairs", help="CSV with columns text_a, text_b, same_problem (1 or 0)")
    k.add_argument("--target-precision", type=float, default=0.95, help="share of accepted pairs that must be "
                                                                       "right (default 0.95)")
    k.add_argument("--write", action="store_true", help="record the result in screening.toml of the data folder")
    k.add_argument("--data", help="data folder (default: the bundled data/)")
    model_arg(k)
    quiet_arg(k)
    k.set_defaults(func=cmd_calibrate)

    c = sub.add_parser("corrections", formatter_class=fmt, help="import the deputies' corrections",
                       description="Corrections from the monthly screening. 代表纠正的分类结果。",
                       epilog="example:\n  triage corrections import screening/2025-06/screening-2025-06.xlsx")
    csub = c.add_subparsers(dest="corrections_command", metavar="ACTION", required=True)
    i = csub.add_parser(
        "import", formatter_class=fmt, help="read a filled screening workbook into data/corrections.csv",
        description="Read the confirmed category, tier and decision the deputies filled in, check every cell, and "
                    "append the confirmed labels to corrections.csv (de-duplicated; a newer decision replaces an "
                    "older one). Any bad cell: nothing is imported, every bad cell is listed. 'triage train' then "
                    "learns from them. 导入代表填写的筛选表。",
        epilog=textwrap.dedent("""\
            example:
              triage corrections import screening/2025-06/screening-2025-06.xlsx
              triage corrections import filled.xlsx --skip-errors --data my-station/data && triage train"""))
    i.add_argument("workbook", help="the filled .xlsx written by 'triage screen'")
    i.add_argument("--skip-errors", action="store_true", help="import the good rows and list the bad cells skipped")
    i.add_argument("--data", help="data folder holding taxonomy.toml and corrections.csv (default: the bundled data/)")
    quiet_arg(i)
    i.set_defaults(func=cmd_corrections_import)


def cmd_screen(a) -> int:
    from triage.screening.month import STEPS, screen_month, write_outputs
    from triage.screening.settings import check_month

    check_month(a.month)  # refuse a bad month before loading the model
    with progress_steps(a.quiet, len(STEPS) + 1, f"screen {a.month}") as step:
        model = load_model(a.model)
        step("model loaded")
        result = screen_month(a.input, a.month, model, data_dir=a.data, previous=a.previous or (),
                              text_column=a.text_column, date_column=a.date_column,
                              enterprise_column=a.enterprise_column, deputy_column=a.deputy_column,
                              id_column=a.id_column, progress=step)
        files, warnings = write_outputs(result, a.output)
        step(STEPS[-1])
    c = result.counts
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if a.quiet:
        return EXIT_OK
    left = ", ".join(f"{m} {n}" for m, n in c["outside_by_month"].items())
    print(f"{a.month}: {c['in_month']} opinions -> {c['problems']} candidate problems "
          f"({c['escalated']} escalated, {c['recurring']} recurring); needs review: {c['needs_review']}")
    print(f"left out: {c['outside_month']} rows outside {a.month}{f' ({left})' if left else ''}, "
          f"{c['undated']} without a readable date")
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return EXIT_OK


def cmd_calibrate(a) -> int:
    from pathlib import Path

    from triage import paths
    from triage.errors import InputError
    from triage.screening.settings import SETTINGS_FILE, write_settings
    from triage.screening.similarity import background_texts, calibrate, model_segmenter, read_pairs

    if not 0 < a.target_precision <= 1:
        raise InputError(f"--target-precision must be in (0, 1], found {a.target_precision}")
    data = Path(a.data) if a.data else paths.data_dir()
    pairs = read_pairs(a.pairs)
    model = load_model(a.model)
    bg = background_texts(data, model_segmenter(model))
    r = calibrate(pairs, model, bg, a.target_precision)
    print(f"threshold {r['threshold']}: precision {r['precision']:.1%}, recall {r['recall']:.1%} "
          f"on {r['n_pairs']} pairs ({r['n_same']} same problem)")
    if a.write:
        write_settings(data, r, a.pairs)
        say(f"recorded in {Path(a.data) / SETTINGS_FILE if a.data else SETTINGS_FILE + ' of the bundled data'}",
            a.quiet)
    return EXIT_OK


def cmd_corrections_import(a) -> int:
    from triage.screening.corrections import import_corrections

    with progress_steps(a.quiet, 2, "import corrections") as step:
        s = import_corrections(a.workbook, a.data, skip_errors=a.skip_errors, progress=step)
    for b in s.skipped:
        print(f"skipped: {b}", file=sys.stderr)
    if a.quiet:
        return EXIT_OK
    print(f"{s.rows} corrections read: {s.added} added, {s.replaced} replaced, {s.unchanged} already there; "
          f"{s.changed_category} changed category, {s.changed_tier} changed tier, {s.accepted} accepted as "
          f"suggested; {s.not_imported} rows dropped or undecided")
    print(f"corrections file now holds {s.total} rows; run 'triage train' to learn from them")
    return EXIT_OK
