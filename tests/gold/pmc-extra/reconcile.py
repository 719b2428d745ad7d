"""The arm gold of the pmc-extra abstracts: two independent passes per batch, reconciled.

Batch 1 (30 abstracts, `passes/arms1-{A,B}.yaml`), batch 2 (18, `passes/arms2-*`),
batch 3 (6, mostly depression, `passes/arms3-*`), batch 4 (12, any topic, chosen by a
mechanical walk of the source's list, `passes/arms4-*`) and batch 5 (12, the same walk from
another point of the list, `passes/arms5-*`) were each written by two annotators independently (notes
beside them), reading each abstract against ANNOTATION.md v1.1 with no pipeline output,
code, rules or other gold in sight. They list every rate, effect, ratio and NNT with its
span (`text`, `occurrence`), `type`, `label` and `arm`. Where the passes differ,
DECISIONS (arms), LABELS (other_rate labels) and SPANS (an item only one pass wrote with that span) settle it, and
CONVENTION applies a naming convention the passes did not follow; each with its reason (docs/annotation-log.md, "pmc-extra"). Writes `arms.yaml`:

    python tests/gold/pmc-extra/reconcile.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
Key = tuple[str, str, int]  # (PMC id, text, occurrence)

_DOSE = ("arms that share one drug keep what tells them apart, dose or route (as both passes of batch 2 "
         "did for 'oral palonosetron 0.50 mg' and 'topical lidocaine')")
_ROUTE = "one drug per arm: the route is its own measure, not part of the arm ('buprenorphine')"
_NAME = "the group's own name as written, without the generic head noun ('control', 'group')"
_ABBREVIATION = ("'higher Hepatocyte Growth Factor (HGF; HR = 1.63 …)': an abbreviation the text defines is kept as "
                 "the arm, as batches 1 and 4 both did ('czp', 'al', 'ldx'); B's call, A wrote the long form")
_SPC = "the group's own name as written: 'SPC' (single-pill combination) is part of it"

_SEROPROTECTION = ("healthy infants' antibody levels above a threshold after a vaccine: a laboratory measure with no "
                   "condition to improve (batch 9's passes both made IGF-I levels above a threshold `other`); B's "
                   "call, A read it as a target state")
_RESPECTIVELY = ("'≥93.6% and ≥88.5% of infants … had … antibody concentrations ≥0.2 μg/mL and OPA titres ≥8, in the "
                 "Clin and Com groups, respectively': the two values pair with the two measures the sentence names, as "
                 "in the next sentence they pair with pre- and post-booster, so each is stated for both groups; A's "
                 "reading, B paired them with the groups")

# Where the passes name an arm differently: the arm chosen and why.
DECISIONS: dict[Key, tuple[str | None, str]] = {
    **{("PMC2253708", t, 0): ("assessment-only", _NAME) for t in ("10.5%", "6.7%")},
    **{("PMC4374075", t, 0): ("vildagliptin/metformin spc", _SPC) for t in ("0.9%", "43.5%", "45.8%")},
    **{("PMC4374075", t, 0): ("vildagliptin/placebo spc", _SPC) for t in ("13.5%", "3.6%", "67.9%")},
    **{("PMC4374260", t, 0): ("tramadol 50 mg", _DOSE) for t in ("12.8%", "53.6%", "7.2%", "odds ratio [OR]: 1.05")},
    **{("PMC4374260", t, 0): ("tramadol 100 mg", _DOSE) for t in ("21.6%", "33.6%", "85.6%", "OR: 1.07")},
    **{("PMC4893099", t, 0): (f"peficitinib {dose} mg", _DOSE)
       for t, dose in (("70.9%", 25), ("64.9%", 50), ("52.7%", 100), ("67.2%", 150))},
    **{("PMC4984426", t, o): ("buprenorphine", _ROUTE) for t, o in (("13%", 0), ("19%", 0), ("9%", 1))},
    ("PMC4630743", "3.61%", 0): ("study", "'in the study group': the group's own name as written (ANNOTATION v1.1)"),
    **{("PMC4119301", t, 0): (None, "a crossover: every patient had both dentures, so the share that preferred one "
                                   "material is the whole sample's, no group's (A); B gave it to the material preferred")
       for t in ("53(67.9%)", "14(17.9%)")},
    ("PMC5013640", "HR = 1.63 [1.06, 2.51] p = 0.03", 0): ("higher hgf", _ABBREVIATION),
    ("PMC5013640", "HR = 1.56 [1.13, 2.15]; p = 0.01", 0): ("higher opn", _ABBREVIATION),
    **{("PMC4286912", t, 0): (None, _RESPECTIVELY) for t in ("≥93.6%", "≥88.5%")},
    ("PMC5807031", "HR 3.07", 0): ("13 fractions of 3.3 gy", "'higher after 13 fractions of 3.3 Gy': the schedule as the "
                                                              "text names that group (A); B kept the fraction size only"),
}


_SPLIT = ("'Of 16 patients that received Midazolam, 15 patients': one share 15/16 whose span covers "
          "both counts (SCHEMA: the span covers what the value is read from); B marked the numerator only")

_REPEAT = ("'1214 out of 8477 … responded …, for an overall response rate of 14.3%': the count and the percentage "
           "are two mentions of one share, each its own smallest stretch, and each mention counts, repeats of a value "
           "included (ANNOTATION: what counts); A's reading, B wrote one span over the clause")


def _smallest(kept_by: str, other_took: str) -> str:
    """Why the smaller of two spans of one item is kept (ANNOTATION: Span)."""
    other = "B" if kept_by == "A" else "A"
    return (f"the same item written with two spans: the smallest stretch that holds the number with its unit or "
            f"marker (ANNOTATION: Span), as {kept_by} wrote it; {other}'s span also took {other_took}")


def _smaller_span(stem: str, kept: tuple[str, int], dropped: tuple[str, int], why: str) -> dict[Key, tuple[bool, str]]:
    """One item two passes wrote with different spans: the one kept and the one dropped."""
    return {(stem, *kept): (True, why), (stem, *dropped): (False, why)}


_SMALLEST_B6 = _smallest("B", "'at least', 'each' or 'SVR'")
_SMALLEST_A11 = _smallest("A", "'students' or 'adjusted'")

# Items only one pass wrote with that span: kept (True) or dropped (False), and why.
SPANS: dict[Key, tuple[bool, str]] = {
    **{("PMC4639339", t, o): (True, _SPLIT)
       for t in ("16 patients that received Midazolam, 15 patients", "16 patients that received distilled water, only 11 patients")
       for o in (0, 1)},
    **{("PMC4639339", t, o): (False, _SPLIT) for t in ("15 patients", "11 patients") for o in (0, 1)},
    ("PMC5518919", "10 dropouts", 0): (False, "a count of dropouts with no stated share; B itself doubted it, A left it out"),
    **_smaller_span("PMC3540908", ("50%", 0), ("at least 50%", 0), _SMALLEST_B6),
    **_smaller_span("PMC5827478", ("14%", 0), ("14% each", 0), _SMALLEST_B6),
    **_smaller_span("PMC5840188", ("99%", 1), ("99% SVR", 0), _SMALLEST_B6),
    **{("PMC3327628", "1214 out of 8477", 0): (True, _REPEAT), ("PMC3327628", "14.3%", 0): (True, _REPEAT),
       ("PMC3327628", "1214 out of 8477 potentially eligible physicians responded to our survey, for an overall response "
                      "rate of 14.3%", 0): (False, _REPEAT)},
    **{("PMC4682219", t, 0): (False, "CIN2 and CIN3+ found per 1,000 women screened in a screening round: a prevalence "
                                     "found by screening, not a share of a group after treatment (ANNOTATION v1.1, "
                                     "'a prevalence of 3%'; batch 6's passes both left a TB screening yield out); A's call")
       for t in ("8.6/1,000", "6.6/1,000", "0.7/1,000", "0.4/1,000")},
    **_smaller_span("PMC3643134", ("All 12", 0), ("All 12 students", 0), _SMALLEST_A11),
    **_smaller_span("PMC5809875", ("OR 1.21, 95% CI .80–1.83, p = 0.36", 0),
                    ("adjusted OR 1.21, 95% CI .80–1.83, p = 0.36", 0), _SMALLEST_A11),
    ("PMC5446410", "three", 1): (False, "'The remaining three DSM265-treated … participants of cohort 2': a count with no "
                                        "share written ('N of M' or a percentage, ANNOTATION); A left it out"),
}

# Where the passes give an other_rate a different label: the label chosen and why.
_PROTECTED = ("'protected' after a malaria challenge is a target state reached, free of infection, as "
              "'pain-free' is (ANNOTATION v1.1: improvement); B's call, A read it as the prophylaxis endpoint")
LABELS: dict[Key, tuple[str, str]] = {
    ("PMC5446410", "Five of five", 0): ("improvement", _PROTECTED),
    ("PMC5446410", "six of six", 0): ("improvement", _PROTECTED),
    **{("PMC4286912", t, 0): ("other", _SEROPROTECTION) for t in ("≥93.6%", "≥88.5%", "≥60.8%", "≥98.2%")},
}

BATCHES = ("arms1", "arms2", "arms3", "arms4", "arms5", "arms6", "arms7", "arms8", "arms9", "arms10", "arms11")

# Where both passes agree but the project's convention, settled above on batches 1 and 2
# before batch 3 was labelled, names the arm otherwise: arms that share one drug keep the
# dose that tells them apart. Batch 3's passes both wrote the drug alone.
CONVENTION: dict[Key, tuple[str, str]] = {
    **{("PMC4015540", t, 0): (arm, _DOSE) for t, arm in (("84.7%", "duloxetine 40 mg"), ("84.9%", "duloxetine 60 mg"))},
    **{("PMC5346512", t, 0): (arm, _DOSE) for t, arm in (
        ("170/573", "vortioxetine 10 mg"), ("odds ratio [OR] relative to placebo 1.7", "vortioxetine 10 mg"),
        ("144/447", "vortioxetine 20 mg"), ("OR 1.6", "vortioxetine 20 mg"),
        ("207/757", "vortioxetine 5 mg"), ("OR 1.1", "vortioxetine 5 mg"),
        ("92/295", "vortioxetine 15 mg"), ("OR 1.3", "vortioxetine 15 mg"))},
}


def _pass(name: str) -> dict[Key, dict]:
    out: dict[Key, dict] = {}
    for batch in BATCHES:
        data = yaml.safe_load((HERE / "passes" / f"{batch}-{name}.yaml").read_text(encoding="utf-8"))
        out.update({(stem, i["text"], int(i.get("occurrence", 0))): i for stem, items in data.items() for i in items or []})
    return out


def reconciled() -> dict[str, list[dict]]:
    """PMC id -> its items ({text, occurrence, type, label?, arm}): pass A's order, then B's own.

    Raises SystemExit when the passes differ in their spans, types or labels, or in an arm
    that DECISIONS does not settle, or when a decision settles nothing.
    """
    a, b = _pass("A"), _pass("B")
    one_sided = set(a) ^ set(b)
    if one_sided != set(SPANS):
        raise SystemExit(f"spans only one pass wrote, undecided or decided needlessly: {sorted(one_sided ^ set(SPANS))}")
    out: dict[str, list[dict]] = {}
    unused = set(DECISIONS) | set(LABELS)
    for key in [*a, *(k for k in b if k not in a)]:
        if not SPANS.get(key, (True, ""))[0]:
            continue
        x = a.get(key) or b[key]
        y = b.get(key) or x  # an item one pass alone wrote is compared with itself
        if x.get("type") != y.get("type"):
            raise SystemExit(f"{key}: the passes differ in type: {x.get('type')!r} / {y.get('type')!r}")
        label = x.get("label")
        if label != y.get("label"):
            if key not in LABELS:
                raise SystemExit(f"{key}: the passes differ in label: {label!r} / {y.get('label')!r} and no decision")
            label = LABELS[key][0]
            unused.discard(key)
        arm = x.get("arm")
        if str(arm).lower() != str(y.get("arm")).lower():
            if key not in DECISIONS:
                raise SystemExit(f"{key}: arms {arm!r} / {y.get('arm')!r} and no decision")
            arm = DECISIONS[key][0]
            unused.discard(key)
        item = {"text": key[1], "occurrence": key[2], "type": x["type"]}
        if label is not None:
            item["label"] = label
        if key in CONVENTION:
            arm = CONVENTION[key][0]
        item["arm"] = None if arm is None else str(arm).lower()
        out.setdefault(key[0], []).append(item)
    if unused:
        raise SystemExit(f"decisions for items the passes agree on: {sorted(unused)}")
    return dict(sorted(out.items()))


def dump(gold: dict[str, list[dict]]) -> str:
    """The reconciled gold as the YAML text of arms.yaml."""
    head = "# Reconciled arm gold of the pmc-extra abstracts: written by reconcile.py, do not edit.\n"
    return head + yaml.safe_dump(gold, allow_unicode=True, sort_keys=False, width=120)


if __name__ == "__main__":
    (HERE / "arms.yaml").write_text(dump(reconciled()), encoding="utf-8", newline="\n")
    sys.exit(0)
