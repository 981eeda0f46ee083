"""The register's statistics as one self-contained HTML page with charts (matplotlib PNGs
embedded, no network, opens in any browser; printable).

The page is the Jinja2 template ``triage/screening/templates/register_report.html``,
rendered with autoescape (titles, agencies and names are escaped; titles are masked too).
Chart labels are Chinese when a CJK font is installed (the one finder,
``triage.screening.pages.find_cjk_font``), English otherwise, so a chart never shows empty
boxes. The page text is always bilingual.
"""
from __future__ import annotations

from pathlib import Path

from triage.errors import InputError
from triage.files.atomic import write_text
from triage.register.states import KINDS, SATISFACTION, STATUSES
from triage.screening.pages import find_cjk_font, png, render_page
from triage.text import clean


def _bars(ax, labels, series: dict, horizontal: bool = False):
    import numpy as np

    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        pos = x + k * width - 0.4 + width / 2
        bars = (ax.barh if horizontal else ax.bar)(pos, values, width, label=name)
        ax.bar_label(bars, fontsize=8, padding=2)
    if horizontal:
        ax.set_yticks(x, labels)
        ax.invert_yaxis()
    else:
        ax.set_xticks(x, labels)
    ax.legend(fontsize=8)
    (ax.xaxis if horizontal else ax.yaxis).get_major_locator().set_params(integer=True)


def charts(stats: dict) -> tuple[dict[str, str], str | None]:
    """Base64 PNGs of the charts, and the CJK font used (None: English labels)."""
    from matplotlib.figure import Figure

    font = find_cjk_font()
    zh = font is not None
    rc = {"font.family": [font, "DejaVu Sans"]} if zh else {}
    import matplotlib

    L = (lambda z, e: z) if zh else (lambda z, e: e)  # noqa: E731
    out = {}
    with matplotlib.rc_context(rc):
        if stats["by_year"]:
            fig = Figure(figsize=(7.5, 3.6), layout="constrained")
            ax = fig.subplots()
            years = [str(r["year"]) for r in stats["by_year"]]
            series = {}
            for kind, (kzh, _) in KINDS.items():
                series[L(f"{kzh}提出", f"{kind}s raised")] = [r[kind]["raised"] for r in stats["by_year"]]
                series[L(f"{kzh}办结", f"{kind}s completed")] = [r[kind]["completed"] for r in stats["by_year"]]
            _bars(ax, years, series)
            ax.set_title(L("各年度提出与办结", "Raised and completed per year"))
            out["by_year"] = png(fig, tight=False)
        for key in ("category", "tier"):
            rows = stats[f"by_{key}"]
            if not rows:
                continue
            fig = Figure(figsize=(7.5, 0.5 + 0.55 * len(rows) + 1), layout="constrained")
            ax = fig.subplots()
            labels = [r[f"{key}_zh"] if zh else r[key] for r in rows]
            _bars(ax, labels, {L("提出", "raised"): [r["raised"] for r in rows],
                               L("办结", "completed"): [r["completed"] for r in rows]}, horizontal=True)
            ax.set_title(L("按类别", "By category") if key == "category" else L("按层级", "By tier"))
            out[f"by_{key}"] = png(fig, tight=False)
        counts = {s: n for s, n in stats["by_status"].items() if n}
        if counts:
            fig = Figure(figsize=(7.5, 3.2), layout="constrained")
            ax = fig.subplots()
            labels = [STATUSES[s][0] if zh else STATUSES[s][1] for s in counts]
            bars = ax.bar(labels, list(counts.values()), color="#5b8db8")
            ax.bar_label(bars, fontsize=8, padding=2)
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.set_title(L("当前状态", "Current status"))
            out["by_status"] = png(fig, tight=False)
    return out, font


def _count_rows(rows: list[dict], key: str | None) -> list[list]:
    out = []
    for r in rows:
        label = [r["year"]] if key is None else [f"{r[key + '_zh']} ({r[key]})"]
        out.append(label + [r["suggestion"]["raised"], r["suggestion"]["completed"],
                            r["motion"]["raised"], r["motion"]["completed"]])
    return out


def render_report(stats: dict, title: str = "建议议案办理统计 / Register statistics") -> str:
    images, font = charts(stats)
    h = stats["handling"]
    avg = lambda v, unit: "—" if v is None else f"{v} {unit}"  # noqa: E731
    overdue = [[o["code"], clean(o["title"]), STATUSES[o["status"]][0], o["lead_agency"],
                "、".join(o["deputies"] + ([o["deputy_group"]] if o["deputy_group"] else [])),
                o["deadline"], o["days_overdue"]] for o in stats["overdue"]]
    handling = [
        ["已办结 closed", h["closed"]],
        ["平均办理天数 average days (raised → closed)", avg(h["average_days"], "天 days")],
        ["中位数 median days", avg(h["median_days"], "天 days")],
        [f"平均工作日 average working days ({h['working_days_counted']} within the holiday calendar's years)",
         avg(h["average_working_days"], "个工作日 working days")],
        *[[f"{zh} ({s})", stats["satisfaction"][s]] for s, zh in SATISFACTION.items()],
        ["回头看次数 look-backs", stats["look_backs"]],
    ]
    sections = [(key, zh, en, _count_rows(stats[f"by_{key}"], key))
                for key, zh, en in (("category", "按类别", "By category"), ("tier", "按层级", "By tier"))]
    return render_page("register_report.html", title=title, s=stats, images=images, font=font,
                       head=["建议提出 suggestions raised", "建议办结 completed", "议案提出 motions raised",
                             "议案办结 completed"],
                       by_year=_count_rows(stats["by_year"], None), sections=sections,
                       by_status=[[f"{STATUSES[s][0]} ({s})", n] for s, n in stats["by_status"].items()],
                       overdue=overdue, handling=handling)


def write_report(stats: dict, path: str | Path, title: str | None = None) -> Path:
    """Write the HTML report atomically (a temporary file renamed into place)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{path.name}: expected a report file ending in .html, found {path.suffix or 'no extension'!r}")
    text = render_report(stats, title) if title else render_report(stats)
    return write_text(path, text, what="report")
