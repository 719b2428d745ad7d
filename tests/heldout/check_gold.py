"""Self-check for the held-out gold: parse, grounding, ranges, vocabularies, block coverage."""
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
raw = (HERE / "esketamine-evidence.txt").read_bytes()
src = raw.decode("utf-8")
if src.startswith("\ufeff"):
    src = src[1:]
errors = []


def err(msg):
    errors.append(msg)


KEYS = ["type", "text", "char_start", "char_end", "value", "low", "high", "unit", "label",
        "approx", "bound", "arm", "timepoint_days", "numerator", "denominator",
        "ci_low", "ci_high", "p_value"]
BKEYS = ["block_index", "char_start", "char_end", "title", "findings_start", "findings_end",
         "conclusion_start", "conclusion_end", "condition", "measures"]
TYPES = {"response_rate", "remission_rate", "other_rate", "dose", "route", "effect_size",
         "odds_ratio", "hazard_ratio", "risk_ratio", "nnt", "follow_up"}
RATES = {"response_rate", "remission_rate", "other_rate"}
RATIOS = {"odds_ratio", "hazard_ratio", "risk_ratio"}
ROUTES = {"IV", "IM", "IN", "SC", "ORAL", "SL"}
EFFECTS = {"cohen_d", "smd", "hedges_g", "r", "unspecified"}
OTHER = {"abstinence", "relapse", "improvement", "adverse_event", "dropout", "other"}
DOSE_UNITS = {"mg/kg", "mg", "mg/kg/h", "µg/kg"}
BOUNDS = {None, "<", "<=", ">", ">=", "up_to", "within", "at_least", "by", "over"}
CONDS = {"depression", "anxiety", "ptsd", "pain", "ocd", "alcohol", "eating_disorders",
         "substance_use", "autism", "bpd", "end_of_life", "other"}

assert b"\r" not in raw, "CR found"
blocks = []
for n, line in enumerate((HERE / "esketamine-evidence.jsonl").read_text(encoding="utf-8").splitlines(), 1):
    try:
        blocks.append(json.loads(line))
    except Exception as e:  # noqa: BLE001
        err(f"line {n}: bad JSON {e}")

# line table
line_spans = []
p = 0
for ln in src.split("\n"):
    line_spans.append((p, p + len(ln)))
    p += len(ln) + 1
starts = {s for s, _ in line_spans}
ends = {e for _, e in line_spans}
hdr = src.index("Study\nFindings\nConclusion\n") + len("Study\nFindings\nConclusion\n")

