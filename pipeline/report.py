"""`evidex report`: one self-contained HTML review page (no network, no CDN, no fonts).

`render_report(...)` is pure: tables, source texts, the eval report and the change
report in, an HTML string out. It has a header (sources, counts per type, scores,
changes), static SVG charts (rates per study by condition, ketamine against
comparators; a forest plot of ratios on a log scale and of effect sizes, with CIs),
one card per study with every extracted span highlighted by type (the tooltip shows
value, unit, arm, timepoint and rule_id; gold misses and extras are marked; damaged
blocks and uncovered numbers are visible), and a filterable, sortable table of all
measures in plain JavaScript.

Written by hand rather than with displaCy's `style="span"`: displaCy cannot attach a
tooltip per span or mark gold misses apart from extras, and renders every token as
its own element, which makes a 50-card page heavy.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from pathlib import Path

from .export import write_text_atomic
from .ingest import list_sources, read_source
from .models import MEASURE_TYPES, Measure, Study, Uncovered

COLOURS = {
    "response_rate": "#1b9e77", "remission_rate": "#117a65", "other_rate": "#66a61e", "dose": "#d95f02",
    "route": "#7570b3", "effect_size": "#e7298a", "odds_ratio": "#a6761d", "hazard_ratio": "#8c564b",
    "risk_ratio": "#bc8f00", "nnt": "#1f78b4", "follow_up": "#666666",
}
TREATMENT_ARMS = {"ketamine", "esketamine", "arketamine"}


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:.4g}"


def _value_text(m: Measure | dict) -> str:
    get = m.get if isinstance(m, dict) else lambda k: getattr(m, k)
    if get("value") is not None:
        v = _fmt(get("value"))
    elif get("low") is not None:
        v = f"{_fmt(get('low'))}–{_fmt(get('high'))}"
    else:
        v = get("label") or ""
    unit = get("unit")
    return f"{v}{' ' + unit if unit and unit != '%' else unit or ''}"


def _tooltip(m: Measure) -> str:
    parts = [m.type, _value_text(m)]
    if m.label and m.type != "route":
        parts.append(f"label {m.label}")
    if m.arm:
        parts.append(f"arm {m.arm}")
    if m.timepoint_days is not None:
        parts.append(f"at {_fmt(m.timepoint_days)} d")
    if m.bound:
        parts.append(f"bound {m.bound}")
    if m.ci_low is not None:
        parts.append(f"CI {_fmt(m.ci_low)}–{_fmt(m.ci_high)}")
    if m.p_value is not None:
        parts.append(f"p {_fmt(m.p_value)}")
    parts.append(f"rule {m.rule_id}")
    return " · ".join(parts)


def highlight(text: str, start: int, end: int, measures: list[Measure], extras: set[tuple[int, int, str]],
              misses: list[dict], uncovered: list[Uncovered], changed: dict[str, str] | None = None) -> str:
    """HTML of text[start:end] with measure spans, gold misses and uncovered numbers marked;
    a measure in `changed` (measure_id → what changed) is marked as changed since the previous run."""
    marks: list[tuple[int, int, str, str]] = []  # (start, end, open tag, close tag)
    for m in measures:
        if start <= m.char_start and m.char_end <= end:
            cls = "hl extra" if (m.char_start, m.char_end, m.type) in extras else "hl"
            tip = _tooltip(m)
            note = (changed or {}).get(m.measure_id)
            if note is not None:
                cls += " changed"
                tip += f" · CHANGED since the previous run: {note}"
            marks.append((m.char_start, m.char_end,
                          f'<mark class="{cls}" data-type="{m.type}" style="--c:{COLOURS[m.type]}" title="{html.escape(tip)}">',
                          "</mark>"))
    for g in misses:
        if start <= g["char_start"] and g["char_end"] <= end and not any(a < g["char_end"] and g["char_start"] < b for a, b, _, _ in marks):
            tip = f"MISSED by evidex — gold {g['type']} {_value_text(g)}"
            marks.append((g["char_start"], g["char_end"], f'<mark class="miss" title="{html.escape(tip)}">', "</mark>"))
    for u in uncovered:
        if start <= u.char_start and u.char_end <= end and not any(a < u.char_end and u.char_start < b for a, b, _, _ in marks):
            marks.append((u.char_start, u.char_end, f'<span class="uncovered" title="uncovered number ({u.reason})">', "</span>"))
    marks.sort()
    out, pos = [], start
    for a, b, open_tag, close_tag in marks:
        if a < pos:
            continue  # overlapping marks: keep the first
        out.append(html.escape(text[pos:a]))
        out.append(open_tag + html.escape(text[a:b]) + close_tag)
        pos = b
    out.append(html.escape(text[pos:end]))
    return "".join(out).replace("\n", "<br>")


# --------------------------------------------------------------------------- charts


def rates_chart(studies: list[Study], measures: list[Measure]) -> str:
    """Dot plot: response/remission rates per study (rows grouped by condition), 0–100%."""
    by_study: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        if m.type in ("response_rate", "remission_rate"):
            by_study[m.study_id].append(m)
    rows = [s for s in sorted(studies, key=lambda s: (s.condition, s.source, s.block_index)) if by_study.get(s.study_id)]
    if not rows:
        return "<p>No response or remission rates.</p>"
    left, width, row_h, top = 230, 520, 18, 30
    height = top + row_h * len(rows) + 40
    svg = [f'<svg class="chart" role="img" aria-label="Response and remission rates per study" viewBox="0 0 {left + width + 20} {height}" width="{left + width + 20}" height="{height}">']
    for pct in range(0, 101, 20):
        x = left + width * pct / 100
        svg.append(f'<line x1="{x}" y1="{top - 8}" x2="{x}" y2="{height - 30}" class="grid"/><text x="{x}" y="{height - 14}" class="tick" text-anchor="middle">{pct}%</text>')
    condition = None
    for i, s in enumerate(rows):
        y = top + i * row_h + row_h / 2
        if s.condition != condition:
            condition = s.condition
            svg.append(f'<line x1="0" y1="{y - row_h / 2}" x2="{left + width}" y2="{y - row_h / 2}" class="sep"/>')
            svg.append(f'<text x="4" y="{y + 4}" class="cond">{html.escape(condition)}</text>')
        label = f"#{s.block_index} " + (s.title or s.findings)[:22]
        svg.append(f'<text x="{left - 6}" y="{y + 4}" class="tick" text-anchor="end">{html.escape(label)}</text>')
        for m in by_study[s.study_id]:
            treat = (m.arm or "ketamine") in TREATMENT_ARMS
            shape_cls = ("resp" if m.type == "response_rate" else "remi") + (" treat" if treat else " comp")
            tip = html.escape(f"{m.type} {_value_text(m)} · {m.arm or '?'}")
            if m.value is not None:
                x = left + width * m.value / 100
                svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" class="{shape_cls}"><title>{tip}</title></circle>')
            elif m.low is not None and m.high is not None:
                x1, x2 = left + width * m.low / 100, left + width * m.high / 100
                svg.append(f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" class="range {shape_cls}"><title>{tip}</title></line>')
    svg.append(f'<text x="{left}" y="14" class="legend">● ketamine-family arm  ○ comparator  · green = response, teal = remission</text>')
    svg.append("</svg>")
    return "".join(svg)


def nice_step(lo: float, hi: float, target: int = 5) -> float:
    """A tick step of 1, 2 or 5 × 10^k giving about `target` intervals over [lo, hi]."""
    raw = (hi - lo) / target if hi > lo else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (multiples of `nice_step`) from lo to hi inclusive."""
    step = nice_step(lo, hi, target)
    digits = max(0, -math.floor(math.log10(step)))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [round(k * step, digits) for k in range(first, last + 1)]


