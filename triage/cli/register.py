"""``triage register ...``: the register of suggestions and motions (a thin door over
``triage.register``). Every action records who did it (``--by``, default: $TRIAGE_USER or the
login name) and, with ``--expect-version``, refuses to apply over someone else's change."""
from __future__ import annotations

import getpass
import json
import os
import textwrap
import unicodedata

from triage.errors import InputError

EXIT_OK = 0
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

    def add(name, help_, desc, example, handler, db=True, who=False, versioned=True):
        p = rs.add_parser(name, formatter_class=fmt, help=help_, description=desc, epilog=_ex(*example))
        if db:
            p.add_argument("--db", help=DB_HELP)
        if who:
            p.add_argument("--by", help="who records this (default: $TRIAGE_USER or the login name)")
            p.add_argument("--on", help="the date it happened, if earlier than today (YYYY-MM-DD)")
        if who and versioned:
            p.add_argument("--expect-version", type=int, metavar="N",
                           help="refuse (conflict) unless the suggestion is still at version N, as you read it")
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

    p = add("list", "list suggestions and motions, with filters",
            "List the register. Filters combine. 列出台账，可按逾期、到期、代表、单位筛选。",
            ["triage register list --overdue", "triage register list --due-within 14 --agency 税务",
             "triage register list --deputy 周建华 --status in_progress --json"], cmd_list)
    p.add_argument("--overdue", action="store_true", help="past the deadline and still owed an answer")
    p.add_argument("--due-within", type=int, metavar="DAYS", help="owed an answer and due within DAYS calendar days")
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


# ---- handlers ----------------------------------------------------------------------------
def _register(a):
    from triage.register import Register

    return Register(a.db)


def _who(a) -> str:
    who = a.by or os.environ.get("TRIAGE_USER")
    if not who:
        try:
            who = getpass.getuser()
        except Exception:  # no login name (some containers)
            raise InputError("who records this? give --by NAME (or set TRIAGE_USER)") from None
    return who


def _json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str, width: int) -> str:
    out = ""
    for c in text:
        if _width(out + c) > width - 1:
            return out + "…"
        out += c
    return out


def _pad(text: str, width: int) -> str:
    text = _cut(text, width) if _width(text) > width else text
    return text + " " * (width - _width(text))


def _summary(s: dict) -> str:
    due = f", due {s['deadline']}" if s["deadline"] else ""
    late = f" (overdue {s['days_overdue']} days)" if s["overdue"] else ""
    return f"{s['code']} {s['kind_zh']} [{s['status']} {s['status_zh']}] version {s['version']}{due}{late}: {s['title']}"


def cmd_init(a) -> int:
    from triage.register import init_register, safe_url
    from triage.register.db import database_url, sqlite_file

    before, after = init_register(a.db)
    url = database_url(a.db)
    where = sqlite_file(url) or safe_url(url)
    if before == after:
        print(f"register {where} is already at the newest schema ({after})")
    elif before is None:
        print(f"created register {where} (schema {after})")
    else:
        print(f"upgraded register {where} from schema {before} to {after}")
    return EXIT_OK


def cmd_upgrade(a) -> int:
    from triage.register.db import database_url, sqlite_file
    from triage.register.errors import RegisterError

    path = sqlite_file(database_url(a.db))
    if path is not None and not path.is_file():
        raise RegisterError(f"no register at {path}; create it with: triage register init --db {path}")
    return cmd_init(a)


def cmd_create(a) -> int:
    from triage.register import read_problems

    ps = read_problems(a.problems)
    problems = ps.problems
    if a.problem:
        known = [p.problem_id for p in problems]
        missing = [pid for pid in a.problem if pid not in known]
        if missing:
            raise InputError(f"problem ids {missing} are not among the confirmed problems of {a.problems}; found {known}")
        problems = [p for p in problems if p.problem_id in a.problem]
    if ps.not_confirmed:
        print(f"note: left out {len(ps.not_confirmed)} problem(s) not marked confirmed: {', '.join(ps.not_confirmed)}")
    groups = [[p] for p in problems] if a.each else [problems]
    opts = dict(actor=_who(a), kind=a.kind, title=a.title, category=a.category, tier=a.tier, lead_agency=a.lead_agency,
                co_organisers=a.co_organiser or (), supervision=a.supervision, on=a.on, allow_duplicates=a.allow_duplicates)
    with _register(a) as reg:
        for group in groups:
            s = reg.create(group, **opts)
            print(f"created {_summary(s)} from {len(group)} problem(s)")
    return EXIT_OK


def _changed(s: dict) -> int:
    print(_summary(s))
    return EXIT_OK


def cmd_assign(a) -> int:
    with _register(a) as reg:
        return _changed(reg.assign(a.ref, actor=_who(a), lead_agency=a.lead_agency, co_organisers=a.co_organiser,
                                   deputies=a.deputy, deputy_group=a.deputy_group, deadline=a.deadline,
                                   working_days=a.working_days, supervision=a.supervision, on=a.on, note=a.note,
                                   expected_version=a.expect_version))


def cmd_progress(a) -> int:
    with _register(a) as reg:
        return _changed(reg.progress(a.ref, a.note, actor=_who(a), on=a.on, expected_version=a.expect_version))


