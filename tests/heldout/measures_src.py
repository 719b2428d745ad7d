# Hand-chosen gold measures, per block (1-based), per cell: 't' title, 'f' findings, 'c' conclusion.
# Each entry: dict(cell, type, text[, anchor][, occ], fields...). The span `text` is located inside
# the cell (inside `anchor` when given; `occ` = 0-based occurrence index of the anchor/text in the cell).
H = 1 / 24
W = 7.0
MO = 30.4375
YR = 365.25


def R(cell, typ, text, value, arm, tp=None, num=None, den=None, approx=False, label=None,
      low=None, high=None, **kw):
    return dict(cell=cell, type=typ, text=text, value=value, arm=arm, timepoint_days=tp,
                numerator=num, denominator=den, approx=approx, label=label, low=low, high=high,
                unit="%", **kw)


def resp(cell, text, value, arm, **kw):
    return R(cell, "response_rate", text, value, arm, **kw)


def rem(cell, text, value, arm, **kw):
    return R(cell, "remission_rate", text, value, arm, **kw)


def oth(cell, text, value, arm, label, **kw):
    return R(cell, "other_rate", text, value, arm, label=label, **kw)


def dose(cell, text, value, unit, low=None, high=None, approx=False, bound=None, **kw):
    return dict(cell=cell, type="dose", text=text, value=value, unit=unit, low=low, high=high,
                approx=approx, bound=bound, **kw)


def route(cell, text, label, **kw):
    return dict(cell=cell, type="route", text=text, value=None, label=label, **kw)


def eff(cell, text, value, label, tp=None, ci=(None, None), p=None, approx=False, bound=None,
        low=None, high=None, **kw):
    return dict(cell=cell, type="effect_size", text=text, value=value, label=label,
                timepoint_days=tp, ci_low=ci[0], ci_high=ci[1], p_value=p, approx=approx,
                bound=bound, low=low, high=high, **kw)


def ratio(cell, typ, text, value, ci=(None, None), p=None, tp=None, approx=False, **kw):
    return dict(cell=cell, type=typ, text=text, value=value, ci_low=ci[0], ci_high=ci[1],
                p_value=p, timepoint_days=tp, approx=approx, **kw)


def nnt(cell, text, value, approx=False, **kw):
    return dict(cell=cell, type="nnt", text=text, value=value, approx=approx, **kw)


def fu(cell, text, days, bound=None, approx=False, low=None, high=None, **kw):
    return dict(cell=cell, type="follow_up", text=text, value=days, unit="day", bound=bound,
                approx=approx, low=low, high=high, **kw)


M = {}

M[1] = [
    route("f", "nasal spray", "IN"),
    dose("f", "56 mg", 56, "mg"),
    dose("f", "84 mg", 84, "mg"),
    route("f", "oral", "ORAL"),
    fu("f", "over the 4-week", 28, "over"),
    fu("f", "By day 28", 28, "by"),
    resp("f", "69.3%", 69.3, "esketamine", tp=28),
    resp("f", "52.0%", 52.0, "placebo", tp=28),
    rem("f", "52.5%", 52.5, "esketamine", tp=28),
    rem("f", "31.0%", 31.0, "placebo", tp=28),
    fu("f", "24 hours", 1),
    oth("f", "7%", 7, "esketamine", "dropout", anchor="7% with esketamine"),
    oth("f", "1%", 1, "placebo", "dropout", anchor="1% with placebo"),
]

M[2] = [
    oth("f", "26.7%", 26.7, "esketamine", "relapse"),
    oth("f", "45.3%", 45.3, "placebo", "relapse"),
    ratio("f", "hazard_ratio", "HR = 0.49; 95% CI 0.29–0.84; p = 0.003", 0.49, (0.29, 0.84), 0.003),
    ratio("f", "hazard_ratio", "HR 0.30; 95% CI 0.16–0.55", 0.30, (0.16, 0.55)),
    nnt("f", "NNT to prevent one relapse was 6", 6),
    nnt("f", "4 among responders", 4),
    fu("f", "88 days", 88),
    fu("f", "up to 92 weeks", 92 * W, "up_to"),
    fu("c", "during the first 16 weeks", 16 * W, "over"),
]

