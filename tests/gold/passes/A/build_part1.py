# Hand-chosen spans (decided by reading); this script only computes offsets and asserts grounding.
import json

SRC = "/work/shared/raw/ketamine-research.txt"
raw = open(SRC, "rb").read()
text = raw.decode("utf-8")
if text.startswith("\ufeff"):
    text = text[1:]
lines = text.split("\n")
starts = []
pos = 0
for ln in lines:
    starts.append(pos)
    pos += len(ln) + 1

def lspan(a, b=None):
    b = b or a
    return starts[a-1], starts[b-1] + len(lines[b-1])

H = 1/24; MIN = 1/1440; W = 7; MO = 30.4375; Y = 365.25
KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound","arm",
        "timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]

def M(line, anchor, sub, type, **kw):
    s = lines[line-1]
    assert s.count(anchor) == 1, (line, anchor, s.count(anchor))
    assert anchor.count(sub) == 1, (anchor, sub)
    cs = starts[line-1] + s.index(anchor) + anchor.index(sub)
    d = {k: None for k in KEYS}
    d.update(type=type, text=sub, char_start=cs, char_end=cs+len(sub), approx=False)
    unit_default = {"response_rate": "%", "remission_rate": "%", "other_rate": "%", "follow_up": "day"}
    d["unit"] = unit_default.get(type)
    d.update(kw)
    assert text[d["char_start"]:d["char_end"]] == sub
    return d

def rate(line, anchor, sub, type, v=None, arm="ketamine", tp=None, **kw):
    return M(line, anchor, sub, type, value=v, arm=arm, timepoint_days=tp, **kw)
def fu(line, anchor, sub, v=None, **kw):
    return M(line, anchor, sub, "follow_up", value=v, **kw)
def route(line, anchor, sub, code):
    return M(line, anchor, sub, "route", label=code)
def dose(line, anchor, sub, v=None, unit="mg/kg", **kw):
    return M(line, anchor, sub, "dose", value=v, unit=unit, **kw)

blocks = []
def B(title_line, f, c, condition, measures):
    fs, fe = lspan(*f)
    cs, ce = lspan(*c)
    if title_line:
        ts, te = lspan(title_line)
        title = text[ts:te]
        bs = ts
    else:
        title = None; bs = fs
    blocks.append(dict(block_index=len(blocks)+1, char_start=bs, char_end=ce, title=title,
                       findings_start=fs, findings_end=fe, conclusion_start=cs, conclusion_end=ce,
                       condition=condition, measures=measures))

