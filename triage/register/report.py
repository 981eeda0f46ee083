"""The register's statistics as one self-contained HTML page with charts (matplotlib PNGs
embedded, no network, opens in any browser; printable).

Chart labels are Chinese when a CJK font is installed (WenQuanYi Micro Hei from Debian's
``fonts-wqy-microhei``, Noto Sans CJK, SimHei, Microsoft YaHei ...), English otherwise, so a
chart never shows empty boxes. The page text is always bilingual.
"""
from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from pathlib import Path

from triage.errors import InputError
from triage.text import clean
from triage.register.states import KINDS, SATISFACTION, STATUSES

CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                "Source Han Sans CN", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN")
CJK_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def cjk_font() -> str | None:
    """The family name of an installed font that draws Chinese, or None."""
    from matplotlib import font_manager as fm

    installed = {f.name for f in fm.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    for path in CJK_FILES:  # installed after matplotlib built its font cache
        if os.path.isfile(path):
            fm.fontManager.addfont(path)
            return fm.FontProperties(fname=path).get_name()
    return None


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


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

    font = cjk_font()
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
            out["by_year"] = _png(fig)
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
            out[f"by_{key}"] = _png(fig)
        counts = {s: n for s, n in stats["by_status"].items() if n}
        if counts:
            fig = Figure(figsize=(7.5, 3.2), layout="constrained")
            ax = fig.subplots()
            labels = [STATUSES[s][0] if zh else STATUSES[s][1] for s in counts]
            bars = ax.bar(labels, list(counts.values()), color="#5b8db8")
            ax.bar_label(bars, fontsize=8, padding=2)
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.set_title(L("当前状态", "Current status"))
            out["by_status"] = _png(fig)
    return out, font


def _table(head: list[str], rows: list[list]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _count_rows(rows: list[dict], key: str | None) -> list[list]:
    out = []
    for r in rows:
        label = [r["year"]] if key is None else [f"{r[key + '_zh']} ({r[key]})"]
        out.append(label + [r["suggestion"]["raised"], r["suggestion"]["completed"],
                            r["motion"]["raised"], r["motion"]["completed"]])
    return out


_CSS = """body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ccc}.headline{font-size:1.2rem;background:#f3f6fa;padding:.8rem 1rem;border-left:4px solid #5b8db8}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f0f0f0}td:not(:first-child){font-variant-numeric:tabular-nums}img{max-width:100%}
.note{color:#666;font-size:.85rem}"""


def render_report(stats: dict, title: str = "建议议案办理统计 / Register statistics") -> str:
    images, font = charts(stats)
    e = html.escape
    head = ["", "建议提出 suggestions raised", "建议办结 completed", "议案提出 motions raised", "议案办结 completed"]
    h = stats["handling"]
    parts = [
        f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>",
        f"<p class='note'>统计日期 as of {e(stats['today'])}"
        + (f"；自 since {stats['since']}" if stats["since"] else "") + "</p>",
        f"<p class='headline'>{e(stats['headline_zh'])}<br>{e(stats['headline_en'])}</p>",
        "<h2>各年度 Per year</h2>",
        _table(["年度 year"] + head[1:], _count_rows(stats["by_year"], None)),
    ]
    if "by_year" in images:
        parts.append(f"<img alt='per year' src='data:image/png;base64,{images['by_year']}'>")
    for key, zh, en in (("category", "按类别", "By category"), ("tier", "按层级", "By tier")):
        parts.append(f"<h2>{zh} {en}</h2>")
        parts.append(_table([f"{zh[1:]} {key}"] + head[1:], _count_rows(stats[f"by_{key}"], key)))
        if f"by_{key}" in images:
            parts.append(f"<img alt='{en}' src='data:image/png;base64,{images['by_' + key]}'>")
    parts.append("<h2>当前状态 Current status</h2>")
    parts.append(_table(["状态 status", "件数 count"],
                        [[f"{STATUSES[s][0]} ({s})", n] for s, n in stats["by_status"].items()]))
    if "by_status" in images:
        parts.append(f"<img alt='status' src='data:image/png;base64,{images['by_status']}'>")
    parts.append(f"<h2>逾期未办结 Overdue ({len(stats['overdue'])})</h2>")
    if stats["overdue"]:
        parts.append(_table(["编号 code", "标题 title", "状态 status", "主办单位 lead agency", "参与代表 deputy",
                             "期限 deadline", "逾期天数 days overdue"],
                            [[o["code"], clean(o["title"]), STATUSES[o["status"]][0], o["lead_agency"],
                              "、".join(o["deputies"] + ([o["deputy_group"]] if o["deputy_group"] else [])),
                              o["deadline"], o["days_overdue"]] for o in stats["overdue"]]))
    else:
        parts.append("<p>无 none</p>")
    avg = lambda v, unit: "—" if v is None else f"{v} {unit}"  # noqa: E731
    parts.append("<h2>办理时长与满意度 Handling time and satisfaction</h2>")
    parts.append(_table(["", ""], [
        ["已办结 closed", h["closed"]],
        ["平均办理天数 average days (raised → closed)", avg(h["average_days"], "天 days")],
        ["中位数 median days", avg(h["median_days"], "天 days")],
        [f"平均工作日 average working days ({h['working_days_counted']} within the holiday calendar's years)",
         avg(h["average_working_days"], "个工作日 working days")],
        *[[f"{zh} ({s})", stats["satisfaction"][s]] for s, zh in SATISFACTION.items()],
        ["回头看次数 look-backs", stats["look_backs"]],
    ]))
    parts.append("<p class='note'>提出 = 已交办（不含草稿）；办结 = 答复后评价满意或基本满意。"
                 "Raised = assigned to an agency (drafts excluded); completed = closed after the answer was rated "
                 "满意 or 基本满意; handling time runs from the day raised to the day closed."
                 + ("" if font else " No CJK font was found, so chart labels are in English.") + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(stats: dict, path: str | Path, title: str | None = None) -> Path:
    """Write the HTML report atomically (a temporary file renamed into place)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{path}: expected a report file ending in .html, found {path.suffix or 'no extension'!r}")
    if not path.parent.is_dir():
        raise InputError(f"output folder not found: {path.parent}")
    text = render_report(stats, title) if title else render_report(stats)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
