"""The register on SQLite and PostgreSQL: schema migrations, creation from confirmed problems,
the status machine, look-back, the append-only history and conflicting updates."""
import datetime as dt
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from triage.errors import InputError
from triage.register import (ConfirmedProblem, ConflictError, Register, RegisterError, TransitionError, init_register,
                             problems_from_records)
from triage.calendar import load_calendar
from triage.register.models import Event, Suggestion

D = dt.date


class Clock:
    def __init__(self, day):
        self.day = day

    def __call__(self):
        return self.day


@pytest.fixture
def clock():
    return Clock(D(2025, 6, 30))


@pytest.fixture
def reg(register_db, clock):
    init_register(register_db)
    r = Register(register_db, today=clock)
    yield r
    r.close()


TAX = ConfirmedProblem("向林农收购原木开不出收购发票，进项无法抵扣，联系电话13812345678", "tax", "transfer",
                       ("甲木业", "乙板材"), ("2025-06-001", "2025-06-014"), "P1", "screening-2025-06.csv")
TAX_KEY = ConfirmedProblem("全区单板加工企业普遍反映收购发票难开", "税收与税改", "重点提", ("丙家具",), ("2025-06-020",),
                           "P2", "screening-2025-06.csv")
ROAD = ConfirmedProblem("园区道路破损", "infrastructure", "on_site", ("丁胶合板",), ("2025-06-031",), "P3")


def _assigned(reg, on="2025-06-23", **kw):
    s = reg.create([TAX], actor="联络站", on="2025-06-20")
    return reg.assign(s["code"], actor="联络站", deputies=["周建华"], on=on, **kw)


