# Source of the held-out page: intro, tab list, header, then rows.
# Each row: (title or None, [findings lines], conclusion line, condition)
INTRO = [
    "Esketamine and Ketamine: What the Studies Show",
    "Esketamine nasal spray, intravenous ketamine and newer forms such as arketamine have been tested in depression, trauma, addiction, pain and palliative care.",
    "This page gathers short summaries of key trials, reviews and case series, each with its main findings and the authors’ conclusion.",
]
TABS = ["Depression", "PTSD", "Substance Use", "Pain"]
HEADER = ["Study", "Findings", "Conclusion"]

ROWS = [
# 1
("Flexible-dose esketamine with a newly started antidepressant in treatment-resistant depression",
 ["Adults aged 18–64 with TRD were randomized to esketamine nasal spray (56 mg or 84 mg) or placebo, each added to a newly started oral antidepressant and given twice weekly over the 4-week induction. By day 28, 69.3% of the esketamine group met response criteria (≥50% MADRS reduction) versus 52.0% of the placebo group, and remission rates were 52.5% vs 31.0% . The MADRS difference favoured esketamine from 24 hours onward (mean difference −4.0; p = 0.02). Discontinuation due to adverse events was 7% with esketamine and 1% with placebo."],
 "Adding esketamine to a new antidepressant gave faster and larger gains than the antidepressant alone in TRD, with most discontinuations tied to dissociation and transient rises in BP/HR on dosing days.",
 "depression"),
# 2
(None,
 ["Among stable remitters who continued esketamine, relapse occurred in 26.7% versus 45.3% of those switched to placebo (HR = 0.49; 95% CI 0.29–0.84; p = 0.003), a 51% lower risk of relapse. Stable responders showed a similar benefit (HR 0.30; 95% CI 0.16–0.55), and the NNT to prevent one relapse was 6 among remitters and 4 among responders. Median time to relapse on placebo was 88 days, while esketamine was given weekly or every other week for up to 92 weeks."],
 "Continuing esketamine after a good response roughly halved the risk of relapse, supporting maintenance treatment for patients who improve during the first 16 weeks.",
 "depression"),
# 3
("Ketamine versus electroconvulsive therapy in nonpsychotic treatment-resistant depressionb",
 ["In an open-label noninferiority trial of 403 outpatients, ketamine (0.5 mg/kg IV over 40 minutes, twice weekly for 3 weeks) produced response in 55.4% versus 41.2% with ECT . Remission at the end of treatment was 32% (62/195) and 20% (39/191), respectively. Over the 6-month follow-up, relapse occurred in about one in five ketamine responders. ECT was linked to more memory complaints, whereas ketamine caused dissociation in ~40% of sessions."],
 "Ketamine was noninferior to ECT for outpatients with TRD without psychosis and may be a reasonable first choice where ECT is unavailable or declined, although durability after the 6-month follow-up is unknown.",
 "depression"),
# 4
(None,
 ["Patients were randomized to a single infusion of ketamine at 0.1, 0.2, 0.5 or 1.0 mg/kg, arketamine 0.5 mg/kg, or midazolam 0.045 mg/kg in a 2017–2019 multicentre study. At day 3, response was seen in 20% to 50% of the ketamine dose groups and in three of eight arketamine recipients, versus 19% with midazolam; only the two higher ketamine doses separated from control (Hedges' g = 0.72 and 0.84 for 0.5 and 1.0 mg/kg). Dissociation peaked at the end of the infusion and resolved within 2 hours. Nausea was reported by 5% (4/79) of ketamine recipients."],
 "Doses of 0.5 mg/kg and above clearly outperformed midazolam, while the lowest doses gave smaller and less consistent effects; arketamine deserves a larger trial.",
 "depression"),
# 5
("Oral and sublingual ketamine for depression: a review of trials and case series",
 ["Across 11 studies (n = 512), daily or weekly oral ketamine at 0.5–3 mg/kg and sublingual lozenges of 25–100 mg were associated with response in roughly 35–60% of patients over 4 to 12 weeks (SMD 0.62; 95% CI 0.38–0.86). Three of the randomized trials were positive, and in open-label series depression scores showed a 45% drop from baseline. Onset was slower than with injected dosing, typically by week 2 rather than within hours. Adverse events were reported by 18% and led to discontinuation in 4%."],
 "Non-injected forms of ketamine appear modestly effective and inexpensive, with a slower onset of about 2 weeks, but the evidence is mostly open-label and doses vary widely.",
 "depression"),
# 6
(None,
 ["In patients with major depression and active suicidal ideation, esketamine 84 mg plus standard care reduced MADRS scores more than placebo at 24 hours (Cohen's d = 0.31), with remission in 21% vs 11% at that point. By day 25, remission had reached 40.3% and 33.9%, respectively (OR 1.42; 95% CI 0.90–2.24; p = 0.13). The group × time interaction was significant (F(4,220) = 3.1; p = 0.016). Suicidal thinking improved in both arms, and 2 patients per arm attempted suicide during the 90-day follow-up."],
 "Esketamine gave a quick early reduction in depressive symptoms in suicidal patients but did not reduce suicidal thinking beyond standard care, so it cannot replace hospital-level care.",
 "depression"),
# 7
("Ketamine-enhanced prolonged exposure for veterans with PTSD",
 ["Veterans received three intravenous infusions of ketamine (0.5 mg/kg) or midazolam alongside a 10-session prolonged exposure course. At week 4, 62% (16/26) of the ketamine group were CAPS-5 responders versus 35% (9/26) with midazolam, and about 30% of ketamine patients achieved remission. The between-group effect on CAPS-5 was large (d = 0.98 at week 4) and still moderate at 3-month follow-up (d = 0.55). Withdrawal because of dissociation was 8% (2/26) with ketamine and 0% with midazolam."],
 "Pairing ketamine with exposure therapy produced larger and more durable gains than exposure with midazolam, with benefits still evident 3 months after the last session.",
 "ptsd"),
# 8
(None,
 ["In an 8-week open trial of intranasal esketamine (56–84 mg) for PTSD with comorbid depression, 14 of 20 completers responded (≥10-point PCL-5 drop) and 35% were in remission by week 8. Mean PCL-5 scores fell from 56.4 ± 11.2 to 31.0 ± 14.8 (t = 7.9, p < 0.001). The main adverse events were dizziness (45%) and blood pressure above 180/100 mmHg (10%)."],
 "Esketamine nasal spray was feasible in PTSD with depression, with benefits lasting up to 3 weeks after the final dose, but the open design and 30% attrition call for a controlled trial.",
 "ptsd"),
# 9
(None,
 ["\"Pooled data: 8 randomized trials (n = 421); ketamine reduced PTSD severity more than control at 24 hours (SMD −0.45; 95% CI −0.73 to −0.17) and at 7 days (SMD −0.30), but not at 2 weeks or later.",
  "Response: more likely with ketamine (RR = 1.8; 95% CI 1.2–2.7; p = 0.004), with pooled response of ~41% vs 21% for control.",
  "Routes: similar benefit with IV and intranasal dosing.",
  "Tolerability: dropout 6% with ketamine and 5% with control.\""],
 "Ketamine offers a small-to-moderate, short-lived benefit in PTSD that fades within about a week; repeated dosing or added psychotherapy may be needed to extend it.",
 "ptsd"),
# 10
(None,
 ["Adults stabilized on buprenorphine (8–16 mg sublingual daily) were randomized to two ketamine infusions (0.71 mg/kg) or saline during a 12-week relapse-prevention program. Over 12 weeks, 61% of the ketamine group stayed abstinent versus 38% with saline (OR = 2.55; 95% CI 1.10–5.90; p = 0.03), giving an NNT of 4.3 and an effect size of 0.7 on craving. Relapse by week 12 occurred in 29% vs 52% . No one in the ketamine arm stopped treatment because of adverse events."],
 "Two ketamine infusions added to buprenorphine and counselling roughly doubled sustained abstinence at 3 months, a promising signal for a group with high relapse risk.",
 "substance_use"),
# 11
(None,
 ["Over a 6-week trial in methamphetamine use disorder, 44% of participants given weekly intramuscular ketamine 0.5 mg/kg achieved sustained abstinence (three consecutive negative urine screens) versus 19% with diphenhydramine (25 mg IM). Ketamine recipients were 2.3 times more likely to complete treatment, and craving scores fell by 38% . Time to first relapse was longer with ketamine (HR = 0.58; 95% CI 0.36–0.93). At 3-month follow-up, 7/16 ketamine completers were still abstinent."],
 "Weekly IM ketamine helped people with methamphetamine use disorder achieve and keep abstinence over 6 weeks, although a third of participants missed at least one injection.",
 "substance_use"),
# 12
(None,
 ["A systematic review of 14 studies in alcohol, cocaine, opioid and cannabis use disorders found abstinence rates of 40–75% with ketamine-assisted therapy versus 20–40% in control groups over follow-ups of 1 to 12 months. Pooled, ketamine improved abstinence (OR ≈ 3.0; 95% CI 1.6–5.6), with an NNT of about 5. In a 2023 cannabis study, 9/15 participants (60%) had cut their use by half at day 30."],
 "Ketamine looks like a useful adjunct to psychotherapy across several substance use disorders, roughly doubling abstinence in the first months, but most trials were small and followed patients for under 6 months.",
 "substance_use"),
# 13
("Perioperative ketamine for pain after spine surgery",
 ["Patients received a 0.5 mg/kg IV bolus at induction followed by 0.25 mg/kg/h until wound closure, or saline; all also received fentanyl 2 µg/kg. Opioid use over 48 hours was 31% lower with ketamine, and moderate-to-severe pain at 24 hours was reported by 22% vs 41% (RR 0.54; 95% CI 0.33–0.88). Hallucinations occurred in 3% of ketamine patients, and age (45–72 years) did not modify the effect."],
 "Intraoperative ketamine reduced early pain and opioid needs and may lower the risk of chronic pain after spine surgery, with few psychotomimetic effects at these doses.",
 "pain"),
# 14
(None,
 ["\"Population: 36 adults with complex regional pain syndrome (age 29–67 years)",
  "Regimen: 4-day continuous infusion at 0.35 mg/kg/h, then oral ketamine 20 mg three times daily",
  "Outcome: 58% reported at least 30% pain relief at 1 month, falling to 28% at 3 months",
  "Effect: within-patient effect size r = 0.61",
  "Tolerability: 11% (4/36) stopped oral treatment because of vivid dreams; a subcutaneous regimen (0.1–0.2 mg/kg) was tried instead, with mixed results\""],
 "Continuous infusion followed by maintenance dosing gave meaningful short-term relief in CRPS for about half of patients, but benefit waned by 3 months and longer-term strategies are needed.",
 "pain"),
# 15
("Sublingual ketamine for depression in hospice care",
 ["Thirty hospice patients with depression (median age 71 years) received a single sublingual dose of ketamine 0.5 mg/kg. Response was seen in 9 of 30 (30%) within 3 days and in 52% (12/23) of those assessed at day 14. About 17% (4/23) had remitted by day 14. Seven patients died before the final assessment, and drowsiness (20%) was the main side effect."],
 "Ketamine in this form is simple to use in hospice settings and may lift mood within days, which matters when life expectancy is only weeks; controlled trials are needed.",
 "end_of_life"),
# 16
(None,
 ["In a randomized trial in advanced cancer, intranasal esketamine 28 mg or a single 0.25 mg/kg subcutaneous injection of ketamine was compared with usual care. Within 2 hours, depressive symptoms improved in 64% with esketamine and 57% with subcutaneous ketamine versus 20% with usual care, and the difference persisted at day 7 (Hedges’ g = 0.9). By week 4, only 1 in 3 patients on esketamine still met response criteria. Blood pressure rose by >20 mmHg in 12% of ketamine-treated patients; mTOR-related mechanisms were discussed."],
 "Both esketamine and ketamine brought rapid relief of depression near the end of life, though effects faded over 4 weeks and repeat dosing should be studied.",
 "end_of_life"),
]
