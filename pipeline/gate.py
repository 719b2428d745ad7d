"""The CI gate over eval reports: thresholds from pyproject, plus a ratchet per corpus.

`gate_failures(report, thresholds)` lists every score of one corpus under its threshold;
`ratchet_failures(report, baseline)` every ratcheted score of one corpus that dropped
below its baseline; `corpora_failures(eval_json, baseline, thresholds)` applies both to
every scored corpus (thresholds to `pages` only: the other corpora are gated by their
ratchet). `raised_baseline` is the ratchet's only way up. All return readable sentences
or plain dicts.

What the ratchet holds, per corpus:
* micro F1 (core and all), and per type the true positives — a measure found stays found;
* per type F1, except on a split marked `tuning: false`: there a precision loss could
  only be mended by reading that split's errors, which is tuning on it, so its per-type
  F1 is reported and recorded but not gated (its micro F1 and true positives still are);
* per attribute the number of matched pairs it is right on — a right arm stays right.
  Not the accuracy ratio: every newly found measure with a wrong attribute would lower
  it although nothing got worse; the ratio is reported, and `pages` keeps its thresholds;
* block cell spans and conditions (accuracy).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

TOLERANCE = 1e-9


def load_thresholds(pyproject: Path) -> dict[str, Any]:
    with open(pyproject, "rb") as fh:
        return tomllib.load(fh)["tool"]["evidex"]["eval"]


def gate_failures(report: dict[str, Any], th: dict[str, Any]) -> list[str]:
    out = []
    for t in th["core_types"]:
        f1 = report["per_type"][t]["f1"]
        if f1 + TOLERANCE < th["min_f1_core_each"]:
            out.append(f"{t}: F1 {f1:.4f} < {th['min_f1_core_each']}")
    micro = report["micro_all"]["f1"]
    if micro + TOLERANCE < th["min_micro_f1_all"]:
        out.append(f"micro F1 over all types {micro:.4f} < {th['min_micro_f1_all']}")
    for attr, minimum in th["min_attr_accuracy"].items():
        acc = report["attributes"][attr]["accuracy"]
        if acc is None or acc + TOLERANCE < minimum:
            out.append(f"{attr} accuracy {acc} < {minimum}")
    return out


def baseline_from(report: dict[str, Any]) -> dict[str, Any]:
    """The scores the ratchet keeps for one corpus."""
    return {
        "per_type_f1": {t: r["f1"] for t, r in report["per_type"].items()},
        "per_type_tp": {t: r["tp"] for t, r in report["per_type"].items()},
        "micro_core_f1": report["micro_core"]["f1"],
        "micro_all_f1": report["micro_all"]["f1"],
        "attributes_correct": {a: r["correct"] for a, r in report["attributes"].items()},
        "blocks": {"spans_accuracy": report["blocks"]["spans_accuracy"], "condition_accuracy": report["blocks"]["condition_accuracy"]},
    }


def ratchet_failures(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Every ratcheted score of one corpus under its baseline (see the module docstring)."""
    now = baseline_from(report)
    out = []

    def cmp(name: str, cur: float | None, base: float | None) -> None:
        if base is not None and (cur is None or cur + TOLERANCE < base):
            out.append(f"{name} dropped: {cur} < baseline {base}")

    if report.get("tuning", True):
        for t, base in baseline["per_type_f1"].items():
            cmp(f"{t} F1", now["per_type_f1"].get(t), base)
    for t, base in baseline.get("per_type_tp", {}).items():
        cmp(f"{t} true positives", now["per_type_tp"].get(t), base)
    cmp("micro core F1", now["micro_core_f1"], baseline["micro_core_f1"])
    cmp("micro all F1", now["micro_all_f1"], baseline["micro_all_f1"])
    for a, base in baseline.get("attributes_correct", {}).items():
        cmp(f"{a} correct", now["attributes_correct"].get(a), base)
    for k, base in baseline["blocks"].items():
        cmp(f"blocks {k}", now["blocks"].get(k), base)
    return out


THRESHOLD_CORPUS = "pages"


def corpora_failures(eval_json: dict[str, Any], baseline: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Every gate failure of every scored corpus, each sentence prefixed with its corpus."""
    out = []
    for name, report in eval_json["corpora"].items():
        if "skipped" in report:
            continue
        if name == THRESHOLD_CORPUS:
            out += [f"{name}: {f}" for f in gate_failures(report, thresholds)]
        if name in baseline:
            out += [f"{name}: {f}" for f in ratchet_failures(report, baseline[name])]
    return out


def raised_baseline(eval_json: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """The baseline with every score that improved raised to today's; nothing is lowered.

    A corpus scored for the first time enters with today's scores; a skipped corpus
    keeps its old entry.
    """
    def up(old: Any, new: Any) -> Any:
        if isinstance(old, dict):
            return {k: up(old.get(k), new.get(k)) if isinstance(new, dict) else old.get(k) for k in {*old, *(new or {})}}
        if old is None:
            return new
        if new is None:
            return old
        return max(old, new)

    out = dict(baseline)
    for name, report in eval_json["corpora"].items():
        if "skipped" in report:
            continue
        now = baseline_from(report)
        out[name] = _sorted(up(baseline[name], now) if name in baseline else now)
    return out


def _sorted(d: Any) -> Any:
    return {k: _sorted(v) for k, v in sorted(d.items())} if isinstance(d, dict) else d