def test_the_migration_creates_exactly_the_models_schema(register_db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from triage.register.db import make_engine
    from triage.register.migrate import head_revision
    from triage.register.models import Base

    assert init_register(register_db) == (None, head_revision())
    assert init_register(register_db) == (head_revision(), head_revision())  # running it again changes nothing
    engine = make_engine(register_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        tables = set(conn.dialect.get_table_names(conn))
    engine.dispose()
    assert diff == []
    assert tables == {"alembic_version", "suggestions", "problems", "events"}


def test_an_uninitialised_database_is_refused_with_the_command_to_run(register_db):
    with pytest.raises(RegisterError, match="triage register init"):
        Register(register_db)


def test_create_keeps_the_problems_links_and_masks_personal_data(reg):
    s = reg.create([TAX, TAX_KEY], actor="联络站", kind="motion", on="2025-06-20")
    assert (s["code"], s["kind"], s["status"], s["version"]) == ("M-2025-001", "motion", "draft", 1)
    assert (s["category"], s["tier"]) == ("tax", "key")  # the weightiest tier of the problems
    assert (s["lead_agency"], s["supervision"]) == ("区税务局", "all")
    assert s["enterprises"] == ["丙家具", "乙板材", "甲木业"]
    assert s["opinion_ids"] == ["2025-06-001", "2025-06-014", "2025-06-020"]
    assert [p["problem_id"] for p in s["problems"]] == ["P1", "P2"]
    assert s["problems"][0]["text"] == "向林农收购原木开不出收购发票,进项无法抵扣,联系电话[手机号]"
    assert s["problems"][0]["source"] == "screening-2025-06.csv"
    assert s["title"].endswith("（等2个问题）") and "13812345678" not in s["title"]
    other = reg.create([ROAD], actor="联络站", on="2025-06-20")
    assert (other["code"], other["supervision"], other["working_days"]) == ("S-2025-001", "group", 7)


def test_create_refuses_mixed_categories_and_duplicates(reg):
    with pytest.raises(InputError, match=r"categories \['infrastructure', 'tax'\]; choose the suggestion's category"):
        reg.create([TAX, ROAD], actor="联络站")
    first = reg.create([TAX], actor="联络站")
    with pytest.raises(InputError, match=f"problem 'P1' is already in {first['code']}"):
        reg.create([TAX], actor="联络站")
    assert reg.create([TAX], actor="联络站", allow_duplicates=True)["code"] == "S-2025-002"
    with pytest.raises(InputError, match=r"category: expected one of tax \(税收与税改\).*found 'tea'"):
        reg.create([ROAD], actor="联络站", category="tea")
    with pytest.raises(InputError, match=r"problem P9: tier: expected one of on_site \(现场办\).*found 'urgent'"):
        reg.create([ConfirmedProblem("x", "tax", "urgent", problem_id="P9")], actor="联络站")


def test_assign_sets_the_three_clarities_and_a_working_day_deadline(reg):
    s = reg.create([ROAD], actor="联络站", on="2025-01-20")
    with pytest.raises(InputError, match="needs the responsible deputy or deputy group"):
        reg.assign(s["code"], actor="联络站", on="2025-01-24")
    s = reg.assign(s["code"], actor="联络站", deputy_group="第三代表小组", co_organisers=["区林业局"], on="2025-01-24",
                   expected_version=1)
    # on_site: 7 working days from Friday 24 Jan 2025, across the Spring Festival and its make-up days
    assert (s["status"], s["deadline"], s["working_days"], s["raised_on"]) == ("assigned", "2025-02-10", 7, "2025-01-24")
    assert (s["lead_agency"], s["co_organisers"], s["deputy_group"], s["version"]) == ("区住房和城乡建设局", ["区林业局"], "第三代表小组", 2)
    s = reg.assign(s["code"], actor="联络站", deadline="2025-03-31", lead_agency="区交通运输局", on="2025-01-27")
    assert (s["deadline"], s["working_days"], s["lead_agency"], s["raised_on"]) == ("2025-03-31", None, "区交通运输局", "2025-01-24")


def test_a_deadline_in_a_year_without_holidays_yet_is_counted_and_marked_provisional(reg, clock):
    clock.day = D(2026, 11, 26)
    s = reg.create([TAX_KEY], actor="联络站", on="2026-11-26")
    s = reg.assign(s["code"], actor="联络站", deputies=["周建华"], on="2026-11-26")
    assert s["working_days"] == 180 and s["deadline"] > "2027-01-01"
    assigned = [e for e in reg.history(s["code"]) if e["action"] == "assign"][0]
    assert assigned["changes"]["deadline_provisional"][1].startswith("holidays of 2027 are not in the calendar yet")


@pytest.mark.parametrize("steps, action, message", [
    ([], "answer", "cannot record an answer for S-2025-001: its status is 'draft' (草稿); allowed next: "
                   "'assigned' (已交办); attempted: 'answered' (已答复)"),
    ([], "rate", "cannot rate S-2025-001: its status is 'draft' (草稿); allowed next: 'assigned' (已交办); "
                 "attempted: 'closed' (已办结)"),
    (["assign", "answer"], "progress", "cannot record progress on S-2025-001: its status is 'answered' (已答复); "
                                       "allowed next: 'closed' (已办结), 'look_back' (回头看); attempted: 'in_progress' (办理中)"),
    (["assign", "answer", "rate"], "progress", "cannot record progress on S-2025-001: its status is 'closed' (已办结); "
                                               "allowed next: none (it is final); attempted: 'in_progress' (办理中)"),
    (["assign", "progress"], "assign", "cannot assign S-2025-001: its status is 'in_progress' (办理中); allowed next: "
                                       "'in_progress' (办理中), 'answered' (已答复); attempted: 'assigned' (已交办)"),
])
def test_illegal_transitions_are_refused_naming_current_allowed_and_attempted(reg, steps, action, message):
    code = reg.create([ROAD], actor="联络站")["code"]
    do = {
        "assign": lambda: reg.assign(code, actor="a", deputies=["周建华"], deadline="2025-07-31"),
        "progress": lambda: reg.progress(code, "现场查看", actor="a"),
        "answer": lambda: reg.answer(code, "已修复", actor="a"),
        "rate": lambda: reg.rate(code, "满意", actor="a"),
    }
    for step in steps:
        do[step]()
    before = reg.get(code)
    with pytest.raises(TransitionError) as err:
        do[action]()
    assert str(err.value) == message
    assert reg.get(code) == before  # nothing changed, no event recorded
    assert len(reg.history(code)) == len(steps) + 1


def test_dissatisfaction_reopens_into_look_back_with_a_new_deadline(reg, clock):
    code = _assigned(reg)["code"]
    reg.progress(code, "召开座谈会", actor="周建华", on="2025-06-24")
    reg.answer(code, "已明确收购发票开具流程", actor="区税务局", on="2025-06-26")
    s = reg.rate(code, "不满意", actor="周建华", note="抵扣问题仍未解决", on="2025-06-27")
    cal = load_calendar()
    assert (s["status"], s["satisfaction"], s["look_backs"]) == ("look_back", "dissatisfied", 1)
    assert s["deadline"] == cal.add_working_days(D(2025, 6, 27), 20).isoformat() == "2025-07-25"
    assert s["closed_on"] is None
    clock.day = D(2025, 7, 28)
    assert reg.get(code)["overdue"] is True and reg.get(code)["days_overdue"] == 3
    reg.answer(code, "已协调开具收购发票并完成抵扣", actor="区税务局", on="2025-07-28")
    s = reg.rate(code, "基本满意", actor="周建华", on="2025-07-28")
    assert (s["status"], s["satisfaction"], s["closed_on"], s["look_backs"], s["overdue"]) == \
        ("closed", "basically_satisfied", "2025-07-28", 1, False)


def test_every_change_is_an_event_with_who_when_and_what(reg):
    code = _assigned(reg, co_organisers=["区林业局"])["code"]
    reg.progress(code, "走访企业，电话13812345678", actor="周建华", on="2025-06-24")
    reg.answer(code, "已答复", actor="区税务局", on="2025-06-26")
    history = reg.history(code)
    assert [(e["version"], e["action"], e["actor"], e["effective_on"], e["status_from"], e["status_to"]) for e in history] == [
        (1, "create", "联络站", "2025-06-20", None, "draft"),
        (2, "assign", "联络站", "2025-06-23", "draft", "assigned"),
        (3, "progress", "周建华", "2025-06-24", "assigned", "in_progress"),
        (4, "answer", "区税务局", "2025-06-26", "in_progress", "answered"),
    ]
    assert history[0]["changes"] == {
        "kind": [None, "suggestion"], "title": [None, "向林农收购原木开不出收购发票,进项无法抵扣,联系电话[手机号]"],
        "category": [None, "tax"], "tier": [None, "transfer"], "lead_agency": [None, "区税务局"],
        "supervision": [None, "group"], "working_days": [None, 90]}
    assert history[0]["note"] == "from 1 confirmed problem(s) of screening-2025-06.csv"
    assert history[1]["changes"] == {
        "co_organisers": [[], ["区林业局"]], "deputies": [[], ["周建华"]], "deadline": [None, "2025-10-31"],
        "raised_on": [None, "2025-06-23"], "status": ["draft", "assigned"]}
    assert history[2]["note"] == "走访企业,电话[手机号]"
    assert history[3]["changes"]["answer"] == [None, "已答复"]
    assert all(e["at"].endswith("+00:00") for e in history)


def test_the_history_cannot_be_changed_or_deleted(reg):
    code = _assigned(reg)["code"]
    with pytest.raises(RegisterError, match="the history is append-only: event 1 of suggestion 1 cannot be changed"):
        with reg.session() as ses:
            ses.scalars(select(Event).where(Event.version == 1)).one().actor = "someone else"
    for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events", "DELETE FROM problems"):
        with pytest.raises(DBAPIError, match="append-only"):
            with reg.engine.begin() as conn:
                conn.execute(text(statement))
    assert [e["actor"] for e in reg.history(code)] == ["联络站", "联络站"]


def test_a_stale_version_is_a_conflict_and_loses_nothing(reg):
    s = _assigned(reg)
    assert s["version"] == 2
    reg.progress(s["code"], "第一位代表的记录", actor="周建华", expected_version=2)
    with pytest.raises(ConflictError) as err:
        reg.progress(s["code"], "第二位代表的记录", actor="李明", expected_version=2)
    assert (err.value.expected, err.value.current) == (2, 3)
    assert "S-2025-001 is at version 3, but this change was based on version 2" in str(err.value)
    assert [e["note"] for e in reg.history(s["code"])][-1] == "第一位代表的记录"
    assert reg.get(s["code"])["version"] == 3


def test_racing_writers_are_caught_by_the_database(reg):
    s = _assigned(reg)
    with pytest.raises(ConflictError, match="changed by another client at the same time"):
        with reg.session() as ses:  # client A read version 2 ...
            mine = ses.scalars(select(Suggestion)).one()
            reg.answer(s["code"], "B 的答复", actor="B")  # ... B writes and commits version 3 ...
            mine.lead_agency = "A 的修改"  # ... A's UPDATE ... WHERE version = 2 matches nothing
    now = reg.get(s["code"])
    assert (now["lead_agency"], now["answer"], now["version"]) == ("区税务局", "B 的答复", 3)


def test_concurrent_writers_without_a_version_are_applied_one_after_the_other(reg):
    code = _assigned(reg)["code"]
    barrier, errors = threading.Barrier(4), []

    def write(i):
        try:
            barrier.wait()
            reg.progress(code, f"记录{i}", actor=f"代表{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = reg.history(code)
    assert sorted(e["note"] for e in history[2:]) == ["记录0", "记录1", "记录2", "记录3"]
    assert [e["version"] for e in history] == [1, 2, 3, 4, 5, 6]
    assert reg.get(code)["version"] == 6


def test_concurrent_creations_get_distinct_numbers(reg):
    barrier, codes, errors = threading.Barrier(4), [], []

    def create(i):
        try:
            barrier.wait()
            codes.append(reg.create([ConfirmedProblem(f"问题{i}", "tax", "key", problem_id=f"C{i}")], actor="站")["code"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == ["S-2025-001", "S-2025-002", "S-2025-003", "S-2025-004"]


def test_dates_must_be_in_order_and_not_in_the_future(reg):
    code = _assigned(reg)["code"]
    with pytest.raises(InputError, match="date 2025-07-01 is in the future"):
        reg.progress(code, "x", actor="a", on="2025-07-01")
    with pytest.raises(InputError, match=r"date 2025-06-22 is before the last recorded change of S-2025-001 \(2025-06-23\)"):
        reg.progress(code, "x", actor="a", on="2025-06-22")
    with pytest.raises(InputError, match="deadline 2025-06-01 must be after the date it is set"):
        reg.assign(code, actor="a", deadline="2025-06-01")


def test_problems_from_records_reads_lists_and_the_confirmed_column():
    ps = problems_from_records([
        {"问题编号": "P1", "问题": "收购发票难", "类别": "tax", "层级": "key", "企业": "甲木业、乙板材", "意见编号": ["o1", "o2"], "确认": "是"},
        {"问题编号": "P2", "问题": "道路破损", "类别": "infrastructure", "层级": "on_site", "企业": "", "意见编号": "", "确认": "否"},
    ], "workbook.xlsx")
    assert [p.problem_id for p in ps.problems] == ["P1"] and ps.not_confirmed == ["P2"]
    assert ps.problems[0].enterprises == ("甲木业", "乙板材") and ps.problems[0].opinion_ids == ("o1", "o2")
    with pytest.raises(InputError, match=r"problem 1: 'confirmed' must be 是/否 .* found 'maybe'"):
        problems_from_records([{"text": "x", "confirmed": "maybe"}], "f.csv")
    with pytest.raises(InputError, match=r"no problem text: expected a field named one of \['text'"):
        problems_from_records([{"desc": "x"}], "f.csv")


def test_an_unreachable_server_is_named_without_its_password_host_or_user():
    with pytest.raises(RegisterError) as err:
        Register("postgresql+psycopg://station:s3cret-pw@127.0.0.1:1/register")
    assert str(err.value).startswith("cannot open the register postgresql database 'register': ")
    for secret in ("s3cret-pw", "127.0.0.1", "station", ":1"):
        assert secret not in str(err.value)
    for bad in ("no such://db", "postgresql+psycopg://station:s3cret-pw@host:port/db"):
        with pytest.raises(InputError, match="register database: expected a file path or a URL like postgresql") as err:
            Register(bad)
        assert "s3cret-pw" not in str(err.value)
