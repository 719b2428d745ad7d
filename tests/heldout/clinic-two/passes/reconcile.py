"""Reconcile the two independent passes over clinic-two.txt into its gold.

Inputs (this folder): `rows.yaml` (the page's rows, as its author wrote them), `A/labels.yaml`
and `B/labels.yaml` (two annotators, neither saw the other or any pipeline output) and
`decisions.yaml` (one adjudicated call per disagreement, each with its reason). Output:
`../clinic-two.jsonl` in SCHEMA's gold format, offsets into `../clinic-two.txt`.

Each label names its row, cell, exact span text and which occurrence of it in that cell;
this script only locates spans and pairs the passes — it never derives a value from the
text. Two labels pair when they are in the same row and cell, have the same type and their
spans overlap; paired labels that agree in every field are kept, and every difference
(a field, a span, a condition, a measure only one pass has) must be settled in
decisions.yaml. Usage:

    python3 reconcile.py          # write the gold; refuses while a disagreement is open
    python3 reconcile.py --todo   # list the open disagreements
    python3 reconcile.py --stats  # agreement counts
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "clinic-two.txt"
GOLD = HERE.parent / "clinic-two.jsonl"
FIELDS = ("type", "value", "low", "high", "unit", "label", "approx", "bound", "arm", "drug", "timepoint_days",
          "numerator", "denominator", "ci_low", "ci_high", "p_value")
HEADER = ("Study", "Findings", "Conclusion")


def cell_spans(text: str, rows: list[dict[str, Any]]) -> list[dict[str, tuple[int, int]]]:
    """Each row's cells as (start, end) in the page, found in page order after the header."""
    pos = text.index("\n".join(HEADER) + "\n") + len("\n".join(HEADER) + "\n")
    out = []
    for r in rows:
        cells = {}
        for name in ("title", "findings", "conclusion"):
            cell = r.get(name)
            if cell is None:
                continue
            start = text.index(cell, pos)
            if text[pos:start].strip():
                raise SystemExit(f"row {len(out) + 1} {name}: unexpected text before the cell")
            cells[name] = (start, start + len(cell))
            pos = start + len(cell)
        out.append(cells)
    return out


def locate(text: str, cells: dict[str, tuple[int, int]], label: dict[str, Any], where: str) -> tuple[int, int]:
    start, end = cells[label["cell"]]
    at = start - 1
    for _ in range(int(label.get("occurrence") or 1)):
        at = text.find(label["text"], at + 1, end)
        if at < 0:
            raise SystemExit(f"{where}: {label['text']!r} occurs fewer than {label.get('occurrence')} times in its {label['cell']}")
    return at, at + len(label["text"])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(a - b) <= 1e-6 or abs(a - b) <= 0.005 * max(abs(a), abs(b))
    return a == b


def load_pass(name: str, text: str, spans: list[dict[str, tuple[int, int]]]) -> tuple[dict[int, str], list[dict[str, Any]]]:
    data = yaml.safe_load((HERE / name / "labels.yaml").read_text(encoding="utf-8"))
    conditions, measures = {}, []
    for row in data["rows"]:
        n = int(row["row"])
        conditions[n] = row["condition"]
        for i, m in enumerate(row.get("measures") or []):
            where = f"{name} row {n} measure {i + 1}"
            start, end = locate(text, spans[n - 1], m, where)
            measures.append({**{f: m.get(f) for f in FIELDS}, "row": n, "cell": m["cell"], "text": m["text"],
                             "occurrence": int(m.get("occurrence") or 1), "char_start": start, "char_end": end, "pass": name})
    return conditions, measures


def key(m: dict[str, Any]) -> str:
    return f"row {m['row']} {m['cell']} {m['type']} {m['text']!r}#{m['occurrence']}"


