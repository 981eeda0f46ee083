"""The working-day calendar: Chinese public holidays and make-up working days, from the
chinesecalendar package (2004-2026) with data/holidays.toml (2024-2026) as the override."""
import datetime as dt
import tomllib

import chinese_calendar
import pytest

from triage import paths
from triage.calendar import load_calendar, parse_calendar
from triage.errors import InputError
from triage.register.errors import CalendarError

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return load_calendar()


def test_the_bundled_calendar_covers_2024_to_2026_with_the_notices(cal):
    assert cal.file_years == (2024, 2025, 2026)
    assert cal.years == tuple(range(2004, 2027))  # the package's years (chinesecalendar 1.11) and the file's
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


@pytest.mark.parametrize("start, days", [(D(2026, 12, 1), 30), (D(2003, 12, 29), 1), (D(2027, 1, 4), 1)])
def test_strict_calendar_refuses_dates_outside_the_covered_years(start, days):
    strict = load_calendar(strict=True)
    with pytest.raises(CalendarError, match=r"covers the years 2004-2026; 20(03|27)-\d\d-\d\d is outside it"):
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
    with pytest.raises(CalendarError, match="^holiday calendar not found: nothing.toml$"):  # no absolute path
        load_calendar(tmp_path / "nothing.toml")


def _days(first: dt.date, last: dt.date):
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_package_agrees_with_the_holidays_file_on_every_day_of_2024_to_2026():
    file_only = load_calendar(package=False)
    differ = [d for d in _days(D(2024, 1, 1), D(2026, 12, 31))
              if chinese_calendar.is_workday(d) != file_only.is_working_day(d)]
    assert differ == []
    assert len(_days(D(2024, 1, 1), D(2026, 12, 31))) == 1096


def test_years_before_the_file_come_from_the_package(cal):
    assert cal.describe(D(2019, 10, 1)) == "holiday 国庆节"
    assert cal.describe(D(2019, 9, 29)) == "make-up working day (国庆节)"  # a Sunday worked
    assert cal.is_working_day(D(2020, 1, 24)) is False  # 2020's Spring Festival eve
    assert cal.add_working_days(D(2019, 9, 30), 1) == D(2019, 10, 8)
    assert cal.provisional_years(D(2019, 1, 1), D(2023, 1, 1)) == []
    assert cal.provisional_years(D(2002, 6, 1), D(2005, 1, 1)) == [2002, 2003]


def test_the_file_overrides_the_package_for_its_years():
    raw = tomllib.loads((paths.data_dir() / "holidays.toml").read_text("utf-8"))
    raw["holidays"] = [h for h in raw["holidays"] if h["first"].year != 2025]  # 2025 with no holiday at all
    raw["holidays"].append(dict(name_zh="测试假", first=D(2025, 3, 3), last=D(2025, 3, 3), days=1))
    from triage.calendar import package_days

    cal = parse_calendar(raw, "holidays.toml", package=package_days())
    assert cal.describe(D(2025, 3, 3)) == "holiday 测试假"
    assert cal.describe(D(2025, 10, 1)) == "working day"  # the package's National Day is not used for 2025
    assert cal.describe(D(2019, 10, 1)) == "holiday 国庆节"  # other years still come from the package


def test_the_table_counts_like_a_day_by_day_walk(cal):
    for start in (D(2003, 12, 20), D(2024, 12, 25), D(2026, 9, 15), D(2026, 12, 20)):
        for n in (1, 2, 7, 20, 90, 180):
            day, left = start, n
            while left:
                day += dt.timedelta(days=1)
                left -= cal.is_working_day(day)
            assert cal.add_working_days(start, n) == day


@pytest.mark.parametrize("start, days, message", [
    (D(1999, 12, 31), 1, "1999-12-31 is outside the working-day calendar"),
    (D(9999, 12, 31), 1, "9999-12-31 is outside the working-day calendar"),
    (D(1, 1, 1), 180, "0001-01-01 is outside the working-day calendar"),
    (D(2025, 6, 25), 10**9, "1000000000 working days after 2025-06-25 is beyond the working-day calendar"),
])
def test_dates_out_of_range_are_an_input_error_never_an_overflow(cal, start, days, message):
    with pytest.raises(InputError, match=message):
        cal.add_working_days(start, days)
