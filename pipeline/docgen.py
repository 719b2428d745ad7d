"""Generated documentation: docs/schema.json, the README's and docs/accuracy.md's generated sections.

`python -m evidex.docgen` rewrites them; `tests/test_schema.py` fails when they are
stale, so the data dictionary and the eval table in the README always say what the
code does. Sections live between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import regex

from .export import dump_json
from .models import MEASURE_TYPES, data_dictionary_markdown, json_schema

ROOT = Path(__file__).resolve().parent.parent


def eval_table_markdown(eval_json: dict) -> str:
    """Per-type F1 of every scored corpus side by side, then attribute accuracy and blocks."""
    scored = {n: r for n, r in eval_json["corpora"].items() if "skipped" not in r}
    names = list(scored)
    lines = ["| type | " + " | ".join(f"{n} F1 (gold/pred/TP)" for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for t in (*MEASURE_TYPES, "micro_core", "micro_all"):
        cells = []
        for r in scored.values():
            c = r[t] if t.startswith("micro") else r["per_type"][t]
            cells.append("–" if c["gold"] == 0 and c["predicted"] == 0 else f"{c['f1']:.3f} ({c['gold']}/{c['predicted']}/{c['tp']})")
        name = f"**{t}**" if t.startswith("micro") else t
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| micro_all precision / recall | " + " | ".join(
        f"{r['micro_all']['precision']:.3f} / {r['micro_all']['recall']:.3f}" for r in scored.values()) + " |")
    lines += ["", "| attribute (matched pairs) | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for a in next(iter(scored.values()))["attributes"] if scored else ():
        lines.append(f"| {a} | " + " | ".join(
            "–" if r["attributes"][a]["accuracy"] is None else f"{r['attributes'][a]['accuracy']:.3f} ({r['attributes'][a]['correct']}/{r['attributes'][a]['total']})"
            for r in scored.values()) + " |")
    lines.append("| blocks: exact cell spans | " + " | ".join(f"{r['blocks']['spans_exact']}/{r['blocks']['gold']}" for r in scored.values()) + " |")
    lines.append("| blocks: gold condition | " + " | ".join(f"{r['blocks']['condition_correct']}/{r['blocks']['gold']}" for r in scored.values()) + " |")
    skipped = {n: r["skipped"] for n, r in eval_json["corpora"].items() if "skipped" in r}
    if skipped:
        lines += ["", *(f"Not scored: {n} ({why})." for n, why in skipped.items())]
    return "\n".join(lines)


def replace_section(text: str, name: str, body: str) -> str:
    pattern = regex.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", regex.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {name} section markers")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def render_accuracy(doc: str, eval_report: dict) -> str:
    """docs/accuracy.md with its "Now" tables (section `accuracy-now`) from the committed eval report."""
    return replace_section(doc, "accuracy-now", eval_table_markdown(eval_report))


def render_readme(readme: str, eval_report: dict | None) -> str:
    readme = replace_section(readme, "data-dictionary", data_dictionary_markdown().rstrip())
    if eval_report is not None:
        readme = replace_section(readme, "eval-table", eval_table_markdown(eval_report))
    return readme


def main() -> int:
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "schema.json").write_text(dump_json(json_schema()), encoding="utf-8")
    eval_path = ROOT / "extracted" / "eval.json"
    report = json.loads(eval_path.read_text(encoding="utf-8")) if eval_path.exists() else None
    readme_path = ROOT / "README.md"
    readme_path.write_text(render_readme(readme_path.read_text(encoding="utf-8"), report), encoding="utf-8")
    accuracy_path = ROOT / "docs" / "accuracy.md"
    if report is not None:
        accuracy_path.write_text(render_accuracy(accuracy_path.read_text(encoding="utf-8"), report), encoding="utf-8")
    print("regenerated docs/schema.json, README and docs/accuracy.md sections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
