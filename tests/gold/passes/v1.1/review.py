"""The v1.1 review of the seed gold: two independent reviewers re-read the page against
ANNOTATION v1.1's new lines (review-A.yaml, review-B.yaml, with their notes).

`reconciled()` pairs their changes (same block, action, type, span text and occurrence)
and keeps those both proposed with the same fields; a change only one proposed, or
proposed with other fields, stops here until it is adjudicated in DECISIONS below.
`apply(blocks, text)` applies the reconciled changes to the merged seed gold (only
`modify` is needed so far; `add` and `remove` refuse until someone writes them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
# (block, action, type, text, occurrence) -> "keep" | "drop", for changes the reviewers did not both propose.
DECISIONS: dict[tuple, str] = {}


def _changes(name: str) -> dict[tuple, dict[str, Any]]:
    data = yaml.safe_load((HERE / f"review-{name}.yaml").read_text(encoding="utf-8"))
    out = {}
    for c in data.get("changes") or []:
        key = (int(c["block"]), c["action"], c["type"], c["text"], int(c.get("occurrence") or 1))
        out[key] = {"fields": c.get("fields"), "record": c.get("record")}
    return out


def reconciled() -> list[tuple[tuple, dict[str, Any]]]:
    a, b = _changes("A"), _changes("B")
    out, open_calls = [], []
    for key in sorted(set(a) | set(b), key=str):
        if key in a and key in b and a[key] == b[key]:
            out.append((key, a[key]))
        elif DECISIONS.get(key) == "keep":
            out.append((key, a.get(key) or b[key]))
        elif DECISIONS.get(key) != "drop":
            open_calls.append(f"{key}: A {a.get(key)} vs B {b.get(key)}")
    if open_calls:
        raise SystemExit("v1.1 review: undecided changes:\n  " + "\n  ".join(open_calls))
    return out


def apply(blocks: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    for (block, action, type_, span, occurrence), change in reconciled():
        b = next(x for x in blocks if x["block_index"] == block)
        hits = [m for m in b["measures"] if m["type"] == type_ and m["text"] == span]
        starts = []
        at = b["char_start"] - 1
        for _ in range(occurrence):
            at = text.find(span, at + 1, b["char_end"])
            starts.append(at)
        target = next((m for m in hits if m["char_start"] == starts[-1]), None)
        if action != "modify" or target is None:
            raise SystemExit(f"v1.1 review: cannot {action} {type_} {span!r}#{occurrence} in block {block}")
        target.update(change["fields"])
    return blocks