# ---------------- depression ----------------
B(16, (17,), (18,), "depression", [
    fu(17, "By 72 hours", "72 hours", 3, bound="by"),
    fu(17, "a day after", "a day", 1),
    route(18, "subanesthetic IV ketamine", "IV", "IV"),
])
B(None, (19,), (20,), "depression", [
    fu(19, "Within 24 hours", "24 hours", 1, bound="within"),
    rate(19, "71% of ketamine", "71%", "response_rate", 71, tp=1),
    rate(19, "~29% achieved", "~29%", "remission_rate", 29, tp=1, approx=True),
    rate(19, "0% on placebo", "0%", "response_rate", 0, arm="placebo", tp=1),
    fu(19, "through 1 week", "1 week", 7),
    rate(19, "35% still improved", "35%", "other_rate", 35, tp=7, label="improvement"),
    fu(19, "improved at 1 week", "1 week", 7),
    route(20, "established IV ketamine", "IV", "IV"),
])
B(None, (21,), (22,), "depression", [
    fu(21, "within 40 minutes", "40 minutes", 40/1440, bound="within"),
    M(21, "(effect size d≈0.5)", "d≈0.5", "effect_size", value=0.5, label="cohen_d", approx=True, arm="ketamine", timepoint_days=40/1440),
    rate(21, "71% of ketamine", "71%", "response_rate", 71, tp=2),
    fu(21, "first 24–48 hours", "24–48 hours", None, low=1, high=2, bound="within"),
    rate(21, "vs 6% on placebo", "6%", "response_rate", 6, arm="placebo", tp=2),
    fu(21, "up to 3 days", "3 days", 3, bound="up_to"),
    route(22, "suggests IV ketamine", "IV", "IV"),
])
B(None, (23,), (24,), "depression", [
    fu(23, "midazolam at 24 hours", "24 hours", 1),
    M(23, "(effect size d≈1.0)", "d≈1.0", "effect_size", value=1.0, label="cohen_d", approx=True, arm="ketamine", timepoint_days=1),
    rate(23, "63% of ketamine", "63%", "response_rate", 63, tp=1),
    fu(23, "criteria within 24 hours", "24 hours", 1, bound="within"),
    rate(23, "versus 0–18% in", "0–18%", "response_rate", None, arm="midazolam", tp=1, low=0, high=18),
    fu(23, "(median ~3 days)", "~3 days", 3, approx=True),
    route(24, "control, IV ketamine", "IV", "IV"),
])
B(None, (25,), (26,), "depression", [
    dose(25, "The 0.5 mg/kg dose", "0.5 mg/kg", 0.5),
    dose(25, "higher 1.0 mg/kg dose", "1.0 mg/kg", 1.0),
    fu(25, "By day 15", "day 15", 15, bound="by"),
    fu(25, "at least a week", "a week", 7, bound="at_least"),
    dose(26, "standard 0.5 mg/kg IV", "0.5 mg/kg", 0.5),
    route(26, "0.5 mg/kg IV dose", "IV", "IV"),
])
B(27, (28,), (29,), "depression", [
    fu(28, "At 24 hours", "24 hours", 1),
    M(28, "odds ratio ~7", "odds ratio ~7", "odds_ratio", value=7, approx=True, arm="ketamine", timepoint_days=1),
    M(28, "(NNT ~5)", "NNT ~5", "nnt", value=5, approx=True, timepoint_days=1),
    fu(28, "response at 24 hours", "24 hours", 1),
    M(28, "~9 times more likely", "~9 times more likely", "risk_ratio", value=9, approx=True, arm="ketamine", timepoint_days=1),
    M(28, "(NNT ~3)", "NNT ~3", "nnt", value=3, approx=True, timepoint_days=1),
    fu(28, "through 7 days", "7 days", 7),
    M(28, "(OR ~4 for", "OR ~4", "odds_ratio", value=4, approx=True, arm="ketamine", timepoint_days=7),
    fu(28, "remission at 1 week", "1 week", 7),
    M(28, "(d≈0.90 at 24h)", "d≈0.90", "effect_size", value=0.90, label="cohen_d", approx=True, arm="ketamine", timepoint_days=1),
    fu(28, "(d≈0.90 at 24h)", "24h", 1),
    route(29, "single-dose IV ketamine", "IV", "IV"),
    rate(29, "Approximately 50%–70% of", "Approximately 50%–70%", "response_rate", None, low=50, high=70, approx=True),
    fu(29, "by 1–2 weeks", "1–2 weeks", None, low=7, high=14, bound="by"),
])
B(None, (30, 33), (34,), "depression", [
    fu(30, "within 1 hour of", "1 hour", H, bound="within"),
    fu(31, "at 2 weeks", "2 weeks", 14),
    fu(31, "1 month after", "1 month", MO),
    fu(32, "within 1 hour.", "1 hour", H, bound="within"),
    route(34, "IV ketamine", "IV", "IV"),
])
B(None, (35,), (36,), "depression", [
    fu(35, "midazolam at 24 hours", "24 hours", 1),
    rate(35, "59% response rate", "59%", "response_rate", 59, tp=14),
    rate(35, "23% remission rate", "23%", "remission_rate", 23, tp=14),
    fu(35, "by week 2", "week 2", 14, bound="by"),
    rate(35, "(91% maintained response)", "91%", "response_rate", 91),
    route(36, "IV ketamine shows", "IV", "IV"),
])
B(None, (37,), (38,), "depression", [
    fu(37, "3.1 at 24 hours", "24 hours", 1),
    rate(37, "53.7 percent", "53.7 percent", "response_rate", 53.7, tp=1),
    rate(37, "41.5 percent", "41.5 percent", "remission_rate", 41.5, tp=1),
    fu(37, "41.5 percent at 24 hours", "24 hours", 1),
    rate(37, "About 75 percent", "About 75 percent", "response_rate", 75, tp=7, approx=True),
    fu(37, "at 7 days", "7 days", 7),
    route(38, "subanesthetic IV ketamine", "IV", "IV"),
    fu(38, "about a week", "about a week", 7, approx=True),
])
B(None, (39,), (40,), "depression", [
    rate(39, "54.9% of patients", "54.9%", "response_rate", 54.9),
    rate(39, "78.3% experienced", "78.3%", "other_rate", 78.3, label="adverse_event"),
    rate(39, "was 11.3%", "11.3%", "other_rate", 11.3, label="dropout"),
    route(40, "IV low-dose", "IV", "IV"),
])
B(None, (41,), (42,), "depression", [
    fu(41, "within 1 hour", "1 hour", H, bound="within"),
    fu(41, "up to 7 days", "7 days", 7, bound="up_to"),
    fu(41, "Response at 24 h:", "24 h", 1),
    rate(41, "56% (14/25)", "56% (14/25)", "response_rate", 56, tp=1, numerator=14, denominator=25),
    rate(41, "72% (18/25)", "72% (18/25)", "response_rate", 72, tp=1, numerator=18, denominator=25),
    rate(41, "1/25 (depression)", "1/25", "response_rate", 4, arm="fentanyl", numerator=1, denominator=25),
    rate(41, "3/25 (anxiety)", "3/25", "response_rate", 12, arm="fentanyl", numerator=3, denominator=25),
    dose(41, "at 0.5 vs 1.0", "0.5", 0.5),
    dose(41, "0.5 vs 1.0 mg/kg;", "1.0 mg/kg", 1.0),
    dose(41, "for 1.0 mg/kg.", "1.0 mg/kg", 1.0),
    fu(41, "resolving <2 h", "<2 h", 2*H, bound="<"),
    route(42, "IM ketamine is", "IM", "IM"),
    route(42, "alternative to IV", "IV", "IV"),
    dose(42, "0.5 mg/kg IM is", "0.5 mg/kg", 0.5),
    route(42, "0.5 mg/kg IM is", "IM", "IM"),
    dose(42, "1.0 mg/kg may", "1.0 mg/kg", 1.0),
])
B(None, (43, 48), (49,), "depression", [
    route(43, "Repeat IV ketamine", "IV", "IV"),
    dose(43, "2x/week 0.5 mg/kg dosing", "0.5 mg/kg", 0.5),
    rate(43, "rates ~64%", "~64%", "response_rate", 64, approx=True),
    fu(43, "typically 16–24 days", "16–24 days", None, low=16, high=24),
    route(45, "Adjunct oral agents", "oral", "ORAL"),
    fu(46, "up to 12 weeks", "12 weeks", 12*W, bound="up_to"),
    fu(47, "up to 2 years", "2 years", 2*Y, bound="up_to"),
    route(49, "repeat IV ketamine", "IV", "IV"),
    route(49, "Oral agents tested", "Oral", "ORAL"),
])
B(50, (51, 56), (57,), "depression", [
    fu(51, "within 4 hours", "4 hours", 4*H, bound="within"),
])
B(None, (58,), (59,), "depression", [
    route(58, "but IV racemic", "IV", "IV"),
    route(58, "than intranasal esketamine in direct", "intranasal", "IN"),
    route(58, "scales with IV ketamine", "IV", "IV"),
    route(58, "response for IV ketamine", "IV", "IV"),
    route(58, "over intranasal esketamine", "intranasal", "IN"),
    rate(58, "rates ~63%", "~63%", "response_rate", 63, approx=True),
    rate(58, "vs ~53%", "~53%", "response_rate", 53, arm="esketamine", approx=True),
    route(59, "suggests that IV ketamine", "IV", "IV"),
    route(59, "than intranasal esketamine in TRD", "intranasal", "IN"),
    route(59, "The IV route", "IV", "IV"),
    route(59, "However, intranasal", "intranasal", "IN"),
    route(59, "use of IV ketamine", "IV", "IV"),
])
B(None, (60,), (61,), "depression", [
    fu(60, "larger 24-hour", "24-hour", 1),
    fu(60, "the 2-week series", "2-week", 14),
    rate(60, "doubled to ~59%", "~59%", "response_rate", 59, tp=14, approx=True),
    rate(60, "(versus ~30% after", "~30%", "response_rate", 30, approx=True),
    fu(60, "the 4-week maintenance phase", "4-week", 28),
])
# ---------------- anxiety ----------------
B(None, (62,), (63,), "anxiety", [
    fu(62, "up to 1–2 weeks", "1–2 weeks", None, low=7, high=14, bound="up_to"),
    dose(62, "(0.5–1 mg/kg)", "0.5–1 mg/kg", None, low=0.5, high=1),
    route(62, "or subcutaneous injections", "subcutaneous", "SC"),
    dose(62, "be 0.5 mg/kg administered", "0.5 mg/kg", 0.5),
])
B(None, (64,), (65,), "anxiety", [
    fu(64, "at days 2, 5", "days 2", 2),
    fu(64, "days 2, 5, and", "5", 5),
    fu(64, "and 10 post-infusion", "10", 10),
    M(64, "(effect size 1.1–1.37)", "effect size 1.1–1.37", "effect_size", low=1.1, high=1.37, label="unspecified", arm="ketamine"),
    rate(64, "33% met LSAS", "33%", "response_rate", 33),
    rate(64, "vs 0% on placebo", "0%", "response_rate", 0, arm="placebo"),
    rate(64, "89% of participants", "89%", "response_rate", 89),
    rate(64, "vs 53% after placebo", "53%", "response_rate", 53, arm="placebo"),
    fu(64, "within 2 hours", "2 hours", 2*H, bound="within"),
    route(65, "Single-dose IV ketamine", "IV", "IV"),
    dose(65, "(0.5 mg/kg)", "0.5 mg/kg", 0.5),
    fu(65, "up to 2 weeks", "2 weeks", 14, bound="up_to"),
])
B(None, (66,), (67,), "anxiety", [
    M(66, "(OR = 28.94; 95% CI 3.45–242.57; p = 0.002)", "OR = 28.94; 95% CI 3.45–242.57; p = 0.002", "odds_ratio",
      value=28.94, ci_low=3.45, ci_high=242.57, p_value=0.002, arm="ketamine"),
    M(66, "(OR = 30.33; p = 0.03)", "OR = 30.33; p = 0.03", "odds_ratio", value=30.33, p_value=0.03, arm="ketamine"),
    M(66, "(OR = 2.03; p = 0.21)", "OR = 2.03; p = 0.21", "odds_ratio", value=2.03, p_value=0.21, arm="ketamine"),
    fu(66, "up to 7 days", "7 days", 7, bound="up_to"),
    dose(66, "doses ≥ 0.5 mg/kg", "≥ 0.5 mg/kg", 0.5, bound=">="),
    dose(66, "(1 mg/kg SC weekly)", "1 mg/kg", 1),
    route(66, "(1 mg/kg SC weekly)", "SC", "SC"),
    fu(66, "over 14 weeks", "over 14 weeks", 14*W, bound="over"),
])

assert len(blocks) == 18
with open("/work/main/tests/gold/passes/A/part1.jsonl", "w", encoding="utf-8") as f:
    for b in blocks:
        b["measures"].sort(key=lambda m: m["char_start"])
        f.write(json.dumps(b, ensure_ascii=False) + "\n")
print("written", len(blocks))