counts = Counter()
prev_end = hdr - 1
for i, b in enumerate(blocks, 1):
    tag = f"block {i}"
    if list(b.keys()) != BKEYS:
        err(f"{tag}: keys {list(b.keys())}")
    if b["block_index"] != i:
        err(f"{tag}: block_index {b['block_index']}")
    if b["condition"] not in CONDS:
        err(f"{tag}: condition {b['condition']}")
    fs, fe, cs, ce = b["findings_start"], b["findings_end"], b["conclusion_start"], b["conclusion_end"]
    # contiguity: block starts on the line right after the previous block
    if b["char_start"] != prev_end + 1:
        err(f"{tag}: gap/overlap before block ({b['char_start']} vs {prev_end + 1})")
    if b["title"] is not None:
        t_end = b["char_start"] + len(b["title"])
        if src[b["char_start"]:t_end] != b["title"] or t_end not in ends:
            err(f"{tag}: title does not ground as a whole line")
        if b["title"].endswith(".") or "\n" in b["title"]:
            err(f"{tag}: bad title")
        if fs != t_end + 1:
            err(f"{tag}: findings not right after title")
    elif fs != b["char_start"]:
        err(f"{tag}: block start != findings start")
    if fs not in starts or fe not in ends or cs not in starts or ce not in ends:
        err(f"{tag}: cell not on line boundaries")
    fcell = src[fs:fe]
    if "\n" in fcell and not (fcell.startswith('"') and fcell.endswith('"')):
        err(f"{tag}: multi-line findings without quotes")
    if fcell.startswith('"') and not fcell.endswith('"'):
        err(f"{tag}: quoted cell not closed")
    if cs != fe + 1 or "\n" in src[cs:ce] or b["char_end"] != ce:
        err(f"{tag}: conclusion placement")
    prev_end = ce
    for j, m in enumerate(b["measures"]):
        mt = f"{tag} m{j} {m.get('text')!r}"
        if list(m.keys()) != KEYS:
            err(f"{mt}: keys")
        s, e = m["char_start"], m["char_end"]
        if src[s:e] != m["text"]:
            err(f"{mt}: does not ground")
        if "\n" in m["text"]:
            err(f"{mt}: spans a line break")
        in_cell = (fs <= s and e <= fe) or (cs <= s and e <= ce) or (
            b["title"] is not None and b["char_start"] <= s and e <= b["char_start"] + len(b["title"]))
        if not in_cell:
            err(f"{mt}: outside the block cells")
        t = m["type"]
        counts[t] += 1
        if t not in TYPES:
            err(f"{mt}: type {t}")
        if not isinstance(m["approx"], bool):
            err(f"{mt}: approx not bool")
        if m["bound"] not in BOUNDS:
            err(f"{mt}: bound {m['bound']}")
        v, lo, hi = m["value"], m["low"], m["high"]
        if (lo is None) != (hi is None):
            err(f"{mt}: half range")
        if lo is not None and not lo < hi:
            err(f"{mt}: range not ordered")
        if lo is not None and v is not None:
            err(f"{mt}: range with value")
        if m["ci_low"] is not None and not (m["ci_low"] < m["ci_high"]):
            err(f"{mt}: CI not ordered")
        if m["ci_low"] is not None and v is not None and not (m["ci_low"] <= v <= m["ci_high"]):
            err(f"{mt}: value outside CI")
        if t in RATES:
            if m["unit"] != "%":
                err(f"{mt}: rate unit")
            for x in (v, lo, hi):
                if x is not None and not 0 <= x <= 100:
                    err(f"{mt}: rate out of 0-100")
            if not m["arm"] or m["arm"] != m["arm"].lower():
                err(f"{mt}: arm")
            if t == "other_rate" and m["label"] not in OTHER:
                err(f"{mt}: other_rate label")
            if t != "other_rate" and m["label"] is not None:
                err(f"{mt}: label on response/remission")
            if (m["numerator"] is None) != (m["denominator"] is None):
                err(f"{mt}: half count")
            if m["numerator"] is not None and v is not None:
                if abs(100 * m["numerator"] / m["denominator"] - v) > 1.0:
                    err(f"{mt}: count does not match percent")
        else:
            if m["numerator"] is not None or m["denominator"] is not None or m["arm"] is not None:
                err(f"{mt}: rate-only fields on {t}")
        if t == "dose" and m["unit"] not in DOSE_UNITS:
            err(f"{mt}: dose unit")
        if t == "route" and (m["label"] not in ROUTES or v is not None or m["unit"] is not None):
            err(f"{mt}: route fields")
        if t == "effect_size" and m["label"] not in EFFECTS:
            err(f"{mt}: effect label")
        if t in RATIOS | {"nnt", "effect_size"} and m["unit"] is not None:
            err(f"{mt}: unit on {t}")
        if t in RATIOS | {"nnt"} and m["label"] is not None:
            err(f"{mt}: label on {t}")
        if t == "follow_up" and m["unit"] != "day":
            err(f"{mt}: follow_up unit")
        if t != "route" and v is None and lo is None:
            err(f"{mt}: no value")
        if t not in RATIOS and t != "effect_size" and (m["ci_low"] is not None or m["p_value"] is not None):
            err(f"{mt}: CI/p on {t}")
    ss = [(m["char_start"], m["char_end"]) for m in b["measures"]]
    if ss != sorted(ss):
        err(f"{tag}: measures not in span order")

# after the last block only the (optional) final newline remains
if src[prev_end:].strip():
    err("text after last block")

print(f"blocks: {len(blocks)}  measures: {sum(counts.values())}")
for k in sorted(counts):
    print(f"  {k:15s} {counts[k]}")
print(f"conditions: {dict(Counter(b['condition'] for b in blocks))}")
if errors:
    print("ERRORS:")
    for x in errors:
        print("  " + x)
    sys.exit(1)
print("OK")
