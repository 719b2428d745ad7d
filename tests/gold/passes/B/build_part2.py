# Hand-chosen spans (read by a person); this script only computes offsets and asserts grounding.
import json

SRC = "/work/shared/raw/ketamine-research.txt"
t = open(SRC, "rb").read().decode("utf-8")
if t.startswith("\ufeff"): t = t[1:]
lines = t.split("\n")
starts = []; pos = 0
for l in lines:
    starts.append(pos); pos += len(l) + 1
def L(n):  # 1-based line -> (start, end) excluding newline
    return starts[n-1], starts[n-1] + len(lines[n-1])
H = 1/24; W = 7; M = 30.4375; Y = 365.25; MIN = 1/1440

KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound",
        "arm","timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]
def m(type, text, occ=0, **kw):
    d = dict(type=type, text=text, occ=occ); d.update(kw); return d

# block: (block_index, title_line or None, findings (first,last line), conclusion line, condition, measures)
B = []
def blk(idx, title, f, c, cond, ms): B.append((idx, title, f, c, cond, ms))

ES = "esketamine"; K = "ketamine"
# 19 anxiety: S-ketamine in palliative care
rfx = [m("effect_size","r=0.50",label="r",value=0.50,arm=ES,p_value=0.046),
       m("effect_size","r=0.65",label="r",value=0.65,arm=ES,p_value=0.007),
       m("effect_size","r=0.32",label="r",value=0.32,arm=ES,p_value=0.23)]
blk(19, None, (68,68), 69, "anxiety", rfx)
blk(20, 70, (71,71), 72, "anxiety", [
    m("follow_up","Within 1 hour",value=H,unit="day",bound="within"),
    m("follow_up","up to one week",value=7,unit="day",bound="up_to"),
    m("dose","0.5–1.0 mg/kg",low=0.5,high=1.0,unit="mg/kg"),
    m("follow_up","about a week",value=7,unit="day",approx=True),
    m("dose","around 0.5 mg/kg",value=0.5,unit="mg/kg",approx=True)])
blk(21, None, (73,73), 74, "anxiety", [
    m("effect_size","standardized mean difference >1",value=1,label="smd",bound=">",arm=K,timepoint_days=1),
    m("follow_up","<24 hours",value=1,unit="day",bound="<"),
    m("follow_up","up to 1 week",value=7,unit="day",bound="up_to"),
    m("route","IV",label="IV"),
    m("follow_up","a week",value=7,unit="day")])
blk(22, None, (75,75), 76, "ptsd", [
    m("follow_up","At 24 hours",value=1,unit="day"),
    m("response_rate","About 40–50%",low=40,high=50,unit="%",approx=True,arm=K,timepoint_days=1),
    m("follow_up","24 hours",occ=1,value=1,unit="day"),
    m("response_rate","0%",occ=1,value=0,unit="%",arm="placebo",timepoint_days=1),
    m("follow_up","up to one week",value=7,unit="day",bound="up_to"),
    m("follow_up","within a day",value=1,unit="day",bound="within")])
blk(23, None, (77,77), 78, "ptsd", [
    m("follow_up","After 2 weeks",value=14,unit="day"),
    m("effect_size","d≈1.13",value=1.13,label="cohen_d",approx=True,arm=K,timepoint_days=14),
    m("response_rate","67%",value=67,unit="%",arm=K),
    m("response_rate","20%",value=20,unit="%",arm="midazolam"),
    m("follow_up","27 days",value=27,unit="day"),
    m("other_rate","Roughly two-thirds",value=200/3,unit="%",label="improvement",approx=True,arm=K),
    m("follow_up","~4 weeks",value=28,unit="day",approx=True),
    m("route","IV",label="IV")])
blk(24, None, (79,84), 85, "pain", [
    m("route","IV",label="IV"),
    m("route","IV",occ=1,label="IV"),
    m("route","intranasal",label="IN"),
    m("route","IV",occ=2,label="IV")])
blk(25, None, (86,86), 87, "ptsd", [
    m("follow_up","up to 7 days",value=7,unit="day",bound="up_to"),
    m("route","IV",label="IV")])
blk(26, None, (88,88), 89, "ptsd", [
    m("route","IV",label="IV"),
    m("dose","0.5 mg/kg",value=0.5,unit="mg/kg")])
blk(27, None, (90,90), 91, "ptsd", [
    m("route","IV",label="IV"),
    m("dose","0.5 mg/kg",value=0.5,unit="mg/kg"),
    m("follow_up","1–2 weeks",low=7,high=14,unit="day"),
    m("route","Oral",label="ORAL")])
blk(28, None, (92,92), 93, "ocd", [
    m("route","IV",label="IV")])
blk(29, None, (94,94), 95, "ocd", [
    m("response_rate","Fifty percent (4/8)",value=50,unit="%",numerator=4,denominator=8,arm=K,timepoint_days=7),
    m("follow_up","at 1 week",value=7,unit="day"),
    m("response_rate","0%",value=0,unit="%",arm="placebo",timepoint_days=7),
    m("route","IV",label="IV"),
    m("dose","0.5 mg/kg",value=0.5,unit="mg/kg")])
blk(30, None, (96,96), 97, "ocd", [
    m("follow_up","within the first hour",value=H,unit="day",bound="within"),
    m("follow_up","within 7 days",value=7,unit="day",bound="within")])
blk(31, None, (98,98), 99, "alcohol", [
    m("follow_up","over 21 days",value=21,unit="day",bound="over"),
    m("nnt","NNT ≈ 4",value=4,approx=True),
    m("nnt","observed ≈ 6",value=6,approx=True)])
blk(32, None, (100,100), 101, "alcohol", [
    m("follow_up","Over 6 months",value=6*M,unit="day",bound="over")])
