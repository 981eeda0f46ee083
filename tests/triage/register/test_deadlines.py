"""One calendar for every deadline (issue 12): route() (used by ``triage classify``, the API
and the screening) gives the same deadline as the register for the same date and tier."""
import datetime as dt

import chinese_calendar
import pytest

from tests.conftest import SAMPLE
from triage.errors import InputError
from triage.register import ConfirmedProblem, Register, init_register
from triage.routing import parse_date, route, working_deadline

D = dt.date
DATES = [D(2025, 6, 25), D(2025, 1, 24), D(2025, 9, 30), D(2024, 12, 31), D(2026, 11, 20), D(2019, 9, 27)]


@pytest.mark.parametrize("day", DATES)
def test_route_and_the_register_give_the_same_deadline(tmp_path, taxonomy, day):
    db = tmp_path / "r.db"
    init_register(db)
    with Register(db, today=lambda: day) as reg:
        for tier in taxonomy.tier_codes:
            s = reg.create([ConfirmedProblem(f"问题 {tier}", "tax", tier)], actor="联络站", on=day.isoformat())
            s = reg.assign(s["code"], actor="联络站", deputies=["周建华"], on=day.isoformat())
            assert route(taxonomy, "tax", tier, day.isoformat()).deadline == s["deadline"]


def test_the_issue_example_key_tier_from_2025_06_25(taxonomy):
    # calendar days gave 2025-12-22; 180 working days (holidays and make-up days honoured) give 2026-03-17
    assert route(taxonomy, "tax", "key", "2025-06-25").deadline == "2026-03-17"
    assert route(taxonomy, "tax", "on_site", "2025年6月25日").deadline == "2025-07-04"
    assert route(taxonomy, "tax", "transfer", D(2025, 6, 25)).deadline == "2025-11-04"  # across National Day
    # the same dates from the package's own counter
    for tier in taxonomy.tiers:
        days = tier.deadline_days
        assert route(taxonomy, "tax", tier.code, "2025-06-25").deadline == \
            chinese_calendar.find_workday(days, D(2025, 6, 25)).isoformat()


def test_classify_gives_the_register_deadline(shipped, taxonomy):
    from triage.batch import triage_columns

    texts = ["向林农收购原木开不出发票，进项抵扣不了", "园区门口道路坑洼，货车进出困难"]
    cols, bad = triage_columns(shipped, texts, ["2025-06-25", "2025/9/30"], [None, None])
    assert bad == []
    want = [route(taxonomy, c, t, d).deadline for c, t, d in zip(cols["category"], cols["tier"],
                                                                   ["2025-06-25", "2025-09-30"])]
    assert cols["deadline"] == want
    assert cols["deadline"][1] != (D(2025, 9, 30) + dt.timedelta(days=shipped.taxonomy.tier(cols["tier"][1]).deadline_days)).isoformat()


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "0025-06-25", "1999-12-31", "2100-01-01",
                                   D(9999, 12, 31), D(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59)])
def test_out_of_range_dates_are_an_input_error_from_routing(taxonomy, value):
    with pytest.raises(InputError, match=r"^intake date: expected a date between 2000-01-01 and 2099-12-31, found "):
        route(taxonomy, "tax", "key", value)


def test_the_last_accepted_day_still_gets_a_deadline(taxonomy):
    assert route(taxonomy, "tax", "key", "2099-12-31").deadline > "2100-08-01"
    assert parse_date("2000-01-01") == D(2000, 1, 1)


def test_batch_flags_an_out_of_range_date_per_row(shipped):
    from triage.batch import triage_columns

    cols, bad = triage_columns(shipped, ["收购发票开不出来"] * 3, ["2025-06-25", "9999-12-31", "0001-01-01"],
                               [None] * 3)
    assert bad == [1, 2]  # the rows whose deadline is left empty
    assert cols["deadline"][0] != "" and cols["deadline"][1:] == ["", ""]


def test_the_deadline_is_memoised_per_date_and_days():
    working_deadline.cache_clear()
    for _ in range(1000):
        working_deadline(D(2025, 6, 25), 180)
    info = working_deadline.cache_info()
    assert (info.hits, info.misses) == (999, 1)


def test_the_sample_month_gets_working_day_deadlines(shipped, taxonomy):
    import pandas as pd

    from triage.batch import attach, triage_columns

    df = pd.read_csv(SAMPLE, dtype=str)
    cols, bad = triage_columns(shipped, df["text"].tolist(), df["visit_date"].tolist(), df["deputy"].tolist())
    out = attach(df, cols)
    assert bad == []  # every row of the sample month has a readable date
    dated = out[out["deadline"] != ""]
    assert len(dated) > 100
    for _, r in dated.iterrows():  # an out-of-scope text has no category: its kind's tier routes it
        expected = route(taxonomy, r["category"] or None, r["tier"], r["visit_date"], subtopic=r["subtopic"] or None,
                         kind=r["out_of_scope_kind"] or None)
        assert r["deadline"] == expected.deadline and r["lead_agency"] == expected.lead_agency
