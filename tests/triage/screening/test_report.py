"""The HTML report, rendered in headless Chromium (Debian package ``chromium``, listed in
.ci/apt-packages.txt with the CJK font ``fonts-wqy-microhei``)."""
import re
import shutil
import subprocess
import warnings

import pytest

from tests.conftest import SAMPLE
from triage.screening import report
from triage.screening.month import screen_month

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                  "--virtual-time-budget=5000"]
PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images].filter(i => i.classList.contains("chart"));
  const sizes = imgs.map(i => i.complete + ":" + i.naturalWidth + "x" + i.naturalHeight);
  document.body.setAttribute("data-charts", sizes.join(","));
});
</script></body>"""


def chromium(*args, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Debian's chromium is needed (apt-get install chromium; listed in .ci/apt-packages.txt)"
    profile = tmp_path / "profile"
    run = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.fixture(scope="module")
def june(shipped):
    return screen_month(SAMPLE, "2025-06", shipped)


@pytest.fixture(scope="module")
def written(june, tmp_path_factory):
    path, warns = report.write_report(june, tmp_path_factory.mktemp("report") / "report-2025-06.html")
    return path, warns


def test_a_cjk_font_is_found_and_charts_draw_every_glyph(june):
    font = report.find_cjk_font()
    assert font in report.CJK_FONT_NAMES, "no CJK font: apt-get install fonts-wqy-microhei (scripts/test does it)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = report.charts(june, font)
    assert not [w for w in caught if "missing from" in str(w.message)]  # no tofu
    assert set(images) == {"opinions", "problems"}


def test_without_a_cjk_font_the_charts_use_codes_and_a_warning_says_what_to_install(june, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "find_cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, warns = report.write_report(june, tmp_path / "r.html")
    assert not [w for w in caught if "missing from" in str(w.message)]
    assert warns == [report.NO_FONT_WARNING] and "fonts-noto-cjk or fonts-wqy-microhei" in warns[0]
    html = path.read_text(encoding="utf-8")
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', html)) == 2
    assert "候选问题" in html  # the page text stays Chinese: the browser has its own fonts


def test_html_declares_utf8_and_a_cjk_font_stack(written):
    path, warns = written
    html = path.read_text(encoding="utf-8")
    assert warns == []
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert '"WenQuanYi Micro Hei"' in html and '"Noto Sans CJK SC"' in html
    assert len(re.findall(r'<img class="chart" alt="[^"]+" src="data:image/png;base64,', html)) == 2
    for number in ("13812345678", "7281456", "15965432108"):
        assert number not in html


def test_chromium_renders_the_charts_and_the_chinese_text(written, tmp_path):
    path, _ = written
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    dom = chromium("--dump-dom", probe.as_uri(), tmp_path=tmp_path)
    charts = re.search(r'data-charts="([^"]*)"', dom).group(1).split(",")
    assert len(charts) == 2
    for c in charts:
        complete, size = c.split(":")
        w, h = map(int, size.split("x"))
        assert complete == "true" and w > 300 and h > 150, charts
    for text in ("2025-06 意见筛选报告", "候选问题", "复核清单", "收木头没票这个事说了好几年了", "区住房和城乡建设局", "重点提"):
        assert text in dom
    assert "有事打我电话[手机号]" in dom


def test_screenshot_is_not_blank_and_shows_the_blue_charts(written, tmp_path):
    path, _ = written
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,1400", path.as_uri(), tmp_path=tmp_path)
    from PIL import Image  # installed with matplotlib

    with Image.open(shot) as im:
        assert im.size == (1200, 1400)
        raw = im.convert("RGB").resize((300, 350)).tobytes()
    pixels = [tuple(raw[i:i + 3]) for i in range(0, len(raw), 3)]
    assert len(set(pixels)) > 50  # text, tables and charts: not a blank page
    dark_blue = sum(1 for r, g, b in pixels if b > 120 and r < 60 and g < 110)  # the bars of the charts
    assert dark_blue > 200


def test_texts_are_html_escaped(shipped, tmp_path):
    src = tmp_path / "m.csv"
    src.write_text("enterprise,visit_date,text\n<b>甲厂</b>,2025-06-03,\"<script>alert(1)</script>园区停电太频繁\"\n",
                   encoding="utf-8")
    html = report.render(screen_month(src, "2025-06", shipped), None)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;园区停电太频繁" in html
    assert "<b>甲厂</b>" not in html


def test_taxonomy_names_are_escaped(june):
    import dataclasses

    tax = june.taxonomy
    evil = [dataclasses.replace(c, name_zh=f"<script>alert('{c.code}')</script>{c.name_zh}") for c in tax.categories]
    tiers = [dataclasses.replace(t, name_zh=f"<img src=x onerror=alert(1)>{t.name_zh}") for t in tax.tiers]
    result = dataclasses.replace(june, taxonomy=dataclasses.replace(tax, categories=evil, tiers=tiers))
    page = report.render(result, None)
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;tax&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count('<img class="chart"') == 2  # the page's own markup is untouched


def test_the_font_stack_is_css_not_escaped(june):
    page = report.render(june, None)
    assert 'font-family: "Noto Sans CJK SC", "Noto Sans SC"' in page and "&#34;" not in page.split("</style>")[0]