def pair(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """Greedy one-to-one pairing in span order: same row, cell and type, overlapping spans."""
    used: set[int] = set()
    pairs, only_a = [], []
    for x in sorted(a, key=lambda m: (m["char_start"], m["char_end"])):
        hit = next((i for i, y in enumerate(b) if i not in used and y["row"] == x["row"] and y["cell"] == x["cell"]
                    and y["type"] == x["type"] and x["char_start"] < y["char_end"] and y["char_start"] < x["char_end"]), None)
        if hit is None:
            only_a.append(x)
        else:
            used.add(hit)
            pairs.append((x, b[hit]))
    return pairs, only_a, [y for i, y in enumerate(b) if i not in used]


def reconcile() -> tuple[list[dict[str, Any]], list[str], dict[str, int]]:
    text = PAGE.read_text(encoding="utf-8")
    rows = yaml.safe_load((HERE / "rows.yaml").read_text(encoding="utf-8"))["rows"]
    spans = cell_spans(text, rows)
    decisions = yaml.safe_load((HERE / "decisions.yaml").read_text(encoding="utf-8")) if (HERE / "decisions.yaml").exists() else {}
    decisions = decisions or {}
    cond_a, ms_a = load_pass("A", text, spans)
    cond_b, ms_b = load_pass("B", text, spans)
    open_calls: list[str] = []
    stats = {"agreed": 0, "differed": 0, "only_a": 0, "only_b": 0, "conditions_differed": 0}
    kept: list[dict[str, Any]] = []
    for x, y in pair(ms_a, ms_b)[0]:
        diff = [f for f in (*FIELDS, "char_start", "char_end") if not _same(x[f], y[f])]
        if not diff:
            stats["agreed"] += 1
            kept.append(x)
            continue
        stats["differed"] += 1
        call = decisions.get(key(x))
        if call is None:
            open_calls.append(f"{key(x)}: A {[x[f] for f in diff]} vs B {[y[f] for f in diff]} ({', '.join(diff)})")
        elif call["take"] in ("A", "B"):
            kept.append(x if call["take"] == "A" else y)
        elif call["take"] != "none":
            raise SystemExit(f"decisions.yaml {key(x)}: take must be A, B or none")
    _, only_a, only_b = pair(ms_a, ms_b)
    for m, side in [(m, "A") for m in only_a] + [(m, "B") for m in only_b]:
        stats["only_a" if side == "A" else "only_b"] += 1
        call = decisions.get(f"only {side}: {key(m)}")
        if call is None:
            open_calls.append(f"only {side}: {key(m)} {[m[f] for f in FIELDS]}")
        elif call["take"] == "keep":
            kept.append(m)
        elif call["take"] != "drop":
            raise SystemExit(f"decisions.yaml only {side}: {key(m)}: take must be keep or drop")
    conditions = {}
    for n in range(1, len(rows) + 1):
        if cond_a.get(n) == cond_b.get(n):
            conditions[n] = cond_a.get(n)
            continue
        stats["conditions_differed"] += 1
        call = decisions.get(f"condition row {n}")
        if call is None:
            open_calls.append(f"condition row {n}: A {cond_a.get(n)} vs B {cond_b.get(n)}")
        else:
            conditions[n] = call["condition"]
    blocks = []
    for n, cells in enumerate(spans, 1):
        ms = sorted((m for m in kept if m["row"] == n), key=lambda m: (m["char_start"], m["char_end"], m["type"]))
        title = cells.get("title")
        findings, conclusion = cells["findings"], cells.get("conclusion")
        start = title[0] if title else findings[0]
        end = (conclusion or findings)[1]
        blocks.append({
            "block_index": n, "char_start": start, "char_end": end,
            "title": text[title[0]:title[1]] if title else None,
            "findings_start": findings[0], "findings_end": findings[1],
            "conclusion_start": conclusion[0] if conclusion else None, "conclusion_end": conclusion[1] if conclusion else None,
            "condition": conditions.get(n),
            "measures": [{"type": m["type"], "text": m["text"], "char_start": m["char_start"], "char_end": m["char_end"],
                          **{f: m[f] for f in FIELDS if f != "type"}} for m in ms],
        })
    return blocks, open_calls, stats


def main(argv: list[str]) -> int:
    blocks, open_calls, stats = reconcile()
    if "--stats" in argv:
        print(json.dumps(stats))
        return 0
    if "--todo" in argv or open_calls:
        print("\n".join(open_calls) or "nothing open")
        return 1 if open_calls and "--todo" not in argv else 0
    GOLD.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in blocks), encoding="utf-8")
    print(f"wrote {GOLD.name}: {len(blocks)} blocks, {sum(len(b['measures']) for b in blocks)} measures; {json.dumps(stats)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
