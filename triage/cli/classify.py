"""``triage classify``: triage every opinion of a table into a new table."""
from __future__ import annotations

import textwrap

from triage.cli.common import EXIT_OK, load_model, model_arg, positive as _positive, progress_bar, quiet_arg, say
from triage.errors import InputError
from triage.files.formats import FORMAT_NAMES


def _jobs(value: str):
    return value if value == "auto" else _positive(value, "'auto' or a whole number of at least 1")


def add_commands(sub, fmt) -> None:
    c = sub.add_parser(
        "classify", formatter_class=fmt, help="triage every opinion of a CSV/TSV/XLSX/JSONL file",
        description="Add category, tier, probabilities, review flag, lead agency, deadline and explanation to "
                    "every row of a table. CSV/TSV/JSONL outputs keep codes (machine-friendly); an XLSX output "
                    "is for people: bilingual headers, names beside codes, percentages, 是/否, a frozen "
                    "header and a filter. 批量分类。",
        epilog=textwrap.dedent("""\
            example:
              triage classify data/samples/2025-06.csv -o out.csv
              triage classify opinions.xlsx --sheet 六月 -o sorted.xlsx --text-column 意见描述
              cat opinions.csv | triage classify - -o - --format jsonl > out.jsonl"""))
    c.add_argument("input", help="CSV/TSV/TXT (UTF-8, GBK/GB18030, Big5 or UTF-16), XLSX or JSONL; - for "
                                 "standard input")
    c.add_argument("-o", "--output", required=True,
                   help="output file: .csv, .tsv, .txt (tab-separated), .xlsx or .jsonl decides the format; "
                        "- for standard output")
    c.add_argument("--format", choices=FORMAT_NAMES,
                   help="format of the output when it is standard output (-o -; default csv)")
    c.add_argument("--input-format", choices=FORMAT_NAMES,
                   help="format of standard input (default: a workbook, JSON lines or CSV/TSV as its first bytes show)")
    c.add_argument("--sheet", help="the sheet of a workbook to read, by name or number (needed when several "
                                   "sheets hold data)")
    c.add_argument("--text-column", help="name of the text column (default: text, 内容, 意见, 意见内容, 留言详情)")
    c.add_argument("--date-column", help="intake date column for deadlines (default: visit_date, date, 日期 ...)")
    c.add_argument("--deputy-column", help="deputy column (default: deputy, 代表 ...)")
    c.add_argument("--jobs", type=_jobs, default="auto",
                   help="worker processes, or auto: one for small inputs (under about 20,000 opinions), else one "
                        "per CPU (default auto)")
    c.add_argument("--chunk-size", type=_positive, default=5000, help="rows per chunk (default 5000)")
    quiet_arg(c)
    model_arg(c)
    c.set_defaults(func=cmd_classify)


def _fmt(path, fmt):
    return fmt if str(path) == "-" else None


def cmd_classify(a) -> int:
    from pathlib import Path

    from triage.batch import classify_file
    from triage.files.formats import file_format, output_format, shown

    in_fmt = _fmt(a.input, a.input_format)
    out_fmt = _fmt(a.output, a.format)
    file_format(a.input, in_fmt), output_format(a.output, out_fmt)  # a wrong extension, before loading the model
    if a.input != "-" and not Path(a.input).is_file():
        raise InputError(f"input file not found: {shown(a.input)}")
    model = load_model(a.model)
    bars = []  # made at the first chunk's end: the process pool is forked before the bar's thread starts

    def progress(rows: int) -> None:
        if not bars:
            bars.append(progress_bar(a.quiet))
        bars[0].update(rows)

    try:
        s = classify_file(a.input, a.output, model, text_column=a.text_column, date_column=a.date_column,
                          deputy_column=a.deputy_column, chunksize=a.chunk_size, jobs=a.jobs, progress=progress,
                          sheet=a.sheet, in_format=in_fmt, out_format=out_fmt)
    finally:
        for bar in bars:
            bar.close()
    say(summary_line(s, "standard output" if a.output == "-" else shown(a.output)), a.quiet)
    if s.bad_date_rows:
        rows = ", ".join(map(str, s.bad_date_rows[:10])) + (" ..." if len(s.bad_date_rows) > 10 else "")
        say(f"warning: {len(s.bad_date_rows)} rows have an unreadable or out-of-range date (rows {rows}); "
            f"their deadline is left empty", a.quiet)
    if s.replaced_columns:
        say(f"note: replaced existing columns {s.replaced_columns}", a.quiet)
    return EXIT_OK


def summary_line(s, output: str) -> str:
    """'120 opinions → out.xlsx in 1.2 s: 8 need review (5 low confidence, 3 off topic); tax 30, ...'"""
    reasons = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in s.reasons.most_common())
    review = f"{s.needs_review} need review" + (f" ({reasons})" if reasons else "")
    cats = ", ".join(f"{c} {n}" for c, n in s.categories.most_common())
    procs = f", {s.jobs} processes" if s.jobs > 1 else ""
    return f"{s.rows} opinions → {output} in {s.seconds:.1f} s{procs}: {review}" + (f"; {cats}" if cats else "")
