"""The arm gold of the pmc-extra abstracts: two independent passes, reconciled.

`passes/arms-A.yaml` and `passes/arms-B.yaml` were written independently (notes beside
them) by reading each abstract against ANNOTATION.md v1.1, with no pipeline output, code,
rules or other gold in sight. They list every rate, effect, ratio and NNT with its span
(`text`, `occurrence`), `type`, `label` and `arm`. They agree on every span, type and label
and on 122 of 143 arms; the 21 arms they name differently are settled by DECISIONS, each
with its reason (docs/annotation-log.md, "pmc-extra"). Writes `arms.yaml`:

    python tests/gold/pmc-extra/reconcile.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
Key = tuple[str, str, int]  # (PMC id, text, occurrence)

_DOSE = "arms that differ only by the dose of one drug are that drug's: the dose is its own measure"
_NAME = "the group's own name as written, without the generic head noun ('control', 'group')"
_SPC = "the group's own name as written: 'SPC' (single-pill combination) is part of it"

# Where the passes name an arm differently: the arm chosen and why.
DECISIONS: dict[Key, tuple[str | None, str]] = {
    **{("PMC2253708", t, 0): ("assessment-only", _NAME) for t in ("10.5%", "6.7%")},
    **{("PMC4374075", t, 0): ("vildagliptin/metformin spc", _SPC) for t in ("0.9%", "43.5%", "45.8%")},
    **{("PMC4374075", t, 0): ("vildagliptin/placebo spc", _SPC) for t in ("13.5%", "3.6%", "67.9%")},
    **{("PMC4374260", t, 0): ("tramadol", _DOSE)
       for t in ("12.8%", "21.6%", "33.6%", "53.6%", "7.2%", "85.6%", "OR: 1.07", "odds ratio [OR]: 1.05")},
    **{("PMC4893099", t, 0): ("peficitinib", _DOSE) for t in ("52.7%", "64.9%", "67.2%", "70.9%")},
    ("PMC4630743", "3.61%", 0): ("study", "'in the study group': the group's own name as written (ANNOTATION v1.1)"),
}


def _pass(name: str) -> dict[Key, dict]:
    data = yaml.safe_load((HERE / "passes" / f"arms-{name}.yaml").read_text(encoding="utf-8"))
    return {(stem, i["text"], int(i.get("occurrence", 0))): i for stem, items in data.items() for i in items or []}


def reconciled() -> dict[str, list[dict]]:
    """PMC id -> its items ({text, occurrence, type, label?, arm}), in pass A's order.

    Raises SystemExit when the passes differ in their spans, types or labels, or in an arm
    that DECISIONS does not settle, or when a decision settles nothing.
    """
    a, b = _pass("A"), _pass("B")
    if set(a) != set(b):
        raise SystemExit(f"the passes list different spans: {sorted(set(a) ^ set(b))}")
    out: dict[str, list[dict]] = {}
    unused = set(DECISIONS)
    for key, x in a.items():
        y = b[key]
        for field in ("type", "label"):
            if x.get(field) != y.get(field):
                raise SystemExit(f"{key}: the passes differ in {field}: {x.get(field)!r} / {y.get(field)!r}")
        arm = x.get("arm")
        if str(arm).lower() != str(y.get("arm")).lower():
            if key not in DECISIONS:
                raise SystemExit(f"{key}: arms {arm!r} / {y.get('arm')!r} and no decision")
            arm = DECISIONS[key][0]
            unused.discard(key)
        item = {"text": key[1], "occurrence": key[2], "type": x["type"]}
        if x.get("label") is not None:
            item["label"] = x["label"]
        item["arm"] = None if arm is None else str(arm).lower()
        out.setdefault(key[0], []).append(item)
    if unused:
        raise SystemExit(f"decisions for items the passes agree on: {sorted(unused)}")
    return dict(sorted(out.items()))


def dump(gold: dict[str, list[dict]]) -> str:
    """The reconciled gold as the YAML text of arms.yaml."""
    head = "# Reconciled arm gold of the pmc-extra abstracts: written by reconcile.py, do not edit.\n"
    return head + yaml.safe_dump(gold, allow_unicode=True, sort_keys=False, width=120)


if __name__ == "__main__":
    (HERE / "arms.yaml").write_text(dump(reconciled()), encoding="utf-8", newline="\n")
    sys.exit(0)
