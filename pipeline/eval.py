"""Score extracted measures and blocks against gold, exactly as SCHEMA.md "Scoring" says.

A predicted measure matches a gold one when both are in the same source, have the same
type, their spans overlap, and value, low and high each agree (both null, or within
0.5% relative / 1e-6 absolute); for `route` the label must be equal instead. Matching
is one-to-one, greedy in span order. Attribute accuracy is computed over the matched
pairs of the types the attribute applies to. Blocks are scored by exact cell spans and
by condition.

`evaluate(gold, studies, measures)` is pure: gold blocks per source and the predicted
rows in, an `EvalReport` (a plain dict, JSON-ready) out.
"""

from __future__ import annotations

from typing import Any

from .gold import GoldBlock, GoldMeasure
from .models import ARMED_TYPES, CORE_TYPES, MEASURE_TYPES, RATIO_TYPES, Measure, Study

ATTRIBUTES: dict[str, tuple[tuple[str, ...], set[str]]] = {
    # attribute: (fields compared together, types it applies to)
    "arm": (("arm",), set(ARMED_TYPES)),
    "drug": (("drug",), {"dose", "route"}),
    "timepoint_days": (("timepoint_days",), {"response_rate", "remission_rate", "other_rate", "effect_size", "nnt", *RATIO_TYPES}),
    "label": (("label",), {"route", "effect_size", "other_rate"}),
    "approx": (("approx",), set(MEASURE_TYPES)),
    "numerator_denominator": (("numerator", "denominator"), {"response_rate", "remission_rate", "other_rate"}),
    "ci": (("ci_low", "ci_high"), {"effect_size", *RATIO_TYPES}),
    "p_value": (("p_value",), {"effect_size", *RATIO_TYPES}),
}


