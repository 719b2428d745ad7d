import collections
import json

text = open("/work/shared/raw/ketamine-research.txt","rb").read().decode("utf-8")
if text.startswith("\ufeff"): text = text[1:]
TYPES = {"response_rate","remission_rate","other_rate","dose","route","effect_size","odds_ratio","hazard_ratio","risk_ratio","nnt","follow_up"}
ROUTES = {"IV","IM","IN","SC","ORAL","SL"}; EFF = {"cohen_d","smd","hedges_g","r","unspecified"}
OUT = {"abstinence","relapse","improvement","adverse_event","dropout","other"}
BOUNDS = {None,"<","<=",">",">=","up_to","within","at_least","by","over"}
CONDS = {"depression","anxiety","ptsd","pain","ocd","alcohol","eating_disorders","substance_use","autism","bpd","end_of_life","other"}
KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound","arm","timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]
bk = ["block_index","char_start","char_end","title","findings_start","findings_end","conclusion_start","conclusion_end","condition","measures"]
blocks = [json.loads(l) for l in open("/work/main/tests/gold/passes/A/part1.jsonl", encoding="utf-8")]
cnt = collections.Counter(); prev_end = -1
for i, b in enumerate(blocks, 1):
    assert list(b) == bk and b["block_index"] == i
    assert b["condition"] in CONDS
    assert b["char_start"] > prev_end; prev_end = b["char_end"]
    assert b["char_start"] <= b["findings_start"] < b["findings_end"] < b["conclusion_start"] < b["conclusion_end"] == b["char_end"]
    if b["title"] is None: assert b["char_start"] == b["findings_start"]
    else: assert text[b["char_start"]:b["char_start"]+len(b["title"])] == b["title"] and "\n" not in b["title"]
    F = text[b["findings_start"]:b["findings_end"]]; C = text[b["conclusion_start"]:b["conclusion_end"]]
    assert not F.endswith("\n") and not C.endswith("\n") and "\n" not in C
    if F.startswith('"'): assert F.endswith('"')
    last = -1
    for m in b["measures"]:
        assert list(m) == KEYS, m
        assert text[m["char_start"]:m["char_end"]] == m["text"]
        assert b["char_start"] <= m["char_start"] < m["char_end"] <= b["char_end"]
        assert m["char_start"] >= last; last = m["char_start"]
        t = m["type"]; assert t in TYPES; assert m["bound"] in BOUNDS; assert isinstance(m["approx"], bool)
        if t == "route": assert m["label"] in ROUTES and m["value"] is None and m["unit"] is None
        elif t == "effect_size": assert m["label"] in EFF
        elif t == "other_rate": assert m["label"] in OUT
        else: assert m["label"] is None
        if t.endswith("_rate"): assert m["unit"] == "%"
        if t == "follow_up": assert m["unit"] == "day"
        if t == "dose": assert m["unit"] in {"mg/kg","mg","mg/kg/h","µg/kg"}
        if t in {"effect_size","odds_ratio","hazard_ratio","risk_ratio","nnt"}: assert m["unit"] is None
        if m["value"] is None and t != "route": assert m["low"] is not None and m["high"] is not None and m["low"] <= m["high"]
        if m["numerator"] is not None: assert abs(100*m["numerator"]/m["denominator"] - m["value"]) < 1e-9
        cnt[t] += 1
print("blocks:", len(blocks), " measures:", sum(cnt.values()))
for k, v in sorted(cnt.items()): print(f"  {k}: {v}")
print("conditions:", collections.Counter(b["condition"] for b in blocks))
