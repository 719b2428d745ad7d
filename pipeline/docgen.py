"""Generated documentation: docs/schema.json and the README's generated sections.

`python -m pipeline.docgen` rewrites them; `tests/test_schema.py` fails when they are
stale, so the data dictionary and the eval table in the README always say what the
code does. Sections live between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import regex

from pipeline.export import dump_json
from pipeline.models import data_dictionary_markdown, json_schema

ROOT = Path(__file__).resolve().parent.parent


def eval_table_markdown(report: dict) -> str:
    lines = ["| type | gold | predicted | TP | precision | recall | F1 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for t, r in report["per_type"].items():
        lines.append(f"| {t} | {r['gold']} | {r['predicted']} | {r['tp']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    for name in ("micro_core", "micro_all"):
        r = report[name]
        lines.append(f"| **{name}** | {r['gold']} | {r['predicted']} | {r['tp']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    attrs = ", ".join(f"{a} {v['accuracy']:.3f}" for a, v in report["attributes"].items() if v["accuracy"] is not None)
    b = report["blocks"]
    lines += ["", f"Attribute accuracy on matched pairs: {attrs}.",
              f"Blocks: {b['spans_exact']}/{b['gold']} with exact cell spans, {b['condition_correct']}/{b['gold']} with the gold condition."]
    return "\n".join(lines)


def replace_section(text: str, name: str, body: str) -> str:
    pattern = regex.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", regex.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"README has no {name} section markers")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


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
    print("regenerated docs/schema.json and README sections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
