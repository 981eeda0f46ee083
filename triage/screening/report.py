"""The HTML screening report: counts per category and tier with charts (matplotlib PNGs
embedded as base64, so the report is one self-contained file to read, mail or print), the
ranked candidate problems, the review list and the rows left out.

The page is the Jinja2 template ``templates/screening_report.html``, rendered with
autoescape: taxonomy names and opinion texts are escaped. Chinese in the charts needs a CJK
font (``pages.find_cjk_font``); with none, the charts are labelled with the ASCII category and
tier codes (never tofu boxes) and a warning says which package to install. The HTML itself
declares UTF-8 and a CJK font stack, so the browser renders the Chinese text with whatever
CJK font it has."""
from __future__ import annotations

from pathlib import Path

from triage.files.atomic import write_text
from triage.screening.pages import CJK_FONT_NAMES, NO_FONT_WARNING, find_cjk_font, png, render_page

__all__ = ["CJK_FONT_NAMES", "NO_FONT_WARNING", "charts", "find_cjk_font", "render", "write_report"]
TIER_COLOURS = ("#9ecae1", "#4292c6", "#08519c", "#6baed6", "#2171b5")


def charts(result, font: str | None) -> dict[str, str]:
    """Two PNG charts as base64: opinions per category stacked by predicted tier, and
    candidate problems per category stacked by suggested tier."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    tax = result.taxonomy
    cats = tax.categories
    label = (lambda c: f"{c.name_zh}\n{c.code}") if font else (lambda c: c.code)
    tlabel = (lambda t: f"{t.name_zh} {t.code}") if font else (lambda t: t.code)
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    out = {}
    import matplotlib

    with matplotlib.rc_context(rc):
        for key, title, rows in (
            ("opinions", ("每类意见数（按预测层级）" if font else "Opinions per category (predicted tier)"),
             [(o.category, o.tier) for o in result.opinions if o.category and o.problem_id]),
            ("problems", ("每类候选问题数（按建议层级）" if font else "Candidate problems per category (suggested tier)"),
             [(p.category, p.tier) for p in result.problems]),
        ):
            fig = Figure(figsize=(7.5, 3.6))
            ax = fig.add_subplot()
            left = [0] * len(cats)
            for i, t in enumerate(tax.tiers):
                vals = [sum(1 for c, tt in rows if c == cat.code and tt == t.code) for cat in cats]
                ax.barh([label(c) for c in cats], vals, left=left, label=tlabel(t),
                        color=TIER_COLOURS[i % len(TIER_COLOURS)])
                left = [a + b for a, b in zip(left, vals)]
            for y, total in enumerate(left):
                ax.text(total + 0.1, y, str(total), va="center", fontsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.invert_yaxis()
            ax.set_title(title)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(tax.tiers), fontsize=8,
                      frameon=False)
            ax.spines[["top", "right"]].set_visible(False)
            out[key] = png(fig)
    return out


def render(result, font: str | None) -> str:
    from triage.model.estimator import REVIEW_REASONS

    tax = result.taxonomy
    grouped = [o for o in result.opinions if o.problem_id]
    counts = []
    for cat in [*tax.categories, None]:
        ops = [o for o in grouped if cat is None or o.category == cat.code]
        probs = [p for p in result.problems if cat is None or p.category == cat.code]
        counts.append({"category": cat, "values": [len(ops)] + [sum(o.tier == t.code for o in ops) for t in tax.tiers]
                       + [len(probs)] + [sum(p.tier == t.code for p in probs) for t in tax.tiers]})
    outside = ", ".join(f"{m}: {n}" for m, n in result.counts["outside_by_month"].items()) or "—"
    return render_page("screening_report.html", r=result, c=result.counts, tiers=tax.tiers, counts=counts,
                       category={x.code: x for x in tax.categories}, tier={t.code: t for t in tax.tiers},
                       images=charts(result, font), outside=outside, reasons=REVIEW_REASONS)


def write_report(result, path) -> tuple[Path, list[str]]:
    """Write the report atomically; returns its path and warnings (e.g. no CJK font)."""
    font = find_cjk_font()
    warnings = [] if font else [NO_FONT_WARNING]
    return write_text(path, render(result, font), what="report"), warnings