def agree(a: float | None, b: float | None) -> bool:
    """SCHEMA's numeric agreement: both null, or within 0.5% relative / 1e-6 absolute."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 or abs(a - b) <= 0.005 * max(abs(a), abs(b))


def _same_attr(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return agree(a, b)
    return a == b


def matches(g: GoldMeasure, p: Measure) -> bool:
    if g.type != p.type or not (g.char_start < p.char_end and p.char_start < g.char_end):
        return False
    if g.type == "route":
        return g.label == p.label
    return agree(g.value, p.value) and agree(g.low, p.low) and agree(g.high, p.high)


def _prf(tp: int, n_gold: int, n_pred: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else (1.0 if n_gold == 0 else 0.0)
    r = tp / n_gold if n_gold else (1.0 if n_pred == 0 else 0.0)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _record(m: GoldMeasure | Measure, block_index: int | None) -> dict[str, Any]:
    keys = ("type", "text", "char_start", "char_end", "value", "low", "high", "unit", "label", "arm", "drug", "timepoint_days")
    out = {k: getattr(m, k, None) for k in keys}
    out["block_index"] = block_index
    if isinstance(m, Measure):
        out["rule_id"] = m.rule_id
    return out


def evaluate(gold: dict[str, list[GoldBlock]], studies: list[Study], measures: list[Measure]) -> dict[str, Any]:
    """Score predictions for every source that has gold."""
    counts = {t: {"gold": 0, "predicted": 0, "tp": 0} for t in MEASURE_TYPES}
    attr_hits = {a: [0, 0] for a in ATTRIBUTES}
    attr_errors: list[dict[str, Any]] = []
    misses, extras = [], []
    block_stats = {"gold": 0, "predicted": 0, "spans_exact": 0, "condition_correct": 0}
    block_errors = []

    for source, gold_blocks in sorted(gold.items()):
        pred_studies = sorted((s for s in studies if s.source == source), key=lambda s: s.block_index)
        block_of = {s.study_id: s.block_index for s in pred_studies}
        block_stats["gold"] += len(gold_blocks)
        block_stats["predicted"] += len(pred_studies)
        by_start = {s.char_start: s for s in pred_studies}
        for gb in gold_blocks:
            ps = by_start.get(gb.char_start)
            spans_ok = ps is not None and (
                ps.char_end, ps.title, ps.findings_start, ps.findings_end, ps.conclusion_start, ps.conclusion_end
            ) == (gb.char_end, gb.title, gb.findings_start, gb.findings_end, gb.conclusion_start, gb.conclusion_end)
            block_stats["spans_exact"] += spans_ok
            cond_ok = ps is not None and ps.condition == gb.condition
            block_stats["condition_correct"] += cond_ok
            if not (spans_ok and cond_ok):
                block_errors.append({"source": source, "block_index": gb.block_index, "spans_exact": spans_ok,
                                     "gold_condition": gb.condition, "predicted_condition": ps.condition if ps else None})

        gold_ms = sorted(((gb.block_index, m) for gb in gold_blocks for m in gb.measures), key=lambda bm: (bm[1].char_start, bm[1].char_end))
        preds = sorted((m for m in measures if m.source == source), key=lambda m: (m.char_start, m.char_end))
        for _, m in gold_ms:
            counts[m.type]["gold"] += 1
        for p in preds:
            counts[p.type]["predicted"] += 1
        used: set[int] = set()
        for block_index, g in gold_ms:
            hit = next((i for i, p in enumerate(preds) if i not in used and matches(g, p)), None)
            if hit is None:
                misses.append({"source": source, **_record(g, block_index)})
                continue
            used.add(hit)
            p = preds[hit]
            counts[g.type]["tp"] += 1
            for attr, (fields, types) in ATTRIBUTES.items():
                if g.type not in types:
                    continue
                ok = all(_same_attr(getattr(g, f), getattr(p, f)) for f in fields)
                attr_hits[attr][0] += ok
                attr_hits[attr][1] += 1
                if not ok:
                    attr_errors.append({"source": source, "block_index": block_index, "attribute": attr, "type": g.type,
                                        "text": g.text, "char_start": g.char_start,
                                        "gold": [getattr(g, f) for f in fields], "predicted": [getattr(p, f) for f in fields]})
        for i, p in enumerate(preds):
            if i not in used:
                extras.append({"source": source, **_record(p, block_of.get(p.study_id))})

    per_type = {t: {**c, **_prf(c["tp"], c["gold"], c["predicted"])} for t, c in counts.items()}
    # How often no arm is given: the text named no group (SCHEMA: arm null rather than invented).
    armed_types = ATTRIBUTES["arm"][1]
    armed = [m for m in measures if m.type in armed_types and m.source in gold]
    arm_null = {"predicted": len(armed), "null": sum(m.arm is None for m in armed),
                "gold": sum(1 for bs in gold.values() for b in bs for m in b.measures if m.type in armed_types),
                "gold_null": sum(1 for bs in gold.values() for b in bs for m in b.measures if m.type in armed_types and m.arm is None)}

    def micro(types: tuple[str, ...]) -> dict[str, Any]:
        tp = sum(counts[t]["tp"] for t in types)
        g = sum(counts[t]["gold"] for t in types)
        p = sum(counts[t]["predicted"] for t in types)
        return {"gold": g, "predicted": p, "tp": tp, **_prf(tp, g, p)}

    return {
        "per_type": per_type,
        "micro_core": micro(CORE_TYPES),
        "micro_all": micro(MEASURE_TYPES),
        "attributes": {a: {"correct": c, "total": n, "accuracy": round(c / n, 4) if n else None} for a, (c, n) in attr_hits.items()},
        "arm_null": arm_null,
        "blocks": {**block_stats,
                   "spans_accuracy": round(block_stats["spans_exact"] / block_stats["gold"], 4) if block_stats["gold"] else None,
                   "condition_accuracy": round(block_stats["condition_correct"] / block_stats["gold"], 4) if block_stats["gold"] else None},
        "misses": misses,
        "extras": extras,
        "attribute_errors": attr_errors,
        "block_errors": block_errors,
    }
