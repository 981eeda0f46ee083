"""Register dates in a sane range, and correcting a date typed wrong through a recorded
correction event (issue 13, fault 7); on SQLite and PostgreSQL."""
import datetime as dt

import pytest
from sqlalchemy import select

from triage.calendar import load_calendar
from triage.errors import InputError
from triage.register import ConfirmedProblem, NotFoundError, Register, init_register
from triage.register.models import Event

D = dt.date
TAX = ConfirmedProblem("向林农收购原木开不出收购发票", "tax", "transfer", ("甲木业",), ("2025-06-001",), "P1")
ROAD = ConfirmedProblem("园区道路破损", "infrastructure", "on_site", ("丁胶合板",), ("2025-06-031",), "P3")


class Clock:
    def __init__(self, day):
        self.day = day

    def __call__(self):
        return self.day


@pytest.fixture
def reg(register_db):
    init_register(register_db)
    r = Register(register_db, today=Clock(D(2025, 6, 30)))
    yield r
    r.close()


@pytest.mark.parametrize("on, found", [("0025-06-25", "'0025-06-25'"), ("1999-12-31", "'1999-12-31'"),
                                       ("9999-12-31", "'9999-12-31'"), ("0001-01-01", "'0001-01-01'")])
def test_dates_outside_2000_to_next_year_are_refused(reg, on, found):
    with pytest.raises(InputError, match=rf"^date: expected a date between 2000-01-01 and 2026-12-31, found {found}$"):
        reg.create([TAX], actor="联络站", on=on)
    assert reg.all() == []  # nothing was created: no S-25-001


@pytest.mark.parametrize("deadline", ["2027-01-01", "9999-12-31", "0025-07-01"])
def test_a_deadline_after_next_year_is_refused(reg, deadline):
    code = reg.create([TAX], actor="联络站", on="2025-06-20")["code"]
    with pytest.raises(InputError, match=r"^deadline: expected a date between 2000-01-01 and 2026-12-31, found "):
        reg.assign(code, actor="联络站", deputies=["周建华"], deadline=deadline, on="2025-06-23")
    assert reg.assign(code, actor="联络站", deputies=["周建华"], deadline="2026-12-31", on="2025-06-23")["deadline"] == \
        "2026-12-31"


def test_too_many_working_days_is_an_input_error(reg):
    code = reg.create([TAX], actor="联络站", on="2025-06-20")["code"]
    with pytest.raises(InputError, match=r"1000000000000 working days after 2025-06-23 is beyond the working-day"):
        reg.assign(code, actor="联络站", deputies=["周建华"], working_days=10**12, on="2025-06-23")


def test_due_within_a_huge_number_is_a_clear_error(reg):
    with pytest.raises(InputError, match=r"^due within: expected a number of days from 0 to 36500, found 99999999999$"):
        reg.list(due_within=99999999999)
    assert reg.list(due_within=36500) == []


def test_a_creation_date_typed_wrong_is_corrected_and_the_code_follows_the_year(reg):
    s = reg.create([TAX], actor="联络站", on="2024-06-25")  # meant 2025-06-25
    reg.create([ROAD], actor="联络站", on="2025-06-20")  # S-2025-001 is taken
    assert s["code"] == "S-2024-001"
    fixed = reg.correct_date("S-2024-001", "2025-06-25", reason="录入年份错误", actor="王会计")
    assert (fixed["code"], fixed["created_on"], fixed["version"]) == ("S-2025-002", "2025-06-25", 2)
    assert reg.get("S-2024-001")["code"] == "S-2025-002"  # the old code still finds it
    history = reg.history("S-2025-002")
    assert [(e["version"], e["action"], e["effective_on"]) for e in history] == [
        (1, "create", "2024-06-25"), (2, "correct_date", "2025-06-25")]  # the first event is kept as recorded
    assert history[1]["changes"] == {
        "corrects_version": [None, 1], "effective_on": ["2024-06-25", "2025-06-25"],
        "created_on": ["2024-06-25", "2025-06-25"], "code": ["S-2024-001", "S-2025-002"], "year": [2024, 2025],
        "seq": [1, 2]}
    assert (history[1]["note"], history[1]["actor"]) == ("录入年份错误", "王会计")
    with reg.session() as ses:
        first = ses.scalar(select(Event).where(Event.version == 1, Event.action == "create",
                                               Event.suggestion_id == fixed["id"]))
        assert first.effective_on == D(2024, 6, 25)


