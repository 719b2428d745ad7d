"""Reconcile the two independent gold passes (A and B) into tests/gold/<stem>.jsonl.

Both passes were written by reading the page against ANNOTATION.md; this script only
lines them up (same block, same type, overlapping spans), prints every disagreement,
and applies the adjudications listed in DECISIONS — each one a human call recorded in
docs/annotation-log.md. A disagreement without a decision stops the script.

    python tests/gold/passes/reconcile.py          # check + write
"""

import json
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parent / "ketamine-research.jsonl"
SOURCE = HERE.parents[2] / "raw" / "ketamine-research.txt"

# (block_index, type, A text, B text) -> decision.
#   "A" / "B": keep that pass's record; "drop": label neither; dict: A's record updated.
DECISIONS = {
    # Span convention: the number with its unit or marker (~, ≈, <), no bound words.
    (3, "effect_size", "d≈0.5", "effect size d≈0.5"): "A",
    (4, "effect_size", "d≈1.0", "effect size d≈1.0"): "A",
    (11, "follow_up", "<2 h", "2 h"): "A",
    (18, "follow_up", "over 14 weeks", "14 weeks"): "B",
    (22, "follow_up", "24 hours", "At 24 hours"): "A",
    (23, "follow_up", "2 weeks", "After 2 weeks"): "A",
    (29, "follow_up", "1 week", "at 1 week"): "A",
    (34, "follow_up", "six months", "at six months"): "A",
    (40, "follow_up", "12 months", "At 12 months"): "A",
    (40, "follow_up", "1 year", "at 1 year"): "A",
    # Both groups got ketamine (3 vs 1 KPT session): the arm is the drug group.
    (40, "other_rate", "50%", "50%"): "A",
    (40, "other_rate", "22%", "22%"): "A",
    # "over the year": no number word ("the" is not "a"), so no label.
    (40, "follow_up", None, "over the year"): "drop",
}

FIELDS = ["value", "low", "high", "unit", "label", "approx", "bound", "arm", "timepoint_days",
          "numerator", "denominator", "ci_low", "ci_high", "p_value"]
BLOCK_KEYS = ["block_index", "char_start", "char_end", "title", "findings_start", "findings_end",
              "conclusion_start", "conclusion_end", "condition"]


def load(name):
    rows = []
    for part in ("part1.jsonl", "part2.jsonl"):
        rows += [json.loads(line) for line in (HERE / name / part).read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def same(x, y):
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= 1e-6
    return x == y


def overlaps(m, n):
    return m["char_start"] < n["char_end"] and n["char_start"] < m["char_end"]


def reconcile() -> tuple[list[dict], list[str], set]:
    """(merged blocks, undecided disagreements, decisions that no longer apply)."""
    a_blocks, b_blocks = load("A"), load("B")
    assert len(a_blocks) == len(b_blocks), "passes disagree on the number of blocks"
    undecided, out = [], []
    used_decisions = set()
    for a, b in zip(a_blocks, b_blocks, strict=True):
        for key in BLOCK_KEYS:
            if a[key] != b[key]:
                undecided.append(f"block {a['block_index']}: {key} A={a[key]!r} B={b[key]!r}")
        merged, taken = [], set()
        for m in a["measures"]:
            j = next((j for j, n in enumerate(b["measures"]) if j not in taken and n["type"] == m["type"] and overlaps(m, n)), None)
            n = b["measures"][j] if j is not None else None
            if n is not None:
                taken.add(j)
                if m["text"] == n["text"] and all(same(m[f], n[f]) for f in FIELDS):
                    merged.append(m)
                    continue
            key = (a["block_index"], m["type"], m["text"], n["text"] if n else None)
            decision = DECISIONS.get(key)
            if decision is None:
                undecided.append(f"{key}")
                continue
            used_decisions.add(key)
            if decision == "A":
                merged.append(m)
            elif decision == "B" and n is not None:
                merged.append(n)
            elif isinstance(decision, dict):
                merged.append({**m, **decision})
        for j, n in enumerate(b["measures"]):
            if j in taken:
                continue
            key = (a["block_index"], n["type"], None, n["text"])
            decision = DECISIONS.get(key)
            if decision is None:
                undecided.append(f"{key}")
                continue
            used_decisions.add(key)
            if decision == "B":
                merged.append(n)
        merged.sort(key=lambda m: (m["char_start"], m["char_end"], m["type"]))
        out.append({**{k: a[k] for k in BLOCK_KEYS}, "measures": merged})
    stale = set(DECISIONS) - used_decisions
    # SCHEMA v1.1: `drug` on every dose and route, from the two v1.1 drug passes.
    drugs = runpy.run_path(str(HERE / "v1.1" / "drugs.py"))
    out = drugs["apply"](out, "seed", drugs["reconciled"]())
    # ANNOTATION v1.1's other new lines, from two independent reviews of the whole page.
    review = runpy.run_path(str(HERE / "v1.1" / "review.py"))
    out = review["apply"](out, SOURCE.read_bytes().decode("utf-8"))
    return out, undecided, stale


def main() -> int:
    out, undecided, stale = reconcile()
    if undecided or stale:
        print("undecided disagreements:", *undecided, sep="\n  ")
        print("decisions that no longer apply:", *map(str, stale), sep="\n  ")
        return 1
    text = SOURCE.read_bytes().decode("utf-8")
    for block in out:
        for m in block["measures"]:
            assert text[m["char_start"]:m["char_end"]] == m["text"], m
    OUT.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in out), encoding="utf-8")
    print(f"wrote {OUT.name}: {len(out)} blocks, {sum(len(b['measures']) for b in out)} measures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
