"""The HTML screening report: counts per category and tier with charts (matplotlib PNGs
embedded as base64, so the report is one self-contained file to read, mail or print), the
ranked candidate problems, the review list and the rows left out.

Chinese in the charts needs a CJK font. ``find_cjk_font`` looks for one (Noto Sans CJK,
WenQuanYi Micro Hei, Microsoft YaHei, PingFang, SimHei ...), also among font files
installed after matplotlib built its font cache. With none, the charts are labelled with
the ASCII category and tier codes (never tofu boxes) and a warning says which package to
install (Debian: fonts-noto-cjk or fonts-wqy-microhei). The HTML itself declares UTF-8 and
a CJK font stack, so the browser renders the Chinese text with whatever CJK font it has."""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                  "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
                  "SimHei", "Heiti SC", "Sarasa Gothic SC", "Droid Sans Fallback", "AR PL UMing CN")
_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "msyh", "simhei", "pingfang", "sarasa",
               "droidsansfallback", "uming", "ukai")
FONT_STACK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", '
              '"PingFang SC", "Hiragino Sans GB", "SimHei", sans-serif')
NO_FONT_WARNING = ("no CJK font found for the charts: their labels use the category and tier codes instead of "
                   "Chinese names. Install one (Debian: apt-get install fonts-noto-cjk or fonts-wqy-microhei) and "
                   "run again.")
TIER_COLOURS = ("#9ecae1", "#4292c6", "#08519c", "#6baed6", "#2171b5")


