"""SCHEMA/ANNOTATION v1.1 `arm` on the effects, ratios and NNTs of the first held-out page.

The held-out gold was written under v1, which left these arms null. v1.1 says "the same
holds for effects, ratios and NNT: the arm is the treatment compared against the
comparator". Two reviewers (heldout-arms-A.yaml, heldout-arms-B.yaml, notes beside them)
decided, independently and from the block text only (`heldout-arms-items.md` is what they
were given: every such measure with its block, no gold and no pipeline output), the arm
of all 24. This module reconciles the two (DECISIONS settles where they differ; none is
needed so far) and rewrites the held-out gold's arms on those types:

    python tests/gold/passes/v1.1/heldout_arms.py
"""

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from drugs import agree  # noqa: E402 - the drug review's reconciliation, shared

HELDOUT = HERE.parents[2] / "heldout"
GOLD = HELDOUT / "esketamine-evidence.jsonl"
TYPES = ("effect_size", "odds_ratio", "hazard_ratio", "risk_ratio", "nnt")

# (block, type, text, occurrence) -> (arm, why), for items where the passes differ.
DECISIONS: dict[tuple, tuple] = {}


def _pass(name: str) -> dict[tuple, str | None]:
    data = yaml.safe_load((HERE / f"heldout-arms-{name}.yaml").read_text(encoding="utf-8"))
    return {(int(i["block"]), i["type"], i["text"], int(i.get("occurrence") or 1)): i["arm"] for i in data["items"]}


def reconciled() -> dict[tuple, str | None]:
    """(block, type, text, occurrence) -> arm: the passes' shared answer, or the decision where they differ."""
    return agree(_pass("A"), _pass("B"), DECISIONS)


def apply(blocks: list[dict], arms: dict[tuple, str | None]) -> list[dict]:
    """The blocks with `arm` set on every effect, ratio and NNT (one with no decision fails)."""
    out = []
    for block in blocks:
        seen: dict[tuple, int] = {}
        measures = []
        for m in block["measures"]:
            if m["type"] in TYPES:
                k = (m["type"], m["text"])
                seen[k] = seen.get(k, 0) + 1
                m = {**m, "arm": arms.pop((block["block_index"], m["type"], m["text"], seen[k]))}
            measures.append(m)
        out.append({**block, "measures": measures})
    if arms:
        raise SystemExit(f"reviewed items not in the gold: {sorted(arms, key=str)}")
    return out


if __name__ == "__main__":
    blocks = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    with open(GOLD, "w", encoding="utf-8", newline="\n") as fh:
        for block in apply(blocks, reconciled()):
            fh.write(json.dumps(block, ensure_ascii=False) + "\n")
