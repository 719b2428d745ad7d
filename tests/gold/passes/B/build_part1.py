# Hand-chosen gold spans for ketamine-research.txt lines 16-67 (blocks 1-18).
# This script only turns spans chosen by reading into offsets and asserts grounding.
import json

SRC = "/work/shared/raw/ketamine-research.txt"
raw = open(SRC, "rb").read().decode("utf-8")
if raw.startswith("\ufeff"):
    raw = raw[1:]
text = raw
# line start offsets (1-based line numbers)
starts = [0]
for i, ch in enumerate(text):
    if ch == "\n":
        starts.append(i + 1)
def line_span(a, b):
    """span of lines a..b inclusive (1-based), without trailing newline"""
    s = starts[a - 1]
    e = starts[b] - 1 if b < len(starts) else len(text)
    return s, e

H = 1/24; MIN = 1/1440; W = 7; MO = 30.4375; Y = 365.25

def M(type, span, occ=0, **kw):
    d = dict(type=type, span=span, occ=occ)
    d.update(kw)
    return d

# blocks: (title_line or None, findings (a,b), conclusion (a,b), condition, measures)
# measures are located inside the whole block text; occ = occurrence index within block
K = "ketamine"
blocks = [
 # 1
 (16, (17,17), (18,18), "depression", [
   M("follow_up", "72 hours", value=3, unit="day", bound="by"),
   M("follow_up", "a day", value=1, unit="day"),
   M("route", "IV", label="IV"),
 ]),
 # 2
 (None, (19,19), (20,20), "depression", [
   M("follow_up", "24 hours", value=1, unit="day", bound="within"),
   M("response_rate", "71%", value=71, unit="%", arm=K, timepoint_days=1),
   M("remission_rate", "~29%", value=29, unit="%", approx=True, arm=K, timepoint_days=1),
   M("response_rate", "0%", value=0, unit="%", arm="placebo", timepoint_days=1, anchor="versus "),
   M("follow_up", "1 week", 0, value=7, unit="day"),
   M("other_rate", "35%", value=35, unit="%", label="improvement", arm=K, timepoint_days=7),
   M("follow_up", "1 week", 1, value=7, unit="day"),
   M("route", "IV", label="IV"),
 ]),
 # 3
 (None, (21,21), (22,22), "depression", [
   M("follow_up", "40 minutes", value=40*MIN, unit="day", bound="within"),
   M("effect_size", "effect size d≈0.5", value=0.5, label="cohen_d", approx=True, arm=K, timepoint_days=40*MIN),
   M("response_rate", "71%", value=71, unit="%", arm=K, timepoint_days=2),
   M("follow_up", "24–48 hours", low=1, high=2, unit="day", bound="within"),
   M("response_rate", "6%", value=6, unit="%", arm="placebo", timepoint_days=2),
   M("follow_up", "3 days", value=3, unit="day", bound="up_to"),
   M("route", "IV", label="IV"),
 ]),
 # 4
 (None, (23,23), (24,24), "depression", [
   M("follow_up", "24 hours", 0, value=1, unit="day"),
   M("effect_size", "effect size d≈1.0", value=1.0, label="cohen_d", approx=True, arm=K, timepoint_days=1),
   M("response_rate", "63%", value=63, unit="%", arm=K, timepoint_days=1),
   M("follow_up", "24 hours", 1, value=1, unit="day", bound="within"),
   M("response_rate", "0–18%", low=0, high=18, unit="%", arm="midazolam", timepoint_days=1),
   M("follow_up", "~3 days", value=3, unit="day", approx=True),
   M("route", "IV", label="IV"),
 ]),
 # 5
 (None, (25,25), (26,26), "depression", [
   M("dose", "0.5 mg/kg", 0, value=0.5, unit="mg/kg"),
   M("dose", "1.0 mg/kg", value=1.0, unit="mg/kg"),
   M("follow_up", "day 15", value=15, unit="day", bound="by"),
   M("follow_up", "a week", value=7, unit="day", bound="at_least"),
   M("dose", "0.5 mg/kg", 1, value=0.5, unit="mg/kg"),
   M("route", "IV", label="IV"),
 ]),
 # 6
 (27, (28,28), (29,29), "depression", [
   M("follow_up", "24 hours", 0, value=1, unit="day"),
   M("odds_ratio", "odds ratio ~7", value=7, approx=True, arm=K, timepoint_days=1),
   M("nnt", "NNT ~5", value=5, approx=True, timepoint_days=1),
   M("follow_up", "24 hours", 1, value=1, unit="day"),
   M("risk_ratio", "~9 times more likely", value=9, approx=True, arm=K, timepoint_days=1),
   M("nnt", "NNT ~3", value=3, approx=True, timepoint_days=1),
   M("follow_up", "7 days", value=7, unit="day"),
   M("odds_ratio", "OR ~4", value=4, approx=True, arm=K, timepoint_days=7),
   M("follow_up", "1 week", value=7, unit="day"),
   M("effect_size", "d≈0.90", value=0.90, label="cohen_d", approx=True, arm=K, timepoint_days=1),
   M("follow_up", "24h", value=1, unit="day"),
   M("route", "IV", label="IV"),
   M("response_rate", "Approximately 50%–70%", low=50, high=70, unit="%", approx=True, arm=K),
   M("follow_up", "1–2 weeks", low=7, high=14, unit="day", bound="by"),
 ]),
 # 7
 (None, (30,33), (34,34), "depression", [
   M("follow_up", "1 hour", 0, value=H, unit="day", bound="within"),
   M("follow_up", "2 weeks", value=14, unit="day"),
   M("follow_up", "1 month", value=MO, unit="day"),
   M("follow_up", "1 hour", 1, value=H, unit="day", bound="within"),
   M("route", "IV", label="IV"),
 ]),
 # 8
 (None, (35,35), (36,36), "depression", [
   M("follow_up", "24 hours", value=1, unit="day"),
   M("response_rate", "59%", value=59, unit="%", arm=K, timepoint_days=14),
   M("remission_rate", "23%", value=23, unit="%", arm=K, timepoint_days=14),
   M("follow_up", "week 2", value=14, unit="day", bound="by"),
   M("response_rate", "91%", value=91, unit="%", arm=K),
   M("route", "IV", label="IV"),
 ]),
 # 9
 (None, (37,37), (38,38), "depression", [
   M("follow_up", "24 hours", 0, value=1, unit="day"),
   M("response_rate", "53.7 percent", value=53.7, unit="%", arm=K, timepoint_days=1),
   M("remission_rate", "41.5 percent", value=41.5, unit="%", arm=K, timepoint_days=1),
   M("follow_up", "24 hours", 1, value=1, unit="day"),
   M("response_rate", "About 75 percent", value=75, unit="%", approx=True, arm=K, timepoint_days=7),
   M("follow_up", "7 days", value=7, unit="day"),
   M("route", "IV", label="IV"),
   M("follow_up", "about a week", value=7, unit="day", approx=True),
 ]),
 # 10
 (None, (39,39), (40,40), "depression", [
   M("response_rate", "54.9%", value=54.9, unit="%", arm=K),
   M("other_rate", "78.3%", value=78.3, unit="%", label="adverse_event", arm=K),
   M("other_rate", "11.3%", value=11.3, unit="%", label="dropout", arm=K),
   M("route", "IV", label="IV"),
 ]),
 # 11
 (None, (41,41), (42,42), "depression", [
   M("follow_up", "1 hour", value=H, unit="day", bound="within"),
   M("follow_up", "7 days", value=7, unit="day", bound="up_to"),
   M("follow_up", "24 h", value=1, unit="day"),
   M("response_rate", "56% (14/25)", value=56, unit="%", arm=K, timepoint_days=1, numerator=14, denominator=25),
   M("response_rate", "72% (18/25)", value=72, unit="%", arm=K, timepoint_days=1, numerator=18, denominator=25),
   M("response_rate", "1/25", value=4, unit="%", arm="fentanyl", numerator=1, denominator=25),
   M("response_rate", "3/25", value=12, unit="%", arm="fentanyl", numerator=3, denominator=25),
   M("dose", "0.5", 0, value=0.5, unit="mg/kg"),   # "0.5 vs 1.0 mg/kg"
   M("dose", "1.0 mg/kg", 0, value=1.0, unit="mg/kg"),
   M("dose", "1.0 mg/kg", 1, value=1.0, unit="mg/kg"),
   M("follow_up", "2 h", value=2*H, unit="day", bound="<"),
   M("route", "IM", 0, label="IM"),
   M("route", "IV", 0, label="IV"),
   M("dose", "0.5 mg/kg", 0, value=0.5, unit="mg/kg"),
   M("route", "IM", 1, label="IM"),
   M("dose", "1.0 mg/kg", 2, value=1.0, unit="mg/kg"),
 ]),
 # 12
 (None, (43,48), (49,49), "depression", [
   M("route", "IV", 0, label="IV"),
   M("dose", "0.5 mg/kg", value=0.5, unit="mg/kg"),
   M("response_rate", "~64%", value=64, unit="%", approx=True, arm=K),
   M("follow_up", "16–24 days", low=16, high=24, unit="day"),
   M("route", "oral", 0, label="ORAL"),
   M("follow_up", "12 weeks", value=84, unit="day", bound="up_to"),
   M("follow_up", "2 years", value=2*Y, unit="day", bound="up_to"),
   M("route", "IV", 1, label="IV"),
   M("route", "Oral", 0, label="ORAL"),
 ]),
 # 13
 (50, (51,56), (57,57), "depression", [
   M("follow_up", "4 hours", value=4*H, unit="day", bound="within"),
 ]),
 # 14
 (None, (58,58), (59,59), "depression", [
   M("route", "IV", 0, label="IV"),
   M("route", "intranasal", 0, label="IN"),
   M("route", "IV", 1, label="IV"),
   M("route", "IV", 2, label="IV"),
   M("route", "intranasal", 1, label="IN"),
   M("response_rate", "~63%", value=63, unit="%", approx=True, arm=K),
   M("response_rate", "~53%", value=53, unit="%", approx=True, arm="esketamine"),
   M("route", "IV", 3, label="IV"),
   M("route", "intranasal", 2, label="IN"),
   M("route", "IV", 4, label="IV"),
   M("route", "intranasal", 3, label="IN"),
   M("route", "IV", 5, label="IV"),
 ]),
 # 15
 (None, (60,60), (61,61), "depression", [
   M("follow_up", "24-hour", value=1, unit="day"),
   M("follow_up", "2-week", value=14, unit="day"),
   M("response_rate", "~59%", value=59, unit="%", approx=True, arm=K, timepoint_days=14),
   M("response_rate", "~30%", value=30, unit="%", approx=True, arm=K),
   M("follow_up", "4-week", value=28, unit="day"),
 ]),
 # 16
 (None, (62,62), (63,63), "anxiety", [
   M("follow_up", "1–2 weeks", low=7, high=14, unit="day", bound="up_to"),
   M("dose", "0.5–1 mg/kg", low=0.5, high=1, unit="mg/kg"),
   M("route", "subcutaneous", label="SC"),
   M("dose", "0.5 mg/kg", value=0.5, unit="mg/kg"),
 ]),
 # 17
 (None, (64,64), (65,65), "anxiety", [
   M("follow_up", "days 2", value=2, unit="day"),
   M("follow_up", "5", 0, value=5, unit="day", anchor="days 2, "),
   M("follow_up", "10", 0, value=10, unit="day", anchor="days 2, 5, and "),
   M("effect_size", "effect size 1.1–1.37", low=1.1, high=1.37, label="unspecified", arm=K),
   M("response_rate", "33%", value=33, unit="%", arm=K),
   M("response_rate", "0%", value=0, unit="%", arm="placebo"),
   M("response_rate", "89%", value=89, unit="%", arm=K),
   M("response_rate", "53%", value=53, unit="%", arm="placebo"),
   M("follow_up", "2 hours", value=2*H, unit="day", bound="within"),
   M("route", "IV", label="IV"),
   M("dose", "0.5 mg/kg", value=0.5, unit="mg/kg"),
   M("follow_up", "2 weeks", value=14, unit="day", bound="up_to"),
 ]),
 # 18
 (None, (66,66), (67,67), "anxiety", [
   M("odds_ratio", "OR = 28.94; 95% CI 3.45–242.57; p = 0.002", value=28.94, arm=K, ci_low=3.45, ci_high=242.57, p_value=0.002),
   M("odds_ratio", "OR = 30.33; p = 0.03", value=30.33, arm=K, p_value=0.03),
   M("odds_ratio", "OR = 2.03; p = 0.21", value=2.03, arm=K, p_value=0.21),
   M("follow_up", "7 days", value=7, unit="day", bound="up_to"),
   M("dose", "≥ 0.5 mg/kg", value=0.5, unit="mg/kg", bound=">="),
   M("dose", "1 mg/kg", value=1, unit="mg/kg"),
   M("route", "SC", label="SC"),
   M("follow_up", "14 weeks", value=98, unit="day", bound="over"),
 ]),
]

KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound",
        "arm","timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]

def find_nth(hay, needle, n, lo, hi):
    pos = lo - 1
    for _ in range(n + 1):
        pos = hay.find(needle, pos + 1, hi)
        assert pos >= 0, (needle, n)
    return pos

out = []
for bi, (tl, f, c, cond, ms) in enumerate(blocks, 1):
    fs, fe = line_span(*f)
    cs, ce = line_span(*c)
    title = None
    bs = fs
    if tl is not None:
        ts, te = line_span(tl, tl)
        title = text[ts:te]
        assert te + 1 == fs
        bs = ts
    assert fe + 1 == cs
    if f[0] != f[1]:
        assert text[fs] == '"' and text[fe-1] == '"'
    be = ce
    rows = []
    for m in ms:
        span = m["span"]
        if "anchor" in m:
            a = find_nth(text, m["anchor"] + span, 0, bs, be)
            s = a + len(m["anchor"])
        else:
            s = find_nth(text, span, m["occ"], bs, be)
            # exact occurrence check: make sure the occ-th hit is a whole token match for bare numbers/routes
        e = s + len(span)
        assert text[s:e] == span
        r = {k: None for k in KEYS}
        r["approx"] = False
        r.update({k: v for k, v in m.items() if k in KEYS})
        r["text"] = span; r["char_start"] = s; r["char_end"] = e
        rows.append(r)
    rows.sort(key=lambda r: (r["char_start"], r["char_end"]))
    out.append(dict(block_index=bi, char_start=bs, char_end=be, title=title,
                    findings_start=fs, findings_end=fe, conclusion_start=cs, conclusion_end=ce,
                    condition=cond, measures=rows))

with open("/work/main/tests/gold/passes/B/part1.jsonl", "w", encoding="utf-8") as fh:
    for b in out:
        fh.write(json.dumps(b, ensure_ascii=False) + "\n")
print("wrote", len(out))
