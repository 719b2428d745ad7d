import collections
import json

t = open("/work/shared/raw/ketamine-research.txt","rb").read().decode("utf-8")
if t.startswith("\ufeff"): t = t[1:]
TYPES = {"response_rate","remission_rate","other_rate","dose","route","effect_size","odds_ratio","hazard_ratio","risk_ratio","nnt","follow_up"}
ROUTES = {"IV","IM","IN","SC","ORAL","SL"}; EFF = {"cohen_d","smd","hedges_g","r","unspecified"}
OUT = {"abstinence","relapse","improvement","adverse_event","dropout","other"}
CONDS = {"depression","anxiety","ptsd","pain","ocd","alcohol","eating_disorders","substance_use","autism","bpd","end_of_life","other"}
BOUNDS = {None,"<","<=",">",">=","up_to","within","at_least","by","over"}
KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound","arm","timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]
rows = [json.loads(l) for l in open("part2.jsonl", encoding="utf-8")]
cnt = collections.Counter(); prev_end = -1; prev_idx = 18
for b in rows:
    assert b["block_index"] == prev_idx + 1; prev_idx = b["block_index"]
    assert set(b) == {"block_index","char_start","char_end","title","findings_start","findings_end","conclusion_start","conclusion_end","condition","measures"}
    assert b["condition"] in CONDS
    assert prev_end < b["char_start"] <= b["findings_start"] < b["findings_end"] < b["conclusion_start"] < b["conclusion_end"] == b["char_end"]
    if b["title"] is None: assert b["char_start"] == b["findings_start"]
    else: assert t[b["char_start"]:b["char_start"]+len(b["title"])] == b["title"] and t[b["char_start"]+len(b["title"])] == "\n"
    for a in ("char_start","findings_start","conclusion_start"):
        assert b[a] == 0 or t[b[a]-1] == "\n"
    for a in ("findings_end","conclusion_end"):
        assert b[a] == len(t) or t[b[a]] == "\n"
    prev_end = b["char_end"]; ms = b["measures"]
    assert ms == sorted(ms, key=lambda m: m["char_start"])
    for a1, a2 in zip(ms, ms[1:]): assert a1["char_end"] <= a2["char_start"], (a1["text"], a2["text"])
    for m in ms:
        assert not t[m["char_start"]-1].isalnum() and not t[m["char_end"]].isalnum(), m["text"]
        assert list(m) == KEYS or set(m) == set(KEYS)
        assert t[m["char_start"]:m["char_end"]] == m["text"], m
        assert b["char_start"] <= m["char_start"] < m["char_end"] <= b["char_end"]
        assert m["type"] in TYPES and m["bound"] in BOUNDS and isinstance(m["approx"], bool)
        if m["type"] == "route": assert m["label"] in ROUTES and m["value"] is None and m["unit"] is None
        elif m["type"] == "effect_size": assert m["label"] in EFF and m["unit"] is None
        elif m["type"] == "other_rate": assert m["label"] in OUT and m["unit"] == "%"
        else: assert m["label"] is None
        if m["type"].endswith("_rate"): assert m["unit"] == "%"
        if m["type"] == "follow_up": assert m["unit"] == "day"
        if m["type"] == "dose": assert m["unit"] in {"mg/kg","mg","mg/kg/h","µg/kg"}
        if m["type"] in {"odds_ratio","hazard_ratio","risk_ratio","nnt"}: assert m["unit"] is None
        assert (m["value"] is None) != (m["low"] is None and m["high"] is None) or m["type"] == "route"
        if m["low"] is not None: assert m["low"] < m["high"]
        cnt[m["type"]] += 1
print("blocks:", len(rows), "measures:", sum(cnt.values()))
for k, v in sorted(cnt.items()): print(f"  {k}: {v}")
print("conditions:", collections.Counter(b["condition"] for b in rows))