M[3] = [
    dose("f", "0.5 mg/kg", 0.5, "mg/kg"),
    route("f", "IV", "IV"),
    fu("f", "for 3 weeks", 21),
    resp("f", "55.4%", 55.4, "ketamine", tp=21),
    resp("f", "41.2%", 41.2, "ect", tp=21),
    rem("f", "32% (62/195)", 32, "ketamine", num=62, den=195),
    rem("f", "20% (39/191)", 20, "ect", num=39, den=191),
    fu("f", "Over the 6-month follow-up", 6 * MO, "over"),
    oth("f", "about one in five", 20, "ketamine", "relapse", approx=True, num=1, den=5, tp=6 * MO),
    oth("f", "~40%", 40, "ketamine", "adverse_event", approx=True),
    fu("c", "6-month follow-up", 6 * MO),
]

M[4] = [
    dose("f", "0.1", 0.1, "mg/kg", anchor="0.1, 0.2, 0.5 or 1.0 mg/kg"),
    dose("f", "0.2", 0.2, "mg/kg", anchor="0.1, 0.2, 0.5 or 1.0 mg/kg"),
    dose("f", "0.5", 0.5, "mg/kg", anchor="0.1, 0.2, 0.5 or 1.0 mg/kg"),
    dose("f", "1.0 mg/kg", 1.0, "mg/kg", anchor="0.1, 0.2, 0.5 or 1.0 mg/kg"),
    dose("f", "0.5 mg/kg", 0.5, "mg/kg", anchor="arketamine 0.5 mg/kg"),
    dose("f", "0.045 mg/kg", 0.045, "mg/kg"),
    fu("f", "At day 3", 3),
    resp("f", "20% to 50%", None, "ketamine", tp=3, low=20, high=50),
    resp("f", "three of eight", 37.5, "arketamine", tp=3, num=3, den=8),
    resp("f", "19%", 19, "midazolam", tp=3),
    eff("f", "Hedges' g = 0.72", 0.72, "hedges_g", tp=3),
    eff("f", "0.84", 0.84, "hedges_g", tp=3),
    dose("f", "0.5", 0.5, "mg/kg", anchor="for 0.5 and 1.0 mg/kg"),
    dose("f", "1.0 mg/kg", 1.0, "mg/kg", anchor="for 0.5 and 1.0 mg/kg"),
    fu("f", "within 2 hours", 2 * H, "within"),
    oth("f", "5% (4/79)", 5, "ketamine", "adverse_event", num=4, den=79),
    dose("c", "0.5 mg/kg", 0.5, "mg/kg", bound=">="),
]

M[5] = [
    route("t", "Oral", "ORAL"),
    route("t", "sublingual", "SL"),
    route("f", "oral", "ORAL"),
    dose("f", "0.5–3 mg/kg", None, "mg/kg", low=0.5, high=3),
    route("f", "sublingual", "SL"),
    dose("f", "25–100 mg", None, "mg", low=25, high=100),
    resp("f", "roughly 35–60%", None, "ketamine", tp=12 * W, low=35, high=60, approx=True),
    fu("f", "over 4 to 12 weeks", None, "over", low=4 * W, high=12 * W),
    eff("f", "SMD 0.62; 95% CI 0.38–0.86", 0.62, "smd", tp=12 * W, ci=(0.38, 0.86)),
    fu("f", "by week 2", 14, "by"),
    oth("f", "18%", 18, "ketamine", "adverse_event"),
    oth("f", "4%", 4, "ketamine", "dropout", anchor="discontinuation in 4%"),
    fu("c", "about 2 weeks", 14, approx=True),
]

M[6] = [
    dose("f", "84 mg", 84, "mg"),
    fu("f", "at 24 hours", 1),
    eff("f", "Cohen's d = 0.31", 0.31, "cohen_d", tp=1),
    rem("f", "21%", 21, "esketamine", tp=1, anchor="21% vs 11%"),
    rem("f", "11%", 11, "placebo", tp=1, anchor="21% vs 11%"),
    fu("f", "By day 25", 25, "by"),
    rem("f", "40.3%", 40.3, "esketamine", tp=25),
    rem("f", "33.9%", 33.9, "placebo", tp=25),
    ratio("f", "odds_ratio", "OR 1.42; 95% CI 0.90–2.24; p = 0.13", 1.42, (0.90, 2.24), 0.13, tp=25),
    fu("f", "during the 90-day follow-up", 90, "over"),
]