def find_cjk_font() -> str | None:
    """The family name of an installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager as fm

    names = {f.name for f in fm.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in names:
            return name
    for path in sorted(fm.findSystemFonts()):  # installed after matplotlib cached its list
        flat = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(h in flat for h in _FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
                return fm.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


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
            out[key] = _png(fig)
    return out


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _table(head, rows, cls="") -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def render(result, font: str | None) -> str:
    tax = result.taxonomy
    c = result.counts
    img = charts(result, font)
    cat_name = {x.code: f"{x.name_zh} <small>{x.code}</small>" for x in tax.categories}
    tier_name = {t.code: f"{t.name_zh} <small>{t.code}</small>" for t in tax.tiers}
    grouped = [o for o in result.opinions if o.problem_id]
    count_rows = []
    for cat in tax.categories:
        ops = [o for o in grouped if o.category == cat.code]
        probs = [p for p in result.problems if p.category == cat.code]
        count_rows.append([cat_name[cat.code], len(ops)] + [sum(o.tier == t.code for o in ops) for t in tax.tiers]
                          + [len(probs)] + [sum(p.tier == t.code for p in probs) for t in tax.tiers])
    totals = ["合计 total", len(grouped)] + [sum(o.tier == t.code for o in grouped) for t in tax.tiers] + \
             [len(result.problems)] + [sum(p.tier == t.code for p in result.problems) for t in tax.tiers]
    count_head = (["类别 category", "意见 opinions"] + [f"{t.name_zh}" for t in tax.tiers]
                  + ["候选问题 problems"] + [f"建议{t.name_zh}" for t in tax.tiers])
    prob_rows = [[p.rank, _e(p.id), cat_name[p.category], _e(p.representative), p.n_opinions, p.n_enterprises,
                  _e("、".join(p.deputies)),
                  tier_name[p.tier] + (' <span class="up" title="escalated">↑</span>' if p.escalated else ""),
                  _e(p.lead_agency), _e(p.deadline or ""), _e(", ".join(p.recurring_months)),
                  _e(", ".join(p.review_ids))] for p in result.problems]
    from triage.model.estimator import REVIEW_REASONS

    review_rows = [[_e(o.record_id), _e(o.enterprise), _e(o.deputy), _e(o.text), cat_name.get(o.category, "—"),
                    f"{_e(REVIEW_REASONS.get(o.review_reason, ''))} <small>{_e(o.review_reason)}</small>",
                    _e(o.problem_id or "—")]
                   for o in result.review]
    outside = ", ".join(f"{m}: {n}" for m, n in c["outside_by_month"].items()) or "—"
    rule = result.rule
    s = result.similarity
    fig_alt = {"opinions": "每类意见数图 opinions per category", "problems": "每类候选问题数图 problems per category"}
    figs = "".join(f'<figure><img class="chart" alt="{fig_alt[k]}" src="data:image/png;base64,{v}"></figure>'
                   for k, v in img.items())
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(result.month)} 意见筛选报告 / screening report</title>
<style>
body {{ font-family: {FONT_STACK}; margin: 2em auto; max-width: 1200px; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6em; margin-bottom: .2em; }}
h2 {{ font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9em; }}
th, td {{ border: 1px solid #ccc; padding: .3em .45em; vertical-align: top; text-align: left; }}
th {{ background: #ddebf7; }} small {{ color: #666; }} .up {{ color: #c00; font-weight: bold; }}
.counts td:not(:first-child) {{ text-align: right; }} figure {{ display: inline-block; margin: .5em 1em .5em 0; }}
img.chart {{ max-width: 100%; }} .meta {{ color: #555; font-size: .9em; }}
@media print {{ body {{ margin: 0; max-width: none; }} h2 {{ page-break-after: avoid; }}
  tr {{ page-break-inside: avoid; }} }}
</style>
</head>
<body>
<h1>{_e(result.month)} 意见筛选报告 <small>monthly screening report</small></h1>
<p class="meta">来源 source: {_e(result.source)} · 模型 model: {_e(result.model_version)}</p>
<p>本月共 <b>{c['in_month']}</b> 条意见（opinions in the month），归为 <b>{c['problems']}</b> 个候选问题
（candidate problems），其中 {c['recurring']} 个往月已出现（recurring），{c['escalated']} 个因多家企业反映升级
（escalated）；<b>{c['needs_review']}</b> 条需人工复核（need review），{c['empty']} 条内容为空（empty）。
读入 {c['rows_read']} 行（rows read）；未纳入（left out）：不在本月 {c['outside_month']} 行（{_e(outside)}），
无有效日期 {c['undated']} 行{(' (' + _e(', '.join(c['undated_ids'])) + ')') if c['undated_ids'] else ''}。</p>

<h2>一、分类统计 <small>counts per category and tier</small></h2>
{_table(count_head, count_rows + [totals], "counts")}
<p class="meta">意见数只计入候选问题的意见（不含空白、无关等仅列入复核清单的意见）。Opinions counted are those grouped into candidate problems.</p>
{figs}

<h2>二、候选问题（按企业数排序）<small>ranked candidate problems</small></h2>
{_table(["#", "编号 id", "类别 category", "代表性意见 representative opinion", "意见数 opinions", "企业数 enterprises",
         "记录代表 deputies", "建议层级 suggested tier", "主办单位 lead agency", "办理期限 deadline",
         "往月出现 recurring", "需复核 review"], prob_rows, "problems")}
<p class="meta">升级规则 escalation rule: 同一问题有 {rule['escalate_min_enterprises']} 家及以上企业反映 →
{_e(rule['escalate_to_tier'])}（标 ↑）. 相似度阈值 similarity threshold {s.get('threshold')}
（在标注的改写句对上选出：precision {s.get('precision', '—')}, recall {s.get('recall', '—')}）.</p>

<h2>三、复核清单 <small>review list</small></h2>
{_table(["编号 id", "企业 enterprise", "代表 deputy", "意见 opinion", "预测类别 predicted", "原因 reason",
         "问题 problem"], review_rows, "review")}
</body>
</html>
"""


def write_report(result, path) -> tuple[Path, list[str]]:
    """Write the report atomically; returns its path and warnings (e.g. no CJK font)."""
    font = find_cjk_font()
    warnings = [] if font else [NO_FONT_WARNING]
    text = render(result, font)
    from triage.screening.month import atomic_write

    path = atomic_write(path, text)
    return path, warnings