blk(33, None, (102,102), 103, "alcohol", [])
blk(34, None, (104,104), 105, "alcohol", [
    m("follow_up","at six months",value=6*M,unit="day")])
blk(35, None, (106,106), 107, "eating_disorders", [])
blk(36, 108, (109,109), 110, "eating_disorders", [
    m("route","IV",label="IV"),
    m("route","IV",occ=1,label="IV")])
blk(37, 111, (112,112), 113, "eating_disorders", [
    m("other_rate","Four of five",value=80,unit="%",label="improvement",numerator=4,denominator=5,arm=K,timepoint_days=1),
    m("other_rate","two of five",value=40,unit="%",label="improvement",numerator=2,denominator=5,arm=K,timepoint_days=1),
    m("follow_up","by twenty four hours",value=1,unit="day",bound="by"),
    m("route","IM",label="IM")])
blk(38, None, (114,114), 115, "eating_disorders", [])
blk(39, None, (116,116), 117, "substance_use", [
    m("other_rate","48.2 %",value=48.2,unit="%",label="abstinence",arm=K),
    m("follow_up","during the last 2 weeks",value=14,unit="day",bound="over"),
    m("other_rate","10.7 %",value=10.7,unit="%",label="abstinence",arm="midazolam"),
    m("hazard_ratio","HR = 0.47; 95 % CI 0.24–0.92",value=0.47,arm=K,ci_low=0.24,ci_high=0.92)])
blk(40, None, (118,118), 119, "substance_use", [
    m("follow_up","At 12 months",value=12*M,unit="day"),
    m("other_rate","50%",value=50,unit="%",label="abstinence",arm="three kpt sessions",timepoint_days=12*M),
    m("other_rate","22%",value=22,unit="%",label="abstinence",arm="single kpt session",timepoint_days=12*M),
    m("follow_up","over the year",value=Y,unit="day",bound="over"),
    m("follow_up","at 1 year",value=Y,unit="day")])
blk(41, None, (120,120), 121, "substance_use", [])
blk(42, None, (122,122), 123, "substance_use", [])
blk(43, None, (124,124), 125, "autism", [
    m("other_rate","50 %",value=50,unit="%",label="adverse_event",arm=K),
    m("other_rate","40 %",value=40,unit="%",label="adverse_event",arm=K),
    m("other_rate","40 %",occ=1,value=40,unit="%",label="adverse_event",arm=K),
    m("follow_up","one week",value=7,unit="day")])
blk(44, 126, (127,127), 128, "autism", [
    m("route","Intranasal",label="IN"),
    m("route","IN",occ=None,label="IN"),   # resolved below: the 'IN ketamine' that opens the findings
    m("route","Intranasal",occ=1,label="IN")])
blk(45, None, (129,129), 130, "autism", [
    m("route","intranasal",label="IN"),
    m("route","intravenous",label="IV")])
blk(46, None, (131,131), 132, "bpd", [
    m("follow_up","by ~40 minutes",value=40*MIN,unit="day",bound="by",approx=True),
    m("follow_up","Day 14",value=14,unit="day")])
blk(47, None, (133,133), 134, "bpd", [])
blk(48, None, (135,135), 136, "bpd", [])
blk(49, None, (137,137), 138, "end_of_life", [dict(x) for x in rfx])
blk(50, None, (139,143), 144, "end_of_life", [
    m("follow_up","Day 1–3",low=1,high=3,unit="day"),
    m("follow_up","by Day 5",value=5,unit="day",bound="by"),
    m("follow_up","by Day 6",value=6,unit="day",bound="by"),
    m("route","IV",label="IV"),
    m("follow_up","~3 days",value=3,unit="day",approx=True)])
blk(51, None, (145,145), 146, "end_of_life", [
    m("route","Intranasal",label="IN")])
blk(52, None, (147,147), 148, "end_of_life", [])

import re

out = []
for idx, title, (f1, f2), c, cond, ms in B:
    fs, fe = L(f1)[0], L(f2)[1]
    cs, ce = L(c)
    if title:
        ts, te = L(title); title_text = t[ts:te]; bs = ts
    else:
        title_text = None; bs = fs
    if f1 != f2: assert t[fs] == '"' and t[fe-1] == '"'
    rows = []
    for d in ms:
        text = d["text"]; occ = d.get("occ", 0)
        if occ is None:  # whole-word 'IN' at findings start
            s = fs; assert t[fs:fs+3] == "IN "
        else:
            # occurrences counted within block, whole-token for short route codes
            hits = []
            if re.fullmatch(r"[A-Za-z]{2}", text):
                hits = [mm.start() + bs for mm in re.finditer(r"(?<![A-Za-z])" + text + r"(?![A-Za-z])", t[bs:ce])]
            else:
                i = t.find(text, bs)
                while i != -1 and i + len(text) <= ce:
                    hits.append(i); i = t.find(text, i + 1)
            s = hits[occ]
        e = s + len(text)
        assert t[s:e] == text and bs <= s and e <= ce
        row = {k: None for k in KEYS}; row["approx"] = False
        for k, v in d.items():
            if k in KEYS: row[k] = v
        row["text"] = text; row["char_start"] = s; row["char_end"] = e
        rows.append(row)
    rows.sort(key=lambda r: r["char_start"])
    out.append({"block_index": idx, "char_start": bs, "char_end": ce, "title": title_text,
                "findings_start": fs, "findings_end": fe, "conclusion_start": cs, "conclusion_end": ce,
                "condition": cond, "measures": rows})
with open("/work/main/tests/gold/passes/B/part2.jsonl", "w", encoding="utf-8") as fh:
    for o in out: fh.write(json.dumps(o, ensure_ascii=False) + "\n")
print("wrote", len(out))
