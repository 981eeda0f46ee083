"""Statistics, list filters and the HTML report, on a register back-filled with the station's
history since 2021: 16 suggestions (14 completed) and 4 motions (3 completed)."""
import datetime as dt
import re
import statistics

import pytest

from triage.errors import InputError
from triage.register import ConfirmedProblem, Register, init_register
from triage.calendar import load_calendar
from triage.register.report import render_report, write_report

D = dt.date
TODAY = D(2025, 6, 30)
# (kind, year, category, tier, days from raised to closed, or None while still open)
HISTORY = [
    ("suggestion", 2021, "tax", "key", 120), ("suggestion", 2021, "financing", "transfer", 60),
    ("suggestion", 2021, "infrastructure", "on_site", 9),
    ("suggestion", 2022, "tax", "transfer", 75), ("suggestion", 2022, "branding", "transfer", 80),
    ("suggestion", 2022, "technology", "key", 150), ("suggestion", 2022, "infrastructure", "on_site", 6),
    ("suggestion", 2023, "financing", "key", 170), ("suggestion", 2023, "tax", "transfer", 88),
    ("suggestion", 2023, "technology", "transfer", 70), ("suggestion", 2023, "infrastructure", "on_site", 5),
    ("suggestion", 2024, "branding", "key", 160), ("suggestion", 2024, "financing", "transfer", 65),
    ("suggestion", 2024, "tax", "key", None),  # still in progress, overdue
    ("suggestion", 2025, "infrastructure", "on_site", 8),
    ("suggestion", 2025, "technology", "transfer", None),  # assigned, due 2025-07-04
    ("motion", 2021, "tax", "key", 200), ("motion", 2023, "financing", "key", 180),
    ("motion", 2024, "infrastructure", "key", 175), ("motion", 2025, "branding", "key", None),  # look-back, overdue
]


def _raised(i, year):
    return D(year, 3, 1) + dt.timedelta(days=i)


@pytest.fixture
def station(register_db):
    """The back-filled register, plus one draft that is not counted."""
    init_register(register_db)
    reg = Register(register_db, today=lambda: TODAY)
    for i, (kind, year, category, tier, days) in enumerate(HISTORY):
        raised = _raised(i, year)
        s = reg.create([ConfirmedProblem(f"历史问题{i}", category, tier, problem_id=f"H{i}")], actor="联络站",
                       kind=kind, on=raised)
        deputy = {"deputies": ["周建华"]} if i % 2 else {"deputy_group": "第三代表小组"}
        reg.assign(s["code"], actor="联络站", on=raised, deadline=raised + dt.timedelta(days=110 if i == 15 else 90),
                   co_organisers=["区林业局"] if category == "branding" else None, **deputy)
        if days is not None:
            reg.answer(s["code"], "答复", actor="承办单位", on=raised + dt.timedelta(days=days - 3))
            reg.rate(s["code"], "满意" if i % 3 else "基本满意", actor="联络站", on=raised + dt.timedelta(days=days))
    reg.progress("S-2024-003", "正在协调", actor="周建华", on="2025-01-10")  # open since 2024-03-14
    reg.answer("M-2025-001", "初次答复", actor="区市场监督管理局", on="2025-05-20")
    reg.rate("M-2025-001", "不满意", actor="联络站", on="2025-05-22", deadline="2025-06-20")
    reg.create([ConfirmedProblem("尚未交办的问题", "tax", "transfer", problem_id="D1")], actor="联络站", on="2025-06-29")
    yield reg
    reg.close()


def test_the_raised_and_completed_line(station):
    st = station.stats()
    assert st["headline_zh"] == "2021年以来共提出建议16件（办结14件）、议案4件（办结3件）"
    assert st["headline_en"] == "Since 2021: 16 suggestions raised, 14 completed; 4 motions raised, 3 completed."
    assert st["totals"] == {"suggestion": {"raised": 16, "completed": 14}, "motion": {"raised": 4, "completed": 3}}
    assert [(r["year"], r["suggestion"]["raised"], r["suggestion"]["completed"], r["motion"]["raised"],
             r["motion"]["completed"]) for r in st["by_year"]] == [
        (2021, 3, 3, 1, 1), (2022, 4, 4, 0, 0), (2023, 4, 4, 1, 1), (2024, 3, 2, 1, 1), (2025, 2, 1, 1, 0)]
    assert station.stats(since=2024)["headline_zh"] == "2024年以来共提出建议5件（办结3件）、议案2件（办结1件）"


def test_counts_by_type_tier_and_category(station):
    st = station.stats()
    assert [(r["tier"], r["raised"], r["completed"]) for r in st["by_tier"]] == [
        ("key", 9, 7), ("on_site", 4, 4), ("transfer", 7, 6)]
    assert {r["category"]: (r["raised"], r["completed"]) for r in st["by_category"]} == {
        "branding": (3, 2), "financing": (4, 4), "infrastructure": (5, 5), "tax": (5, 4), "technology": (3, 2)}
    assert st["by_category"][0]["category_zh"] == "品牌建设"
    assert st["by_status"] == {"draft": 1, "assigned": 1, "in_progress": 1, "answered": 0, "closed": 17,
                               "look_back": 1}
    assert st["satisfaction"] == {"satisfied": 11, "basically_satisfied": 6, "dissatisfied": 0}
    assert st["look_backs"] == 1


