"""What both HTML reports (the screening report and the register report) share: the one CJK
font finder for their charts, the PNG encoding of a chart, and the Jinja2 templates
(``triage/screening/templates``), rendered with autoescape so every name and text from the
data (taxonomy names, opinion texts, titles) reaches the page escaped.

Chinese in the charts needs a CJK font. ``find_cjk_font`` looks for one by family name
(Noto Sans CJK, WenQuanYi Micro Hei, Microsoft YaHei, PingFang, SimHei ...), then among font
files installed after matplotlib built its font cache. With none, the charts are labelled
with ASCII codes or English (never tofu boxes) and ``NO_FONT_WARNING`` says what to install.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                  "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
                  "SimHei", "Heiti SC", "Sarasa Gothic SC", "Droid Sans Fallback", "AR PL UMing CN")
_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "msyh", "simhei", "pingfang", "sarasa",
               "droidsansfallback", "uming", "ukai")
_KNOWN_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_STACK = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", '
              '"PingFang SC", "Hiragino Sans GB", "SimHei", sans-serif')
NO_FONT_WARNING = ("no CJK font found for the charts: their labels use the category and tier codes instead of "
                   "Chinese names. Install one (Debian: apt-get install fonts-noto-cjk or fonts-wqy-microhei) and "
                   "run again.")


def find_cjk_font() -> str | None:
    """The family name of an installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager as fm

    names = {f.name for f in fm.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in names:
            return name
    candidates = [p for p in _KNOWN_FILES if Path(p).is_file()]
    for path in sorted(fm.findSystemFonts()):  # installed after matplotlib cached its list
        flat = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(h in flat for h in _FILE_HINTS):
            candidates.append(path)
    for path in candidates:
        try:
            fm.fontManager.addfont(path)
            return fm.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
    return None


def png(fig, tight: bool = True) -> str:
    """A matplotlib figure as a base64 PNG, for an <img src="data:image/png;base64,...">."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, **({"bbox_inches": "tight"} if tight else {}))
    return base64.b64encode(buf.getvalue()).decode("ascii")


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("triage.screening", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_page(template: str, **context) -> str:
    """Render a template of ``triage/screening/templates`` (autoescaped)."""
    return _environment().get_template(template).render(font_stack=FONT_STACK, **context)