def test_correcting_an_assignment_date_recounts_the_deadline(reg):
    code = reg.create([TAX], actor="联络站", on="2025-06-20")["code"]
    s = reg.assign(code, actor="联络站", deputies=["周建华"], on="2025-06-23")
    cal = load_calendar()
    assert s["deadline"] == cal.add_working_days(D(2025, 6, 23), 90).isoformat()
    s = reg.correct_date(code, "2025-06-27", reason="交办日期应为6月27日", actor="联络站", event=2)
    assert (s["raised_on"], s["deadline"], s["working_days"]) == (
        "2025-06-27", cal.add_working_days(D(2025, 6, 27), 90).isoformat(), 90)
    assert s["deadline"] != cal.add_working_days(D(2025, 6, 23), 90).isoformat()
    changes = reg.history(code)[-1]["changes"]
    assert changes["raised_on"] == ["2025-06-23", "2025-06-27"] and set(changes) == {
        "corrects_version", "effective_on", "raised_on", "deadline"}


def test_a_corrected_date_keeps_the_history_in_order(reg):
    code = reg.create([TAX], actor="联络站", on="2025-06-28")  # meant 2025-06-20
    code = code["code"]
    with pytest.raises(InputError, match="before the last recorded change"):
        reg.assign(code, actor="联络站", deputies=["周建华"], on="2025-06-23")
    reg.correct_date(code, "2025-06-20", reason="走访日期录错", actor="联络站")
    reg.assign(code, actor="联络站", deputies=["周建华"], on="2025-06-23")  # now in order
    with pytest.raises(InputError, match=r"date 2025-06-24 is after the change after it \(2025-06-23\)"):
        reg.correct_date(code, "2025-06-24", reason="x", actor="联络站", event=1)
    with pytest.raises(InputError, match=r"date 2025-06-19 is before the change before it \(2025-06-20\)"):
        reg.correct_date(code, "2025-06-19", reason="x", actor="联络站", event=3)
    with pytest.raises(InputError, match=r"date 2025-07-01 is in the future"):
        reg.correct_date(code, "2025-07-01", reason="x", actor="联络站")
    with pytest.raises(InputError, match=r"already dated 2025-06-23; nothing to correct"):
        reg.correct_date(code, "2025-06-23", reason="x", actor="联络站")
    with pytest.raises(InputError, match=r"event: expected the version of a recorded change of S-2025-001 "
                                         r"\(1 \(2025-06-20\), 3 \(2025-06-23\)\), found 2"):
        reg.correct_date(code, "2025-06-21", reason="x", actor="联络站", event=2)  # v2 is the correction itself
    with pytest.raises(InputError, match=r"^date: expected a date between 2000-01-01 and 2026-12-31, found '0025-06-25'"):
        reg.correct_date(code, "0025-06-25", reason="x", actor="联络站", event=1)
    with pytest.raises(InputError, match=r"reason: expected text, found nothing"):
        reg.correct_date(code, "2025-06-21", reason=" ", actor="联络站", event=1)
    assert len(reg.history(code)) == 3  # the refused corrections recorded nothing


def test_an_unknown_code_is_still_not_found_after_corrections(reg):
    code = reg.create([TAX], actor="联络站", on="2024-06-25")["code"]
    reg.correct_date(code, "2025-06-25", reason="年份", actor="联络站")
    with pytest.raises(NotFoundError):
        reg.get("S-2023-001")
