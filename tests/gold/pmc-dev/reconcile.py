"""Reconcile the two independent gold passes (A, B) of pmc-dev into tests/gold/pmc-dev/<PMCID>.jsonl.

Both passes were written by reading each abstract against ANNOTATION.md v1.1 (see
`author.py`); this script only lines them up — same type, overlapping spans, in span
order — lists every disagreement, and applies the adjudications in `decisions.yaml`,
each a human call made by reading the text (the reasons are in the file; the general
ones in docs/annotation-log.md). A disagreement without a decision stops the script,
and so does a decision that no longer applies.

    .venv/bin/python tests/gold/pmc-dev/reconcile.py            # check, then write the gold
    .venv/bin/python tests/gold/pmc-dev/reconcile.py --todo     # print what still needs a decision
    .venv/bin/python tests/gold/pmc-dev/reconcile.py --stats    # agreement between the passes

A decision is one YAML mapping:
    {source: PMC…, type: dose, a: "10 mg", b: null, at: 1234, take: A, why: "…"}
`a`/`b` are the two passes' span texts (null where a pass has no such measure), `at`
the char_start of A's measure (of B's when A has none), `take` one of `A`, `B`, `drop`
(label neither) or a mapping of fields that overrides the A record (the B record when A
has none). A condition disagreement is `{source: PMC…, condition: pain, why: "…"}`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parents[3] / "shared" / "corpus" / "pmc-dev"
FIELDS = ("value", "low", "high", "unit", "label", "approx", "bound", "arm", "drug", "timepoint_days",
          "numerator", "denominator", "ci_low", "ci_high", "p_value")


def same(x: Any, y: Any) -> bool:
    if isinstance(x, int | float) and isinstance(y, int | float) and not isinstance(x, bool):
        return abs(x - y) <= 1e-9 or abs(x - y) <= 1e-4 * max(abs(x), abs(y))
    return x == y


def overlaps(m: dict, n: dict) -> bool:
    return m["char_start"] < n["char_end"] and n["char_start"] < m["char_end"]


def load_pass(name: str, pmcid: str) -> dict:
    path = HERE / "passes" / name / f"{pmcid}.jsonl"
    if not path.exists():
        raise SystemExit(f"{path}: missing (pass {name} has not labelled {pmcid})")
    return json.loads(path.read_text(encoding="utf-8"))


def pair(a: list[dict], b: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """A and B measures lined up: same type and overlapping span, greedily in span order."""
    out: list[tuple[dict | None, dict | None]] = []
    taken: set[int] = set()
    for m in a:
        j = next((j for j, n in enumerate(b) if j not in taken and n["type"] == m["type"] and overlaps(m, n)), None)
        if j is not None:
            taken.add(j)
        out.append((m, b[j] if j is not None else None))
    out += [(None, n) for j, n in enumerate(b) if j not in taken]
    return out


def key_of(source: str, m: dict | None, n: dict | None) -> tuple:
    first = m if m is not None else n
    assert first is not None
    return (source, first["type"], m["text"] if m else None, n["text"] if n else None, first["char_start"])


def differences(m: dict | None, n: dict | None) -> list[str]:
    if m is None or n is None:
        return ["only in " + ("A" if n is None else "B")]
    out = [] if m["text"] == n["text"] else [f"span A {m['text']!r} B {n['text']!r}"]
    return out + [f"{f} A={m[f]!r} B={n[f]!r}" for f in FIELDS if not same(m[f], n[f])]


def load_decisions() -> tuple[dict[tuple, dict], dict[str, dict]]:
    path = HERE / "decisions.yaml"
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or []
    measures, conditions = {}, {}
    for e in entries:
        if "condition" in e:
            conditions[e["source"]] = e
        else:
            key = (e["source"], e["type"], e.get("a"), e.get("b"), e["at"])
            if key in measures:
                raise SystemExit(f"decisions.yaml: two decisions for {key}")
            measures[key] = e
    return measures, conditions


def reconcile(pmcids: list[str]) -> tuple[dict[str, dict], list[str], list[str], dict[str, int]]:
    """(gold block per PMCID, undecided disagreements, decisions that no longer apply, counts)."""
    decisions, condition_calls = load_decisions()
    used: set[tuple] = set()
    used_conditions: set[str] = set()
    undecided: list[str] = []
    counts = {"pairs_agreed": 0, "pairs_differing": 0, "only_a": 0, "only_b": 0, "conditions_differing": 0}
    gold = {}
    for pmcid in pmcids:
        a, b = load_pass("A", pmcid), load_pass("B", pmcid)
        block = {k: v for k, v in a.items() if k != "measures"}
        for k in block:
            if k != "condition" and a[k] != b[k]:
                undecided.append(f"{pmcid}: block {k} A={a[k]!r} B={b[k]!r}")
        if a["condition"] != b["condition"]:
            counts["conditions_differing"] += 1
            call = condition_calls.get(pmcid)
            if call is None:
                undecided.append(f"{pmcid}: condition A={a['condition']!r} B={b['condition']!r}")
            else:
                used_conditions.add(pmcid)
                block["condition"] = call["condition"]
        merged = []
        for m, n in pair(a["measures"], b["measures"]):
            diff = differences(m, n)
            if not diff:
                counts["pairs_agreed"] += 1
                merged.append(m)
                continue
            counts["pairs_differing" if m and n else ("only_a" if m else "only_b")] += 1
            key = key_of(pmcid, m, n)
            decision = decisions.get(key)
            if decision is None:
                undecided.append(f"{key}: " + "; ".join(diff))
                continue
            used.add(key)
            take = decision["take"]
            if take == "A" and m is not None:
                merged.append(m)
            elif take == "B" and n is not None:
                merged.append(n)
            elif isinstance(take, dict):
                base = m if m is not None else n
                assert base is not None
                merged.append({**base, **take})
            elif take != "drop":
                undecided.append(f"{key}: decision {take!r} names a pass that has no such measure")
        merged.sort(key=lambda m: (m["char_start"], m["char_end"], m["type"]))
        gold[pmcid] = {**block, "measures": merged}
    stale = [str(k) for k in decisions if k not in used]
    stale += [f"condition of {s}" for s in condition_calls if s not in used_conditions]
    return gold, undecided, stale, counts


def todo(pmcids: list[str]) -> None:
    """Each undecided disagreement, and each decision that no longer applies."""
    _, undecided, stale, _ = reconcile(pmcids)
    for line in undecided:
        print(line)
    for line in stale:
        print("STALE", line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--todo", action="store_true")
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()
    index = json.loads((args.corpus / "index.json").read_text(encoding="utf-8"))
    pmcids = [e["pmcid"] for e in index]
    if args.todo:
        todo(pmcids)
        return 0
    gold, undecided, stale, counts = reconcile(pmcids)
    if args.stats:
        print(json.dumps(counts, indent=1))
    if undecided or stale:
        print(f"{len(undecided)} undecided disagreements:", *undecided, sep="\n  ")
        print(f"{len(stale)} decisions that no longer apply:", *stale, sep="\n  ")
        return 1
    for e in index:
        text = (args.corpus / e["file"]).read_bytes().decode("utf-8")
        block = gold[e["pmcid"]]
        for m in block["measures"]:
            assert text[m["char_start"]:m["char_end"]] == m["text"], (e["pmcid"], m)
        (HERE / f"{e['pmcid']}.jsonl").write_text(json.dumps(block, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(gold)} gold files, {sum(len(b['measures']) for b in gold.values())} measures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
