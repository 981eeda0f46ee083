"""The handlers of ``triage register ...`` (the parser is ``triage.cli.register``): each
parses its flags into one call of ``triage.register.Register`` and prints the result."""
from __future__ import annotations

import getpass
import json
import os
import textwrap
import unicodedata
from pathlib import Path

from triage.cli.common import EXIT_OK
from triage.errors import InputError


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
    from triage.register import init_register
    from triage.register.db import database_url, db_label

    before, after = init_register(a.db)
    where = db_label(database_url(a.db))
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
        raise RegisterError(f"no register at {path.name}; create it with: triage register init (and the same --db)")
    return cmd_init(a)


def cmd_create(a) -> int:
    from triage.register import read_problems

    ps = read_problems(a.problems)
    problems = ps.problems
    if a.problem:
        known = [p.problem_id for p in problems]
        missing = [pid for pid in a.problem if pid not in known]
        if missing:
            raise InputError(f"problem ids {missing} are not among the confirmed problems of {Path(a.problems).name}; "
                             f"found {known}")
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
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            raise InputError(f"cannot read the answer from {Path(a.file).name}: expected a UTF-8 text file ({why})") from None
    with _register(a) as reg:
        return _changed(reg.answer(a.ref, text, actor=_who(a), on=a.on, expected_version=a.expect_version))


def cmd_rate(a) -> int:
    from triage.register import LOOK_BACK_WORKING_DAYS

    with _register(a) as reg:
        return _changed(reg.rate(a.ref, a.satisfaction, actor=_who(a), note=a.note, on=a.on,
                                 look_back_days=a.look_back_days or LOOK_BACK_WORKING_DAYS, deadline=a.deadline,
                                 expected_version=a.expect_version))


def cmd_correct_date(a) -> int:
    with _register(a) as reg:
        return _changed(reg.correct_date(a.ref, a.on, reason=a.reason, actor=_who(a), event=a.event,
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
        if "corrects_version" in e["changes"]:
            print(f"    corrects v{e['changes']['corrects_version'][1]}")
        for field, (old, new) in e["changes"].items():
            if field not in ("status", "corrects_version"):
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