def forest_chart(studies: list[Study], measures: list[Measure], types: tuple[str, ...], log: bool, title: str) -> str:
    """Forest plot with CI whiskers (log scale for ratios)."""
    index = {s.study_id: s for s in studies}
    rows = [m for m in measures if m.type in types and (m.value is not None or m.low is not None)]
    if not rows:
        return f"<p>No {html.escape(title.lower())}.</p>"
    vals = []
    for m in rows:
        for v in (m.value, m.low, m.high, m.ci_low, m.ci_high):
            if v is not None and (not log or v > 0):
                vals.append(v)
    lo, hi = min(vals), max(vals)
    if log:
        lo, hi = math.log10(min(lo, 0.5)), math.log10(max(hi, 2))
    else:
        lo, hi = min(lo, 0.0), max(hi, 1.0)
        step = nice_step(lo, hi)
        lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step  # the axis ends on a tick

    def x_of(v: float) -> float:
        t = ((math.log10(v) if log else v) - lo) / (hi - lo)
        return left + width * t

    left, width, row_h, top = 260, 460, 20, 20
    height = top + row_h * len(rows) + 40
    svg = [f'<svg class="chart" role="img" aria-label="{html.escape(title)}" viewBox="0 0 {left + width + 40} {height}" width="{left + width + 40}" height="{height}">']
    ref = x_of(1.0) if log else x_of(0.0)
    svg.append(f'<line x1="{ref:.1f}" y1="{top - 10}" x2="{ref:.1f}" y2="{height - 30}" class="ref"/>')
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200) if lo <= math.log10(t) <= hi] if log else \
        nice_ticks(lo, hi)
    for t in ticks:
        svg.append(f'<text x="{x_of(t):.1f}" y="{height - 12}" class="tick" text-anchor="middle">{t:g}</text>')
    for i, m in enumerate(rows):
        y = top + i * row_h + row_h / 2
        s = index.get(m.study_id)
        label = f"#{s.block_index if s else '?'} {m.type.replace('_', ' ')} {m.text[:24]}"
        svg.append(f'<text x="{left - 6}" y="{y + 4}" class="tick" text-anchor="end">{html.escape(label)}</text>')
        tip = html.escape(_tooltip(m))
        if m.ci_low is not None and m.ci_high is not None and (not log or m.ci_low > 0):
            svg.append(f'<line x1="{x_of(m.ci_low):.1f}" y1="{y:.1f}" x2="{x_of(m.ci_high):.1f}" y2="{y:.1f}" class="ci"/>')
        if m.value is not None and (not log or m.value > 0):
            svg.append(f'<rect x="{x_of(m.value) - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" class="pt" style="fill:{COLOURS[m.type]}"><title>{tip}</title></rect>')
        elif m.low is not None and m.high is not None:
            svg.append(f'<line x1="{x_of(m.low):.1f}" y1="{y:.1f}" x2="{x_of(m.high):.1f}" y2="{y:.1f}" class="range" style="stroke:{COLOURS[m.type]}"><title>{tip}</title></line>')
    svg.append(f'<text x="{left}" y="12" class="legend">{html.escape(title)}{" (log scale; line at 1)" if log else " (line at 0)"}</text></svg>')
    return "".join(svg)