def cmd_answer(a) -> int:
    if (a.text is None) == (a.file is None):
        raise InputError("give the answer either as text or with --file, not both or neither")
    text = a.text
    if a.file:
        try:
            with open(a.file, encoding="utf-8-sig") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the answer from {a.file}: expected a UTF-8 text file ({exc})") from None
    with _register(a) as reg:
        return _changed(reg.answer(a.ref, text, actor=_who(a), on=a.on, expected_version=a.expect_version))


def cmd_rate(a) -> int:
    from triage.register import LOOK_BACK_WORKING_DAYS

    with _register(a) as reg:
        return _changed(reg.rate(a.ref, a.satisfaction, actor=_who(a), note=a.note, on=a.on,
                                 look_back_days=a.look_back_days or LOOK_BACK_WORKING_DAYS, deadline=a.deadline,
                                 expected_version=a.expect_version))


def cmd_list(a) -> int:
    with _register(a) as reg:
        rows = reg.list(status=a.status, kind=a.kind, overdue=a.overdue, due_within=a.due_within, deputy=a.deputy,
                        agency=a.agency, year=a.year, category=a.category, tier=a.tier)
    if a.json:
        _json(rows)
        return EXIT_OK
    cols = (("code", 11), ("status", 8), ("tier", 8), ("lead agency", 22), ("deadline", 12), ("overdue", 7),
            ("deputy", 14), ("title", 40))
    print(" ".join(_pad(name, w) for name, w in cols).rstrip())
    for s in rows:
        deputy = "、".join(s["deputies"]) or s["deputy_group"] or ""
        cells = [s["code"], s["status_zh"], s["tier_zh"] or s["tier"], s["lead_agency"] or "", s["deadline"] or "",
                 f"{s['days_overdue']}d" if s["overdue"] else "", deputy, s["title"]]
        print(" ".join(_pad(c, w) for c, (_, w) in zip(cells, cols)).rstrip())
    print(f"{len(rows)} item(s)")
    return EXIT_OK


def cmd_show(a) -> int:
    with _register(a) as reg:
        s = reg.get(a.ref)
    if a.json:
        _json(s)
        return EXIT_OK
    print(_summary(s))
    rows = [("category 类别", f"{s['category_zh']} ({s['category']})"), ("tier 层级", f"{s['tier_zh']} ({s['tier']})"),
            ("lead agency 主办", s["lead_agency"]), ("co-organisers 协办", "、".join(s["co_organisers"])),
            ("deputies 代表", "、".join(s["deputies"])), ("deputy group 代表小组", s["deputy_group"]),
            ("supervision 督办", s["supervision_zh"]),
            ("deadline 期限", s["deadline"] and f"{s['deadline']}" + (f" ({s['working_days']} working days)" if s["working_days"] else "")),
            ("raised 交办", s["raised_on"]), ("answered 答复", s["answered_on"]), ("answer 答复内容", s["answer"]),
            ("satisfaction 满意度", s["satisfaction_zh"]), ("closed 办结", s["closed_on"]), ("look-backs 回头看", s["look_backs"] or None),
            ("enterprises 企业", "、".join(s["enterprises"])), ("opinions 意见", ", ".join(s["opinion_ids"]))]
    for k, v in rows:
        if v:
            print(f"  {_pad(k, 24)}{v}")
    print("  problems 问题:")
    for p in s["problems"]:
        print(textwrap.fill(f"- [{p['problem_id'] or '?'}] {p['text']}", width=100, initial_indent="    ",
                            subsequent_indent="      "))
    return EXIT_OK


def cmd_history(a) -> int:
    with _register(a) as reg:
        events = reg.history(a.ref)
    if a.json:
        _json(events)
        return EXIT_OK
    for e in events:
        move = e["status_to"] if e["status_from"] in (None, e["status_to"]) else f"{e['status_from']} -> {e['status_to']}"
        print(f"v{e['version']} {e['effective_on']} {e['action']:<8} {move:<24} by {e['actor']} (recorded {e['at'][:19]}Z)")
        for field, (old, new) in e["changes"].items():
            if field != "status":
                print(f"    {field}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}")
        if e["note"]:
            print(f"    note: {e['note']}")
    return EXIT_OK


def cmd_stats(a) -> int:
    with _register(a) as reg:
        st = reg.stats(since=a.since)
    if a.html:
        from triage.register.report import write_report

        write_report(st, a.html)
    if a.json:
        _json(st)
        return EXIT_OK
    print(st["headline_zh"])
    print(st["headline_en"])
    print(f"{'year':<6}{'sugg. raised':>14}{'completed':>11}{'motions':>9}{'completed':>11}")
    for r in st["by_year"]:
        print(f"{r['year']:<6}{r['suggestion']['raised']:>14}{r['suggestion']['completed']:>11}"
              f"{r['motion']['raised']:>9}{r['motion']['completed']:>11}")
    for key in ("category", "tier"):
        print(f"by {key}: " + ", ".join(f"{r[key]} {r['raised']}/{r['completed']}" for r in st[f"by_{key}"])
              + " (raised/completed)")
    h = st["handling"]
    print(f"overdue: {len(st['overdue'])}" + (" (" + ", ".join(f"{o['code']} {o['days_overdue']}d" for o in st["overdue"]) + ")" if st["overdue"] else ""))
    print(f"closed: {h['closed']}; average handling {h['average_days'] if h['average_days'] is not None else '-'} days"
          + (f" ({h['average_working_days']} working days over {h['working_days_counted']})" if h["average_working_days"] is not None else ""))
    if a.html:
        print(f"report written to {a.html}")
    return EXIT_OK
