"""``triage register ...``: the register of suggestions and motions (a thin door over
``triage.register``). Every action records who did it (``--by``, default: $TRIAGE_USER or the
login name) and, with ``--expect-version``, refuses to apply over someone else's change.
This module builds the commands; ``register_cmds`` runs them."""
from __future__ import annotations

from triage.cli.common import quiet_arg, quietly
from triage.cli.register_cmds import (cmd_answer, cmd_assign, cmd_correct_date, cmd_create, cmd_history, cmd_init,
                                      cmd_list, cmd_progress, cmd_rate, cmd_show, cmd_stats, cmd_upgrade)

DB_HELP = ("register database: a file path (SQLite) or a SQLAlchemy URL such as "
           "postgresql+psycopg://user:pw@host/db (default: $TRIAGE_REGISTER_DB, else register.db)")


def _ex(*lines: str) -> str:
    return "example:\n" + "\n".join("  " + ln for ln in lines)


def add_commands(sub, fmt) -> None:
    r = sub.add_parser("register", formatter_class=fmt, help="the register of suggestions and motions (建议议案台账)",
                       description="Create suggestions and motions from a screening's confirmed problems, assign "
                                   "them (lead agency, deadline in working days, deputy), record progress, answers "
                                   "and satisfaction, list and count them. 建议议案办理台账。",
                       epilog=_ex("triage register init", "triage register create problems.csv --kind suggestion",
                                  "triage register list --overdue"))
    r.set_defaults(func=lambda a: (r.print_help(), 2)[1])
    rs = r.add_subparsers(dest="register_command", metavar="ACTION")

    def add(name, help_, desc, example, handler, db=True, who=False, versioned=True, changes=None):
        p = rs.add_parser(name, formatter_class=fmt, help=help_, description=desc, epilog=_ex(*example))
        if db:
            p.add_argument("--db", help=DB_HELP)
        if who:
            p.add_argument("--by", help="who records this (default: $TRIAGE_USER or the login name)")
            p.add_argument("--on", help="the date it happened, if earlier than today (YYYY-MM-DD)")
        if who and versioned:
            p.add_argument("--expect-version", type=int, metavar="N",
                           help="refuse (conflict) unless the suggestion is still at version N, as you read it")
        if changes if changes is not None else (who or name in ("init", "upgrade")):  # their output is a confirmation
            quiet_arg(p)
            handler = quietly(handler)
        p.set_defaults(func=handler)
        return p

    add("init", "create the register, or upgrade it to the newest schema",
        "Create the register's tables (Alembic migrations), or bring an existing register to the newest schema. "
        "Safe to run again. 建立台账数据库。", ["triage register init", "triage register init --db station.db",
                                              "triage register init --db postgresql+psycopg://triage@dbhost/register"],
        cmd_init)
    add("upgrade", "upgrade an existing register to the newest schema",
        "Apply the schema migrations an existing register has not had yet. 升级台账数据库结构。",
        ["triage register upgrade --db station.db"], cmd_upgrade)

    p = add("create", "create a suggestion or motion from confirmed problems",
            "Create a draft suggestion (建议) or motion (议案) from the confirmed problems of a screening: a CSV, "
            "XLSX, JSONL or JSON file with the columns problem_id, text, category, tier, enterprises, opinion_ids "
            "and optionally confirmed (see the README), or the deputies' filled-in screening workbook of 'triage "
            "screen' (opinions decided keep or merge). By default all confirmed problems of the file make one "
            "suggestion; --each makes one per problem. 由确认的问题清单生成建议或议案。",
            ["triage register create problems.csv --kind motion --title 原木收购发票问题",
             "triage register create problems.csv --problem P3 --problem P7 --category tax --tier key",
             "triage register create screening-2025-06.xlsx --each"], cmd_create, who=True, versioned=False)
    p.add_argument("problems", help="confirmed problems: .csv, .xlsx, .jsonl or .json")
    p.add_argument("--problem", action="append", metavar="ID", help="take only this problem id (repeatable)")
    p.add_argument("--each", action="store_true", help="one suggestion per problem instead of one for all")
    p.add_argument("--kind", default="suggestion", help="suggestion (建议, default) or motion (议案)")
    p.add_argument("--title", help="title (default: the first problem's text)")
    p.add_argument("--category", help="category code or name (default: the problems' common category)")
    p.add_argument("--tier", help="tier code or name (default: the weightiest tier among the problems)")
    p.add_argument("--lead-agency", help="lead agency (default: the category's lead agency in the taxonomy)")
    p.add_argument("--co-organiser", action="append", metavar="AGENCY", help="co-organiser (repeatable)")
    p.add_argument("--supervision", help="all (全体代表督办) or group (代表小组督办); default from the tier")
    p.add_argument("--allow-duplicates", action="store_true", help="register problems that are already in the register")

    p = add("assign", "assign with lead agency, deadline and deputy (the three clarities)",
            "Assign a draft (or re-assign an assigned one): lead agency, co-organisers, responsible deputy or "
            "deputy group, and the deadline, counted in working days (Chinese public holidays and make-up working "
            "days honoured) from the tier's deadline_days unless given. 交办（三明确）。",
            ["triage register assign S-2025-003 --deputy 周建华 --co-organiser 区林业局",
             "triage register assign 3 --deputy-group 第三代表小组 --working-days 60 --expect-version 1"],
            cmd_assign, who=True)
    p.add_argument("ref", help="number or code of the suggestion (3 or S-2025-003)")
    p.add_argument("--lead-agency", help="lead agency (主办单位)")
    p.add_argument("--co-organiser", action="append", metavar="AGENCY", help="co-organiser (协办单位, repeatable)")
    p.add_argument("--deputy", action="append", metavar="NAME", help="responsible deputy (参与代表, repeatable)")
    p.add_argument("--deputy-group", help="responsible deputy group (代表小组)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--working-days", type=int, metavar="N", help="deadline N working days after the assignment")
    g.add_argument("--deadline", help="deadline as a date (YYYY-MM-DD)")
    p.add_argument("--supervision", help="all (全体代表督办) or group (代表小组督办)")
    p.add_argument("--note", help="a note for the history")

    p = add("progress", "record progress on the handling",
            "Record a step of the handling (meeting, site visit, partial result). 记录办理进展。",
            ["triage register progress S-2025-003 '区税务局召开座谈会，6家企业参加'"], cmd_progress, who=True)
    p.add_argument("ref", help="number or code")
    p.add_argument("note", help="what happened")

    p = add("answer", "record the department's answer",
            "Record the lead agency's answer (答复). 记录答复。",
            ["triage register answer S-2025-003 '已明确收购发票开具流程'", "triage register answer 3 --file answer.txt"],
            cmd_answer, who=True)
    p.add_argument("ref", help="number or code")
    p.add_argument("text", nargs="?", help="the answer (or --file)")
    p.add_argument("--file", help="read the answer from a UTF-8 text file")

    p = add("rate", "record the proposer's satisfaction (满意 / 基本满意 / 不满意)",
            "Record the proposer's satisfaction with the answer: 满意 (satisfied) or 基本满意 (basically_satisfied) "
            "closes it; 不满意 (dissatisfied) reopens it into look-back (回头看) with a new deadline. 满意度测评。",
            ["triage register rate S-2025-003 满意", "triage register rate 3 不满意 --note '未解决抵扣问题'"],
            cmd_rate, who=True)
    p.add_argument("ref", help="number or code")
    p.add_argument("satisfaction", help="满意 / 基本满意 / 不满意 (or satisfied / basically_satisfied / dissatisfied)")
    p.add_argument("--note", help="why (kept in the history)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--look-back-days", type=int, metavar="N", help="working days for the look-back (default 20)")
    g.add_argument("--deadline", help="look-back deadline as a date (YYYY-MM-DD)")

    p = add("correct-date", "correct a date typed wrong (recorded; the history stays append-only)",
            "Correct the date of a recorded change (default: the latest one) that was typed wrong. A correction "
            "event records the change corrected, the old and new date and the reason; the dates that follow from "
            "it (created, raised, answered, closed, a deadline counted in working days, and the code's year) are "
            "set again. Dates lie between 2000-01-01 and the end of next year. 更正录错的日期（留痕，不改历史）。",
            ["triage register correct-date S-2024-007 --on 2025-06-25 --reason '录入年份错误'",
             "triage register correct-date 3 --event 2 --on 2025-06-27 --reason '交办日期应为6月27日'"],
            cmd_correct_date, who=False, changes=True)
    p.add_argument("ref", help="number or code of the suggestion (3 or S-2025-003)")
    p.add_argument("--on", required=True, help="the right date (YYYY-MM-DD)")
    p.add_argument("--reason", required=True, help="why the date is corrected (kept in the history)")
    p.add_argument("--event", type=int, metavar="VERSION",
                   help="the change to correct, by its version in 'register history' (default: the latest)")
    p.add_argument("--by", help="who records this (default: $TRIAGE_USER or the login name)")
    p.add_argument("--expect-version", type=int, metavar="N",
                   help="refuse (conflict) unless the suggestion is still at version N, as you read it")

    p = add("list", "list suggestions and motions, with filters",
            "List the register. Filters combine. 列出台账，可按逾期、到期、代表、单位筛选。",
            ["triage register list --overdue", "triage register list --due-within 14 --agency 税务",
             "triage register list --deputy 周建华 --status in_progress --json"], cmd_list)
    p.add_argument("--overdue", action="store_true", help="past the deadline and still owed an answer")
    p.add_argument("--due-within", type=int, metavar="DAYS",
                   help="owed an answer and due within DAYS calendar days (0 to 36500)")
    p.add_argument("--deputy", help="part of a responsible deputy's or deputy group's name")
    p.add_argument("--agency", help="part of the lead agency's or a co-organiser's name")
    p.add_argument("--status", action="append", help="draft, assigned, in_progress, answered, closed, look_back")
    p.add_argument("--kind", help="suggestion or motion")
    p.add_argument("--year", type=int, help="year raised")
    p.add_argument("--category", help="category code or name")
    p.add_argument("--tier", help="tier code or name")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("show", "show one suggestion with its problems", "Show one suggestion or motion. 查看详情。",
            ["triage register show S-2025-003"], cmd_show)
    p.add_argument("ref", help="number or code")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("history", "show the history of a suggestion (who, when, what)",
            "Every change ever recorded, oldest first; the history is append-only. 办理全过程记录。",
            ["triage register history S-2025-003"], cmd_history)
    p.add_argument("ref", help="number or code")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("stats", "statistics: raised and completed per year, type and tier; overdue; handling time",
            "Counts raised and completed per year, type (suggestion / motion), category and tier, the overdue "
            "items and the average handling time; --html writes the report with charts. 统计与报告。",
            ["triage register stats", "triage register stats --since 2021 --html register-report.html"], cmd_stats)
    p.add_argument("--since", type=int, metavar="YEAR", help="count only what was raised from YEAR on")
    p.add_argument("--html", metavar="FILE", help="write the HTML report with charts")
    p.add_argument("--json", action="store_true", help="print JSON")


