"""SCHEMA v1.1 `drug` on every dose and route of the seed and held-out gold.

Two annotators (drug-A.yaml, drug-B.yaml) decided, independently and by reading each
mention's sentence against ANNOTATION.md v1.1, the substance each already-labelled dose
and route is of. Ids are `<page>:<char_start>` (`seed` = raw/ketamine-research.txt,
`heldout` = tests/heldout/esketamine-evidence.txt). This module reconciles the two
(DECISIONS settles where they differ) and applies the result to gold blocks:
`tests/gold/passes/reconcile.py` uses it for the seed, and running this file rewrites
the held-out gold's `drug` fields.

    python tests/gold/passes/v1.1/drugs.py
"""

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
HELDOUT_GOLD = HERE.parents[2] / "heldout" / "esketamine-evidence.jsonl"

# id -> (drug, why). Logged in docs/annotation-log.md ("v1.1: drug on the pages").
DECISIONS = {
    "heldout:619": ("antidepressant", "'a newly started oral antidepressant': the sentence names what is "
                    "given orally, as a class; no specific substance follows"),
}


def reconciled() -> dict[str, str | None]:
    """id -> drug: the passes' shared answer, or the decision where they differ."""
    a = yaml.safe_load((HERE / "drug-A.yaml").read_text(encoding="utf-8"))
    b = yaml.safe_load((HERE / "drug-B.yaml").read_text(encoding="utf-8"))
    return agree(a, b, DECISIONS)


def agree(a: dict, b: dict, decisions: dict) -> dict:
    """key -> answer of two passes over the same keys: their shared answer, else the decision
    (`decisions[key][0]`); stops on keys only one pass covers, on an undecided difference and
    on a decision that is no longer needed."""
    if set(a) != set(b):
        raise SystemExit(f"the passes cover different items: {sorted(set(a) ^ set(b), key=str)}")
    out = {}
    for key in sorted(a, key=str):
        if a[key] == b[key]:
            if key in decisions:
                raise SystemExit(f"decision for {key} no longer needed: both passes say {a[key]!r}")
            out[key] = a[key]
        elif key in decisions:
            out[key] = decisions[key][0]
        else:
            raise SystemExit(f"undecided: {key}: A {a[key]!r}, B {b[key]!r}")
    return out


def apply(blocks: list[dict], page: str, drugs: dict[str, str | None]) -> list[dict]:
    """The blocks with `drug` set on every dose and route (a mention with no decision fails)."""
    out = []
    for block in blocks:
        measures = []
        for m in block["measures"]:
            drug = drugs[f"{page}:{m['char_start']}"] if m["type"] in ("dose", "route") else None
            fields = {k: v for k, v in m.items() if k != "drug"}
            at = list(fields).index("arm") + 1  # SCHEMA's column order: drug follows arm
            measures.append(dict([*list(fields.items())[:at], ("drug", drug), *list(fields.items())[at:]]))
        out.append({**block, "measures": measures})
    return out


def main() -> int:
    blocks = [json.loads(line) for line in HELDOUT_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    blocks = apply(blocks, "heldout", reconciled())
    HELDOUT_GOLD.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in blocks), encoding="utf-8")
    print(f"wrote drug into {HELDOUT_GOLD.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