# --------------------------------------------------------------------------- page

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header,main{max-width:1100px;margin:0 auto;padding:12px 20px}
h1{font-size:22px;margin:8px 0} h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #ddd}
.kpis{display:flex;flex-wrap:wrap;gap:8px}.kpi{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px 10px}
.kpi b{display:block;font-size:18px}
.legend-row span{display:inline-block;margin:2px 6px 2px 0;padding:1px 6px;border-radius:4px;font-size:12px;color:#222}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px 14px;margin:10px 0}
.card.damaged{border-color:#c0392b;border-width:2px}
.card h3{font-size:15px;margin:0 0 4px}.meta{font-size:12px;color:#666}
.flag{background:#c0392b;color:#fff;border-radius:4px;padding:0 5px;margin-left:4px;font-size:11px}
.cell{margin:6px 0}.cell-name{font-size:11px;text-transform:uppercase;color:#888;letter-spacing:.05em}
mark.hl{background:color-mix(in srgb,var(--c) 22%,white);border-bottom:2px solid var(--c);padding:0 1px;border-radius:2px}
mark.hl.extra{outline:2px dashed #c0392b}
mark.hl.changed,.key-changed{box-shadow:0 0 0 2px #e67e22;background:#fdebd0}
#changes td.cause{white-space:nowrap}
mark.miss{background:#fff;border:2px solid #c0392b;color:#c0392b}
span.uncovered,.key-uncovered{border-bottom:2px dotted #999}
.key-miss{border:2px solid #c0392b;padding:0 3px}.key-extra{outline:2px dashed #c0392b;padding:0 3px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:12px}th,td{border:1px solid #ddd;padding:3px 5px;text-align:left}
th{cursor:pointer;background:#f0f0f0;position:sticky;top:0}
input#filter{width:60%;padding:5px;margin:6px 0}
svg.chart{background:#fff;border:1px solid #ddd;border-radius:6px;max-width:100%;height:auto}
svg .grid{stroke:#eee}svg .sep{stroke:#ccc}svg .ref{stroke:#999;stroke-dasharray:4 3}svg .tick{font-size:10px;fill:#555}
svg .cond{font-size:11px;font-weight:600;fill:#333}svg .legend{font-size:11px;fill:#333}
svg circle.resp.treat{fill:#1b9e77}svg circle.remi.treat{fill:#117a65}
svg circle.comp{fill:#fff;stroke-width:2}svg circle.resp.comp{stroke:#1b9e77}svg circle.remi.comp{stroke:#117a65}
svg line.range{stroke-width:5;stroke-linecap:round;stroke:#1b9e77;opacity:.7}svg line.ci{stroke:#333;stroke-width:1.5}
"""

JS = """
(function(){
  const rows = JSON.parse(document.getElementById('measures-data').textContent);
  const cols = ['study','type','text','value','unit','label','arm','timepoint_days','ci','p_value','rule_id'];
  const tbody = document.querySelector('#measures tbody');
  let sortCol = null, asc = true;
  function render(){
    const q = document.getElementById('filter').value.toLowerCase();
    let data = rows.filter(r => !q || cols.some(c => String(r[c] ?? '').toLowerCase().includes(q)));
    if (sortCol) data.sort((a,b) => {
      const x = a[sortCol], y = b[sortCol];
      if (x === y) return 0; if (x === null || x === '') return 1; if (y === null || y === '') return -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * (asc ? 1 : -1);
    });
    tbody.replaceChildren(...data.map(r => {
      const tr = document.createElement('tr');
      cols.forEach(c => { const td = document.createElement('td'); td.textContent = r[c] ?? ''; tr.appendChild(td); });
      return tr;
    }));
    document.getElementById('shown').textContent = data.length + ' of ' + rows.length;
    document.body.dataset.tableRows = data.length;
  }
  document.querySelectorAll('#measures th').forEach(th => th.addEventListener('click', () => {
    const c = th.dataset.col; asc = sortCol === c ? !asc : true; sortCol = c; render();
  }));
  document.getElementById('filter').addEventListener('input', render);
  render();
  document.body.dataset.rendered = 'yes';
})();
"""


TEXT_COLOUR = "#222222"


def tint(colour: str, share: float = 0.22) -> str:
    """`colour` mixed with white (`share` of the colour): the background of a highlight."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * share + 255 * (1 - share)):02x}" for c in rgb)


def legend() -> str:
    """The key: one swatch per measure type drawn as its highlight is (tinted background,
    coloured underline, dark text), then the marks for gold misses, extras, changed values
    and uncovered numbers. Every swatch states its text and background colour inline."""
    swatch = 'style="background:{bg};border-bottom:2px solid {c};color:{fg}"'
    out = ['<p class="legend-row">']
    out += [f'<span {swatch.format(bg=tint(c), c=c, fg=TEXT_COLOUR)}>{t}</span>' for t, c in COLOURS.items()]
    out.append('<span class="key-miss" style="background:#ffffff;color:#c0392b">gold miss</span>')
    out.append(f'<span class="key-extra" style="background:#ffffff;color:{TEXT_COLOUR}">extra (not in gold)</span>')
    out.append(f'<span class="key-changed" style="background:#fdebd0;color:{TEXT_COLOUR}">changed since the previous run</span>')
    out.append(f'<span class="key-uncovered" style="background:#ffffff;color:{TEXT_COLOUR}">uncovered number</span></p>')
    return "".join(out)


def _change_note(c: dict) -> str:
    if c["change"] == "changed":
        return "; ".join(f"{f} {v['old'] or '∅'} → {v['new'] or '∅'}" for f, v in c["fields"].items())
    if c["change"] == "added":
        return f"added ({c.get('new_value') or ''})"
    return f"removed ({c.get('old_value') or ''})"


def _cause(c: dict) -> str:
    if c.get("cause") != "rules":
        return c.get("cause", "")
    if c.get("rule_file"):
        return f"rules: {c['rule_file']}" + (" (changed)" if c.get("rule_file_changed") else " (unchanged; another file or evidex changed)")
    return "rules"


def changed_measures(changes: dict | None) -> dict[str, str]:
    """measure_id → what changed, for every measure added or changed since the previous run."""
    return {c["measure_id"]: f"{_change_note(c)} [cause {_cause(c)}]"
            for c in (changes or {}).get("measures") or [] if c["change"] in ("added", "changed")}


def changes_section(changes: dict, studies: dict[str, Study]) -> str:
    """Every study and measure change of the change report, with its cause, linked to its card."""
    out = ['<h2 id="changes">Changes since the previous run</h2>']
    if changes.get("error"):
        out.append(f"<p>{html.escape(changes['error'])}</p>")
    files = changes.get("rules_changed_files")
    if files:
        out.append("<p>Rule files changed: " + ", ".join(f"<code>{html.escape(f)}</code>" for f in files) + "</p>")
    measures, blocks = changes.get("measures") or [], changes.get("studies") or []
    if not measures and not blocks:
        out.append("<p>No value changed.</p>")
        return "".join(out)

    def block(study_id: str, fallback: object = "") -> str:
        s = studies.get(study_id)
        label = f"#{s.block_index}" if s else f"#{fallback}" if fallback != "" else html.escape(study_id)
        return f'<a href="#{html.escape(study_id)}">{label}</a>' if s else label

    if blocks:
        out.append('<table class="changes-studies"><thead><tr><th>study change</th><th>cause</th><th>block</th><th>detail</th></tr></thead><tbody>')
        for c in blocks:
            detail = c.get("word_diff") or c.get("title_or_start") or json.dumps(c.get("fields"), ensure_ascii=False)
            out.append(f"<tr><td>{html.escape(c['change'])}</td><td class=\"cause\">{html.escape(c['cause'])}</td>"
                       f"<td>{block(c['study_id'], c.get('block_index', ''))}</td><td>{html.escape(str(detail))}</td></tr>")
        out.append("</tbody></table>")
    if measures:
        out.append('<table class="changes-measures"><thead><tr><th>value change</th><th>cause</th><th>block</th><th>type</th>'
                   '<th>text</th><th>old → new</th><th>rule</th></tr></thead><tbody>')
        for c in measures:
            out.append(f"<tr class=\"change-{html.escape(c['change'])}\"><td>{html.escape(c['change'])}</td>"
                       f"<td class=\"cause\">{html.escape(_cause(c))}</td><td>{block(c['study_id'])}</td>"
                       f"<td>{html.escape(c['type'])}</td><td>{html.escape(c['text'])}</td>"
                       f"<td>{html.escape(_change_note(c))}</td><td>{html.escape(c.get('rule_id') or '')}</td></tr>")
        out.append("</tbody></table>")
    return "".join(out)


def script_json(data: object) -> str:
    """JSON for a `<script type="application/json">` element: every `<`, `>` and `&` as a
    JSON escape, so no span (`</script>`, `<!--<script`) can end or re-open the element;
    `JSON.parse` reads the same data."""
    return (json.dumps(data, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render_report(studies: list[Study], measures: list[Measure], uncovered: list[Uncovered], texts: dict[str, str],
                  eval_report: dict | None, changes: dict | None, manifest: dict | None) -> str:
    """The whole page as one HTML string (deterministic for the same inputs)."""
    studies = sorted(studies, key=lambda s: (s.source, s.char_start))
    by_study: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        by_study[m.study_id].append(m)
    unc_by_study: dict[str, list[Uncovered]] = defaultdict(list)
    for u in uncovered:
        if u.study_id:
            unc_by_study[u.study_id].append(u)
    extras = {(e["char_start"], e["char_end"], e["type"]) for e in (eval_report or {}).get("extras", [])}
    misses_by_source: dict[str, list[dict]] = defaultdict(list)
    for g in (eval_report or {}).get("misses", []):
        misses_by_source[g["source"]].append(g)

    counts = {t: 0 for t in MEASURE_TYPES}
    for m in measures:
        counts[m.type] += 1
    sources = sorted({s.source for s in studies} | set((manifest or {}).get("sources", {})))
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>evidex report</title><style>{CSS}</style></head><body>",
             "<header><h1>evidex review report</h1>",
             f"<p>Sources: {', '.join(html.escape(s) for s in sources) or '—'} · {len(studies)} study blocks · {len(measures)} measures · {len(uncovered)} uncovered numbers</p>",
             '<div class="kpis">' + "".join(f'<div class="kpi" style="border-left:4px solid {COLOURS[t]}">{t.replace("_", " ")}<b>{n}</b></div>' for t, n in counts.items()) + "</div>"]
    rejected = (manifest or {}).get("rejected") or {}
    if rejected:
        parts.append("<p><b>Rejected inputs:</b> " + "; ".join(html.escape(v) for v in rejected.values()) + "</p>")
    if eval_report:
        mc, ma = eval_report["micro_core"], eval_report["micro_all"]
        parts.append(f"<p><b>Gold scores:</b> micro F1 core {mc['f1']:.3f}, all {ma['f1']:.3f} "
                     f"(P {ma['precision']:.3f}, R {ma['recall']:.3f}); {len(eval_report['misses'])} misses, {len(eval_report['extras'])} extras; "
                     + ", ".join(f"{a} {v['accuracy']:.3f}" for a, v in eval_report["attributes"].items() if v["accuracy"] is not None) + "</p>")
    changed = changed_measures(changes)
    if changes is not None:
        summary = changes.get("summary") or {}
        text = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()) or "no changes"
        when = f" (run at {changes['run_at']})" if changes.get("run_at") else ""
        parts.append(f'<p><b>Changes since the previous run{html.escape(when)}:</b> {html.escape(text)} — '
                     f'<a href="#changes">every change</a></p>')
    parts.append(legend() + "</header><main>")
    if changes is not None:
        parts.append(changes_section(changes, {s.study_id: s for s in studies}))

    parts.append("<h2>Response and remission rates</h2>" + rates_chart(studies, measures))
    parts.append("<h2>Odds, hazard and risk ratios</h2>" + forest_chart(studies, measures, ("odds_ratio", "hazard_ratio", "risk_ratio"), True, "Ratios with 95% CI"))
    parts.append("<h2>Effect sizes</h2>" + forest_chart(studies, measures, ("effect_size",), False, "Effect sizes with 95% CI"))

    parts.append("<h2>Studies</h2>")
    for s in studies:
        text = texts.get(s.source, "")
        flags = [f for f in (s.flags or "").split(";") if f]
        ms = by_study[s.study_id]
        misses = [g for g in misses_by_source.get(s.source, []) if s.char_start <= g["char_start"] < s.char_end]
        cls = "card damaged" if "damaged_text" in flags else "card"
        unc = unc_by_study[s.study_id]
        if s.title is not None and s.title_start is not None and s.title_end is not None and text:
            head = highlight(text, s.title_start, s.title_end, ms, extras, misses, unc, changed)
        else:
            head = html.escape(s.title) if s.title else f"Block {s.block_index}"
        parts.append(f'<section class="{cls}" id="{html.escape(s.study_id)}"><h3>{head}</h3>'
                     f'<div class="meta">#{s.block_index} · {html.escape(s.condition)} · {html.escape(s.source)} · {len(ms)} measures'
                     + (f" · duplicate of {html.escape(s.duplicate_of)}" if s.duplicate_of else "")
                     + "".join(f'<span class="flag">{html.escape(f)}</span>' for f in flags) + "</div>")
        cells = [("findings", s.findings_start, s.findings_end)]
        if s.conclusion_start is not None and s.conclusion_end is not None:
            cells.append(("conclusion", s.conclusion_start, s.conclusion_end))
        for name, a, b in cells:
            if text:
                body = highlight(text, a, b, ms, extras, misses, unc, changed)
            else:
                body = html.escape(s.findings if name == "findings" else s.conclusion or "")
            parts.append(f'<div class="cell"><div class="cell-name">{name}</div>{body}</div>')
        parts.append("</section>")

    index = {s.study_id: s for s in studies}
    data = [{"study": f"{index[m.study_id].block_index if m.study_id in index else ''} {m.source}", "type": m.type, "text": m.text,
             "value": m.value if m.value is not None else (f"{_fmt(m.low)}–{_fmt(m.high)}" if m.low is not None else None),
             "unit": m.unit, "label": m.label, "arm": m.arm, "timepoint_days": m.timepoint_days,
             "ci": f"{_fmt(m.ci_low)}–{_fmt(m.ci_high)}" if m.ci_low is not None else None, "p_value": m.p_value, "rule_id": m.rule_id}
            for m in sorted(measures, key=lambda m: (m.source, m.char_start))]
    header = "".join(f'<th data-col="{c}">{c}</th>' for c in ("study", "type", "text", "value", "unit", "label", "arm", "timepoint_days", "ci", "p_value", "rule_id"))
    payload = script_json(data)
    parts.append(f'<h2>All measures</h2><input id="filter" placeholder="filter (type, arm, text, rule…)"> <span id="shown"></span>'
                 f'<table id="measures"><thead><tr>{header}</tr></thead><tbody></tbody></table>'
                 f'<script type="application/json" id="measures-data">{payload}</script><script>{JS}</script></main></body></html>')
    return "\n".join(parts)


class SourceMismatch(Exception):
    """A page in the raw directory is not the one the tables were extracted from."""


def raw_dir_of(out_dir: Path, manifest: dict | None) -> Path:
    """The raw directory the tables came from: the manifest's `raw_dir` (relative to
    out_dir), else `raw`."""
    rel = (manifest or {}).get("raw_dir")
    return out_dir / rel if isinstance(rel, str) else Path("raw")


def source_texts(raw_dir: Path, manifest: dict | None) -> dict[str, str]:
    """Source → text of every page the manifest lists, read from raw_dir.

    Raises SourceMismatch naming every page whose sha256 differs from the manifest's
    (its highlights would land on the wrong characters). A page that is missing or
    unreadable just has no text (its cards show the table's cell texts).
    """
    import hashlib

    listed = (manifest or {}).get("sources") or {}
    texts: dict[str, str] = {}
    wrong = []
    if not raw_dir.is_dir():
        return texts
    for p in list_sources(raw_dir):
        try:
            src = read_source(p, raw_dir)
        except Exception:  # noqa: BLE001 - a rejected file has no card anyway
            continue
        want = listed.get(src.source, {}).get("sha256") if listed else None
        if want is not None and hashlib.sha256(p.read_bytes()).hexdigest() != want:
            wrong.append(src.source)
            continue
        if not listed or src.source in listed:
            texts[src.source] = src.text
    if wrong:
        raise SourceMismatch(f"{raw_dir}: {', '.join(wrong)} differ{'s' if len(wrong) == 1 else ''} from the page the tables "
                             "were extracted from (sha256 in manifest.json); run `evidex run` again, or pass --raw "
                             "with the directory the tables came from")
    return texts


def write_report(out_dir: Path, raw_dir: Path | None = None) -> Path:
    """Read the tables (and eval.json, changes.json, manifest.json when present) and write
    out_dir/report.html. The pages are read from raw_dir, by default the manifest's; a page
    whose sha256 differs from the manifest's is refused (`SourceMismatch`)."""
    from .runner import read_tables

    def load(name: str) -> dict | None:
        path = out_dir / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    manifest = load("manifest.json")
    texts = source_texts(raw_dir if raw_dir is not None else raw_dir_of(out_dir, manifest), manifest)
    studies, measures, uncovered = read_tables(out_dir)
    scores = load("eval.json")
    # The tables are raw/'s, so the page marks the misses and extras of the `pages` corpus.
    pages = (scores or {}).get("corpora", {}).get("pages")
    pages = None if pages is None or "skipped" in pages else pages
    page = render_report(studies, measures, uncovered, texts, pages, load("changes.json"), manifest)
    path = out_dir / "report.html"
    write_text_atomic(path, page)
    return path