def test_overdue_items_and_handling_time(station):
    st = station.stats()
    assert [(o["code"], o["deadline"], o["days_overdue"]) for o in st["overdue"]] == [
        ("S-2024-003", "2024-06-12", 383), ("M-2025-001", "2025-06-20", 10)]
    closed = [(i, y, d) for i, (_, y, _, _, d) in enumerate(HISTORY) if d is not None]
    h = st["handling"]
    assert h["closed"] == 17
    assert h["average_days"] == round(statistics.fmean(d for _, _, d in closed), 1) == 95.4
    assert h["median_days"] == 80
    cal = load_calendar()
    in_calendar = [cal.working_days_between(_raised(i, y), _raised(i, y) + dt.timedelta(days=d))
                   for i, y, d in closed]  # 2021-2023 from the chinesecalendar package, 2024 on from holidays.toml
    assert h["working_days_counted"] == len(in_calendar) == 17
    assert h["average_working_days"] == round(statistics.fmean(in_calendar), 1)


def test_list_filters(station):
    codes = lambda **f: [s["code"] for s in station.list(**f)]  # noqa: E731
    assert codes(overdue=True) == ["S-2024-003", "M-2025-001"]
    assert codes(due_within=14) == ["S-2025-002"]  # due 2025-07-04
    assert codes(due_within=0) == []
    assert codes(agency="林业局") == ["S-2022-002", "S-2024-001", "M-2025-001"]
    assert codes(deputy="第三代表小组", year=2021) == ["S-2021-001", "S-2021-003", "M-2021-001"]
    assert codes(deputy="周建华", kind="motion") == ["M-2023-001", "M-2025-001"]
    assert codes(status="draft") == ["S-2025-003"]
    assert codes(status=["look_back", "in_progress"]) == ["S-2024-003", "M-2025-001"]
    assert codes(category="税收与税改", tier="key", year=2024) == ["S-2024-003"]
    with pytest.raises(InputError, match=r"status: expected one of draft \(草稿\).* found 'late'"):
        station.list(status="late")


def test_the_html_report(station, tmp_path):
    (tmp_path / "out").mkdir()
    out = write_report(station.stats(), tmp_path / "out" / "register.html")
    page = out.read_text(encoding="utf-8")
    assert "2021年以来共提出建议16件（办结14件）、议案4件（办结3件）" in page
    assert "Since 2021: 16 suggestions raised, 14 completed; 4 motions raised, 3 completed." in page
    assert len(re.findall(r"<img alt='[^']+' src='data:image/png;base64,", page)) == 4
    assert "<td>S-2024-003</td>" in page and "<td>383</td>" in page
    assert "95.4 天 days" in page
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["register.html"]  # no temporary file left behind
    with pytest.raises(InputError, match=r"expected a report file ending in \.html, found '\.pdf'"):
        write_report(station.stats(), tmp_path / "register.pdf")


def test_the_report_escapes_text_and_masks_personal_data(monkeypatch):
    stats = {"today": "2025-06-30", "since": None, "first_year": 2025, "headline_zh": "<b>x</b>", "headline_en": "e",
             "totals": {}, "by_year": [], "by_category": [], "by_tier": [], "by_status": {"assigned": 1},
             "satisfaction": {"satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0}, "look_backs": 0,
             "overdue": [{"code": "S-2025-001", "kind": "suggestion", "title": "联系13812345678<script>", "status": "assigned",
                          "lead_agency": "区税务局", "deputies": [], "deputy_group": None, "deadline": "2025-06-01",
                          "days_overdue": 29}],
             "handling": {"closed": 0, "average_days": None, "median_days": None, "average_working_days": None,
                          "working_days_counted": 0}}
    page = render_report(stats)
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<script>" not in page and "13812345678" not in page
    assert "联系[手机号]&lt;script&gt;" in page

    monkeypatch.setattr("triage.register.report.find_cjk_font", lambda: None)  # a machine without a Chinese font
    page = render_report(stats)
    assert "No CJK font was found, so chart labels are in English." in page
    assert len(re.findall(r"<img alt='status' src='data:image/png;base64,", page)) == 1


def test_the_register_report_escapes_names_holding_markup():
    from triage.screening.pages import CJK_FONT_NAMES

    stats = {"today": "2025-06-30", "since": None, "first_year": 2025, "headline_zh": "h", "headline_en": "e",
             "totals": {}, "by_year": [], "by_tier": [], "by_status": {"assigned": 1},
             "by_category": [{"category": "tax", "category_zh": "<script>alert(1)</script>税收", "raised": 1,
                              "completed": 0, "suggestion": {"raised": 1, "completed": 0},
                              "motion": {"raised": 0, "completed": 0}}],
             "satisfaction": {"satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0}, "look_backs": 0,
             "overdue": [{"code": "S-2025-001", "kind": "suggestion", "title": "t", "status": "assigned",
                          "lead_agency": "<b>区税务局</b>", "deputies": ["<i>周</i>"], "deputy_group": None,
                          "deadline": "2025-06-01", "days_overdue": 29}],
             "handling": {"closed": 0, "average_days": None, "median_days": None, "average_working_days": None,
                          "working_days_counted": 0}}
    page = render_report(stats, title="<script>x</script>")
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;税收 (tax)" in page and "&lt;b&gt;区税务局&lt;/b&gt;" in page
    assert "<title>&lt;script&gt;x&lt;/script&gt;</title>" in page
    assert any(f'"{name}"' in page for name in CJK_FONT_NAMES)  # the one font stack, as CSS