M[7] = [
    route("f", "intravenous", "IV"),
    dose("f", "0.5 mg/kg", 0.5, "mg/kg"),
    fu("f", "At week 4", 28),
    resp("f", "62% (16/26)", 62, "ketamine", tp=28, num=16, den=26),
    resp("f", "35% (9/26)", 35, "midazolam", tp=28, num=9, den=26),
    rem("f", "about 30%", 30, "ketamine", tp=28, approx=True),
    eff("f", "d = 0.98", 0.98, "cohen_d", tp=28),
    fu("f", "at week 4", 28),
    fu("f", "3-month follow-up", 3 * MO),
    eff("f", "d = 0.55", 0.55, "cohen_d", tp=3 * MO),
    oth("f", "8% (2/26)", 8, "ketamine", "dropout", num=2, den=26),
    oth("f", "0%", 0, "midazolam", "dropout", anchor="0% with midazolam"),
    fu("c", "3 months after the last session", 3 * MO),
]

M[8] = [
    fu("f", "8-week", 56),
    route("f", "intranasal", "IN"),
    dose("f", "56–84 mg", None, "mg", low=56, high=84),
    resp("f", "14 of 20", 70, "esketamine", tp=56, num=14, den=20),
    rem("f", "35%", 35, "esketamine", tp=56),
    fu("f", "by week 8", 56, "by"),
    oth("f", "45%", 45, "esketamine", "adverse_event"),
    oth("f", "10%", 10, "esketamine", "adverse_event", anchor="(10%)"),
    route("c", "nasal spray", "IN"),
    fu("c", "up to 3 weeks", 21, "up_to"),
    oth("c", "30%", 30, "esketamine", "dropout"),
]

M[9] = [
    fu("f", "at 24 hours", 1),
    eff("f", "SMD −0.45; 95% CI −0.73 to −0.17", -0.45, "smd", tp=1, ci=(-0.73, -0.17)),
    fu("f", "at 7 days", 7),
    eff("f", "SMD −0.30", -0.30, "smd", tp=7),
    fu("f", "at 2 weeks", 14),
    ratio("f", "risk_ratio", "RR = 1.8; 95% CI 1.2–2.7; p = 0.004", 1.8, (1.2, 2.7), 0.004),
    resp("f", "~41%", 41, "ketamine", approx=True),
    resp("f", "21%", 21, "control", anchor="21% for control"),
    route("f", "IV", "IV"),
    route("f", "intranasal", "IN"),
    oth("f", "6%", 6, "ketamine", "dropout", anchor="6% with ketamine"),
    oth("f", "5%", 5, "control", "dropout", anchor="5% with control"),
    fu("c", "within about a week", 7, "within", approx=True),
]

M[10] = [
    dose("f", "8–16 mg", None, "mg", low=8, high=16),
    route("f", "sublingual", "SL"),
    dose("f", "0.71 mg/kg", 0.71, "mg/kg"),
    fu("f", "during a 12-week", 84, "over"),
    fu("f", "Over 12 weeks", 84, "over"),
    oth("f", "61%", 61, "ketamine", "abstinence", tp=84),
    oth("f", "38%", 38, "saline", "abstinence", tp=84),
    ratio("f", "odds_ratio", "OR = 2.55; 95% CI 1.10–5.90; p = 0.03", 2.55, (1.10, 5.90), 0.03, tp=84),
    nnt("f", "NNT of 4.3", 4.3),
    eff("f", "effect size of 0.7", 0.7, "unspecified", tp=84),
    fu("f", "by week 12", 84, "by"),
    oth("f", "29%", 29, "ketamine", "relapse", tp=84),
    oth("f", "52%", 52, "saline", "relapse", tp=84),
    fu("c", "at 3 months", 3 * MO),
]

M[11] = [
    fu("f", "Over a 6-week", 42, "over"),
    oth("f", "44%", 44, "ketamine", "abstinence", tp=42),
    route("f", "intramuscular", "IM"),
    dose("f", "0.5 mg/kg", 0.5, "mg/kg"),
    oth("f", "19%", 19, "diphenhydramine", "abstinence", tp=42),
    dose("f", "25 mg", 25, "mg"),
    route("f", "IM", "IM"),
    ratio("f", "risk_ratio", "2.3 times more likely", 2.3),
    ratio("f", "hazard_ratio", "HR = 0.58; 95% CI 0.36–0.93", 0.58, (0.36, 0.93)),
    fu("f", "At 3-month follow-up", 3 * MO),
    oth("f", "7/16", 43.75, "ketamine", "abstinence", tp=3 * MO, num=7, den=16),
    route("c", "IM", "IM"),
    fu("c", "over 6 weeks", 42, "over"),
]

