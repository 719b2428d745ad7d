"""The HTML report: self-contained, every card and highlight present, and it renders in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from evidex.evaluation import run_eval
from evidex.report import render_report, write_report
from evidex.runner import read_tables

from conftest import GOLD, RAW


@pytest.fixture(scope="module")
def report_path(seed_run) -> Path:
    out, _ = seed_run
    (out / "eval.json").write_text(json.dumps({"corpora": {"pages": run_eval(GOLD, out, RAW)}}), encoding="utf-8")
    return write_report(out, RAW)


def test_every_card_and_highlight_is_in_the_page(report_path, seed_run):
    out, _ = seed_run
    studies, measures, _ = read_tables(out)
    page = report_path.read_text(encoding="utf-8")
    assert page.count('<section class="card') == len(studies) == 52
    assert page.count('<mark class="hl') == len(measures) == 221
    assert page.count('class="card damaged"') == 1
    assert "<svg" in page and "Ratios with 95% CI" in page and "Response and remission rates" in page


def test_page_is_self_contained(report_path):
    page = report_path.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "@import" not in page and "<link" not in page and "url(" not in page


def test_misses_and_extras_are_marked(seed_run):
    out, _ = seed_run
    studies, measures, uncovered = read_tables(out)
    dropped = next(m for m in measures if m.type == "odds_ratio")
    kept = [m for m in measures if m is not dropped]
    fake_eval = {
        "micro_core": {"f1": 0.9, "precision": 1, "recall": 0.9}, "micro_all": {"f1": 0.9, "precision": 1, "recall": 0.9},
        "attributes": {}, "extras": [{"char_start": kept[0].char_start, "char_end": kept[0].char_end, "type": kept[0].type}],
        "misses": [{"source": dropped.source, "type": dropped.type, "char_start": dropped.char_start, "char_end": dropped.char_end,
                    "value": dropped.value, "low": None, "high": None, "unit": None, "label": None}],
    }
    texts = {"ketamine-research.txt": (RAW / "ketamine-research.txt").read_bytes().decode("utf-8")}
    page = render_report(studies, kept, uncovered, texts, fake_eval, None, None)
    assert page.count('<mark class="miss"') == 1 and f"MISSED by evidex — gold odds_ratio {dropped.value:.4g}" in page
    assert page.count('<mark class="hl extra"') == 1


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report_path, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium; it could not here)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000"]
    url = report_path.resolve().as_uri()
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    assert 'data-rendered="yes"' in dom, "the page's script did not run"
    assert 'data-table-rows="221"' in dom
    assert dom.count('<section class="card') == 52
    assert dom.count('<mark class="hl') == 221
    assert len(re.findall(r"<tr><td>", dom)) == 221  # the measures table was built by the script
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_embedded_data_escapes_angle_brackets_so_a_span_cannot_break_the_table(seed_run):
    """A span like `<!--<script` inside the JSON `<script>` element would put the HTML
    parser into its double-escaped state, where `</script>` no longer closes the element
    (issue 21 item 15): no `<` may reach the element, and JSON.parse must read the same data."""
    out, _ = seed_run
    studies, measures, uncovered = read_tables(out)
    nasty = "<!--<script>alert(1)</script>&amp;"
    edited = [m.model_copy(update={"text": nasty}) if i == 0 else m for i, m in enumerate(measures)]
    page = render_report(studies, edited, uncovered, {}, None, None, None)
    payload = page.split('<script type="application/json" id="measures-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in payload and ">" not in payload and "&" not in payload
    rows = json.loads(payload)
    assert len(rows) == len(measures)
    assert nasty in {r["text"] for r in rows}
    assert page.count("<script") == 2  # the data element and the page's own script, nothing opened by the data


_LEGEND_PROBE = """<script>
document.body.dataset.legend = JSON.stringify([...document.querySelectorAll('.legend-row span')].map(s => {
  const cs = getComputedStyle(s), r = s.getBoundingClientRect();
  return {text: s.textContent, color: cs.color, background: cs.backgroundColor, visible: cs.visibility, opacity: cs.opacity,
          width: r.width, height: r.height};
}));
</script></body>"""


def _rgb(css: str) -> str:
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


@pytest.mark.browser
def test_legend_text_is_visible_in_headless_chromium(report_path, tmp_path):
    """Chromium's computed colours of every legend label: readable text (WCAG AA 4.5:1)
    on an opaque background, laid out with a size (issue 20 item 6: the labels were white)."""
    from test_history import contrast

    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium; it could not here)")
    probe = tmp_path / "report-probe.html"
    probe.write_text(report_path.read_text(encoding="utf-8").replace("</body>", _LEGEND_PROBE, 1), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,900"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'data-legend="([^"]*)"', dom)
    assert found, "the probe did not run"
    import html as html_lib

    labels = json.loads(html_lib.unescape(found.group(1)))
    assert len(labels) == 15 and labels[0]["text"] == "response_rate"
    for label in labels:
        assert label["visible"] == "visible" and float(label["opacity"]) == 1 and label["width"] > 0 and label["height"] > 0
        assert not label["background"].startswith("rgba(0, 0, 0, 0)"), label  # an opaque background of its own
        assert contrast(_rgb(label["color"]), _rgb(label["background"])) >= 4.5, label
