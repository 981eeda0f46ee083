"""``triage models``: list the versions of a models folder, promote one, roll back."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from triage.cli.common import EXIT_OK, EXIT_USAGE, quiet_arg, quietly


def add_commands(sub, fmt) -> None:
    m = sub.add_parser("models", formatter_class=fmt, help="list, promote and roll back model versions",
                       description="A models folder keeps several versions side by side; the service and the\n"
                                   "command line use the one its CURRENT file names. These commands move that\n"
                                   "mark and log every move in the folder's HISTORY. 模型版本管理。",
                       epilog=textwrap.dedent("""\
                           example:
                             triage models list
                             triage models promote 20260301-101500-ab12cd34
                             triage models rollback"""))
    m.set_defaults(func=lambda a, p=m: (p.print_help(), EXIT_USAGE)[1])
    msub = m.add_subparsers(dest="models_command", metavar="ACTION")

    ls = msub.add_parser("list", formatter_class=fmt, help="list the versions, the current one marked",
                         description="Every version of the models folder with its creation time and\n"
                                     "cross-validated macro-F1; '*' marks the current one. 列出版本。",
                         epilog="example:\n  triage models list --models my-station/models")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _models_arg(ls)
    ls.set_defaults(func=cmd_list)

    pr = msub.add_parser("promote", formatter_class=fmt, help="make a version current, if it is not worse",
                         description="Cross-validate the version and the current one side by side on the same\n"
                                     "folds of the data folder; make the version current unless its macro-F1\n"
                                     "(category or tier) is lower than the current one's by more than the\n"
                                     "tolerance. --force promotes without that check. 切换当前版本。",
                         epilog=textwrap.dedent("""\
                             example:
                               triage models promote 20260301-101500-ab12cd34
                               triage models promote 20260301-101500-ab12cd34 --data my-station/data --tolerance 0.02
                               triage models promote 20260301-101500-ab12cd34 --force"""))
    pr.add_argument("target_version", metavar="VERSION",
                    help="name of a version folder in the models folder (see 'triage models list')")
    pr.add_argument("--force", action="store_true", help="promote even if worse; skips the comparison")
    pr.add_argument("--tolerance", type=float, default=0.01,
                    help="how much lower the macro-F1 may be (default 0.01)")
    pr.add_argument("--data", help="data folder to compare on (default: the bundled data/)")
    _models_arg(pr)
    quiet_arg(pr)
    pr.set_defaults(func=quietly(cmd_promote))

    rb = msub.add_parser("rollback", formatter_class=fmt, help="make the previously current version current again",
                         description="Put back the version that was current before the current one, as\n"
                                     "recorded in the models folder's HISTORY. 回退到上一个版本。",
                         epilog="example:\n  triage models rollback --models my-station/models")
    _models_arg(rb)
    quiet_arg(rb)
    rb.set_defaults(func=quietly(cmd_rollback))


def _models_arg(p) -> None:
    p.add_argument("--models", help="models folder (default: the shipped models/, or TRIAGE_MODELS_DIR)")


def _folder(a):
    from triage import paths

    return a.models or paths.models_dir()


def _f1(v) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) else "-"


def cmd_list(a) -> int:
    from triage.store.versions import list_versions, previous_version

    rows = list_versions(_folder(a))
    if a.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print(f"no model versions in {_folder(a)}")
        return EXIT_OK
    print(f"  {'version':<28} {'created (UTC)':<26} {'category F1':>11} {'tier F1':>8} {'trained on':>10}")
    for r in rows:
        print(f"{'*' if r['current'] else ' '} {r['version']:<28} {r['created_at'] or '-':<26} "
              f"{_f1(r['macro_f1']):>11} {_f1(r['tier_macro_f1']):>8} {r['n_train'] or '-':>10}"
              + (f"  ({r['problem']})" if r["problem"] else ""))
    previous = previous_version(_folder(a))
    if previous:
        print(f"rollback would return to {previous}")
    return EXIT_OK


def cmd_promote(a) -> int:
    from triage.store.versions import check_version, current_version, promote

    folder = _folder(a)
    check_version(Path(folder), a.target_version)
    current = current_version(folder)
    if current and current != a.target_version and not a.force:
        print(f"comparing {a.target_version} with the current {current} on the same cross-validation folds "
              f"(this retrains both several times)...", file=sys.stderr)
    d = promote(folder, a.target_version, force=a.force, data_dir=a.data, tolerance=a.tolerance)
    for task, s in d.scores.items():
        print(f"{task} macro-F1: {_f1(s['candidate'])} (current {_f1(s['current'])}, change {s['delta']:+.3f})")
    if d.current == a.target_version:
        print(d.reason)
    else:
        print(f"{a.target_version} is now current (was {d.current or 'none'}){'; forced' if a.force else ''}")
    return EXIT_OK


def cmd_rollback(a) -> int:
    from triage.store.versions import rollback

    old, new = rollback(_folder(a))
    print(f"{new} is current again (was {old})")
    return EXIT_OK