M[12] = [
    oth("f", "40–75%", None, "ketamine", "abstinence", tp=12 * MO, low=40, high=75),
    oth("f", "20–40%", None, "control", "abstinence", tp=12 * MO, low=20, high=40),
    fu("f", "over follow-ups of 1 to 12 months", None, "over", low=1 * MO, high=12 * MO),
    ratio("f", "odds_ratio", "OR ≈ 3.0; 95% CI 1.6–5.6", 3.0, (1.6, 5.6), approx=True),
    nnt("f", "NNT of about 5", 5, approx=True),
    oth("f", "9/15 participants (60%)", 60, "ketamine", "improvement", tp=30, num=9, den=15),
    fu("f", "at day 30", 30),
    fu("c", "under 6 months", 6 * MO, "<"),
]

M[13] = [
    dose("f", "0.5 mg/kg", 0.5, "mg/kg"),
    route("f", "IV", "IV"),
    dose("f", "0.25 mg/kg/h", 0.25, "mg/kg/h"),
    dose("f", "2 µg/kg", 2, "µg/kg"),
    fu("f", "over 48 hours", 2, "over"),
    fu("f", "at 24 hours", 1),
    oth("f", "22%", 22, "ketamine", "other", tp=1),
    oth("f", "41%", 41, "saline", "other", tp=1),
    ratio("f", "risk_ratio", "RR 0.54; 95% CI 0.33–0.88", 0.54, (0.33, 0.88), tp=1),
    oth("f", "3%", 3, "ketamine", "adverse_event"),
]

M[14] = [
    dose("f", "0.35 mg/kg/h", 0.35, "mg/kg/h"),
    route("f", "oral", "ORAL", occ=0),
    dose("f", "20 mg", 20, "mg"),
    resp("f", "58%", 58, "ketamine", tp=1 * MO),
    fu("f", "at 1 month", 1 * MO),
    resp("f", "28%", 28, "ketamine", tp=3 * MO),
    fu("f", "at 3 months", 3 * MO),
    eff("f", "r = 0.61", 0.61, "r"),
    oth("f", "11% (4/36)", 11, "ketamine", "dropout", num=4, den=36),
    route("f", "oral", "ORAL", occ=1),
    route("f", "subcutaneous", "SC"),
    dose("f", "0.1–0.2 mg/kg", None, "mg/kg", low=0.1, high=0.2),
    fu("c", "by 3 months", 3 * MO, "by"),
]

M[15] = [
    route("t", "Sublingual", "SL"),
    route("f", "sublingual", "SL"),
    dose("f", "0.5 mg/kg", 0.5, "mg/kg"),
    resp("f", "9 of 30 (30%)", 30, "ketamine", tp=3, num=9, den=30),
    fu("f", "within 3 days", 3, "within"),
    resp("f", "52% (12/23)", 52, "ketamine", tp=14, num=12, den=23),
    fu("f", "at day 14", 14),
    rem("f", "About 17% (4/23)", 17, "ketamine", tp=14, num=4, den=23, approx=True),
    fu("f", "by day 14", 14, "by"),
    oth("f", "20%", 20, "ketamine", "adverse_event"),
]

M[16] = [
    route("f", "intranasal", "IN"),
    dose("f", "28 mg", 28, "mg"),
    dose("f", "0.25 mg/kg", 0.25, "mg/kg"),
    route("f", "subcutaneous", "SC", occ=0),
    fu("f", "Within 2 hours", 2 * H, "within"),
    oth("f", "64%", 64, "esketamine", "improvement", tp=2 * H),
    route("f", "subcutaneous", "SC", occ=1),
    oth("f", "57%", 57, "ketamine", "improvement", tp=2 * H),
    oth("f", "20%", 20, "usual care", "improvement", tp=2 * H, anchor="20% with usual care"),
    fu("f", "at day 7", 7),
    eff("f", "Hedges’ g = 0.9", 0.9, "hedges_g", tp=7),
    fu("f", "By week 4", 28, "by"),
    resp("f", "1 in 3", 100 / 3, "esketamine", tp=28, num=1, den=3),
    oth("f", "12%", 12, "ketamine", "adverse_event"),
    fu("c", "over 4 weeks", 28, "over"),
]
