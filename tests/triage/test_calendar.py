"""The working-day calendar: Chinese public holidays and make-up working days, 2024-2026."""
import datetime as dt

import pytest

from triage.calendar import load_calendar, parse_calendar
from triage.register.errors import CalendarError

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return load_calendar()


def test_the_bundled_calendar_covers_2024_to_2026_with_the_notices(cal):
    assert cal.years == (2024, 2025, 2026)
    assert set(cal.notices) == {2024, 2025, 2026}
    assert "国办发明电" in cal.notices[2026]


@pytest.mark.parametrize("year, working_days", [(2024, 251), (2025, 248), (2026, 248)])
def test_working_days_per_year(cal, year, working_days):
    days = [D(year, 1, 1) + dt.timedelta(days=i) for i in range((D(year + 1, 1, 1) - D(year, 1, 1)).days)]
    assert sum(cal.is_working_day(d) for d in days) == working_days
    assert cal.working_days_between(D(year, 1, 1), D(year, 12, 31)) == working_days - cal.is_working_day(D(year, 1, 1))


@pytest.mark.parametrize("day, kind", [
    (D(2025, 1, 26), "make-up working day (春节)"),  # a Sunday worked before the Spring Festival
    (D(2025, 2, 8), "make-up working day (春节)"),
    (D(2025, 1, 28), "holiday 春节"),  # 除夕, a Tuesday
    (D(2025, 2, 4), "holiday 春节"),  # 正月初七
    (D(2025, 2, 5), "working day"),
    (D(2025, 10, 8), "holiday 国庆节、中秋节"),
    (D(2025, 10, 11), "make-up working day (国庆节、中秋节)"),
    (D(2025, 10, 12), "weekend"),
    (D(2024, 2, 9), "working day"),  # 2024's 除夕 was only "encouraged" off
    (D(2026, 1, 4), "make-up working day (元旦)"),
    (D(2026, 2, 23), "holiday 春节"),
    (D(2026, 2, 28), "make-up working day (春节)"),
    (D(2026, 9, 20), "make-up working day (国庆节)"),
    (D(2026, 10, 8), "working day"),
])
def test_holidays_and_make_up_days(cal, day, kind):
    assert cal.describe(day) == kind
    assert cal.is_working_day(day) == (kind == "working day" or kind.startswith("make-up"))


def test_deadline_skips_the_spring_festival_and_counts_the_make_up_sunday(cal):
    # Friday 2025-01-24: next working days are Sun 26 (make-up), Mon 27, then the holiday
    # 28 Jan - 4 Feb, then Wed 5, Thu 6, Fri 7, Sat 8 (make-up), Mon 10.
    assert cal.add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)
    assert cal.add_working_days(D(2025, 1, 24), 2) == D(2025, 1, 27)
    assert cal.add_working_days(D(2025, 1, 24), 3) == D(2025, 2, 5)
    assert cal.add_working_days(D(2025, 1, 24), 6) == D(2025, 2, 8)
    assert cal.add_working_days(D(2025, 1, 24), 7) == D(2025, 2, 10)


def test_deadline_across_national_day_and_the_year_end(cal):
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.add_working_days(D(2024, 12, 31), 1) == D(2025, 1, 2)  # New Year's Day is off
    assert cal.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)  # 1-3 Jan off, Sunday 4 Jan worked
    assert cal.add_working_days(D(2026, 1, 4), 1) == D(2026, 1, 5)


def test_counting_back_and_forth_agree(cal):
    start = D(2025, 6, 23)
    for n in (1, 5, 20, 90, 180):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
    assert cal.working_days_between(D(2025, 2, 10), D(2025, 1, 24)) == -7


@pytest.mark.parametrize("start, days", [(D(2026, 12, 1), 30), (D(2023, 12, 29), 1), (D(2027, 1, 4), 1)])
def test_strict_calendar_refuses_dates_outside_the_covered_years(start, days):
    strict = load_calendar(strict=True)
    with pytest.raises(CalendarError, match=r"covers the years 2024, 2025, 2026; 20(23|27)-\d\d-\d\d is outside it"):
        strict.add_working_days(start, days)


def test_uncovered_years_count_monday_to_friday_and_are_marked_provisional(cal):
    # 2026-12-31 is a Thursday; 2027 is not in the file yet
    assert cal.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    assert cal.add_working_days(D(2026, 12, 31), 2) == D(2027, 1, 4)   # the weekend is skipped
    assert cal.provisional_years(D(2026, 11, 26), D(2027, 4, 1)) == [2027]
    assert cal.provisional_years(D(2025, 1, 2), D(2026, 6, 1)) == []


def test_zero_working_days_is_refused(cal):
    with pytest.raises(CalendarError, match="at least 1 working day, found 0"):
        cal.add_working_days(D(2025, 3, 3), 0)


def _one(**holiday):
    base = dict(name_zh="劳动节", first=D(2025, 5, 1), last=D(2025, 5, 5), days=5, makeup_workdays=[D(2025, 4, 27)])
    return {"years": [2025], "holidays": [{**base, **holiday}]}


@pytest.mark.parametrize("change, message", [
    (dict(days=4), r"2025-05-01 to 2025-05-05 is 5 days, but 'days' says 4"),
    (dict(makeup_workdays=[D(2025, 4, 28)]), r"make-up working day 2025-04-28 is a Monday, expected a Saturday or Sunday"),
    (dict(last=D(2025, 4, 30), days=1), r"'last' 2025-04-30 is before 'first' 2025-05-01"),
    (dict(first=D(2024, 12, 31), days=126), r"2024-12-31 is outside the covered years \[2025\]"),
    (dict(first="2025-05-01"), r"expected a TOML date like 2025-10-01, found '2025-05-01'"),
])
def test_a_bad_holidays_file_is_refused_with_the_reason(change, message):
    with pytest.raises(CalendarError, match=message):
        parse_calendar(_one(**change), "holidays.toml")


def test_overlapping_holidays_are_refused():
    raw = _one()
    raw["holidays"].append(dict(name_zh="端午节", first=D(2025, 5, 5), last=D(2025, 5, 5), days=1))
    with pytest.raises(CalendarError, match=r"2025-05-05 is already in holiday 劳动节"):
        parse_calendar(raw, "holidays.toml")


def test_a_missing_calendar_file_is_named(tmp_path):
    with pytest.raises(CalendarError, match="holiday calendar not found: .*nothing.toml"):
        load_calendar(tmp_path / "nothing.toml")
