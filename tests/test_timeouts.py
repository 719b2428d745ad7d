"""Every compiled rule pattern runs with a time limit, and a timeout names its rule (issue 21 item 5).

`(?:q|qq)+z` passes the load-time probes (none of them holds a run of q) but backtracks
exponentially on a run of q's that no "z" follows: 40 of them in a short sentence stall it.
"""

from __future__ import annotations

import time

import pytest

from evidex.build import process_text
from evidex.rules import RuleError, load_rules
from evidex.timed import RuleTimeout

STALL = r"(?:q|qq)+z"
SENTENCE = "In 5 " + "q" * 40 + " and z, 45% responded."
AFTER = "Of them 45% " + "q" * 40 + " and z."  # a cue is looked for right of the share first


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_rule_stalling_on_a_short_sentence_times_out_and_is_named(rules_copy):
    """A text of 2,000 characters or less once ran with no time limit at all."""
    _edit(rules_copy / "regex" / "exclusions.yaml", "exclusions:\n", f"""exclusions:
  - id: excl.stalls
    reason: a test rule that backtracks on runs of q
    suppresses: all
    pattern: '\\d {STALL}'
    examples:
      match:
        - {{text: "5 qqz", in: "5 qqz"}}
""")
    rules = load_rules(rules_copy)
    assert len(SENTENCE) < 2000
    t = time.monotonic()
    result = process_text("p.txt", SENTENCE, rules)
    assert time.monotonic() - t < 15
    warned = [w for w in result.warnings if "excl.stalls" in w and "timed out" in w]
    assert warned and "regex/exclusions.yaml:excl.stalls" in warned[0], result.warnings
    assert any(m.text == "45%" for m in result.measures)  # the other rules still read the sentence


def test_a_damage_rule_timing_out_names_its_rule_and_reads_nothing_there(rules_copy):
    _edit(rules_copy / "regex" / "damage.yaml", "damage:\n", f"""damage:
  - id: damage.stalls
    reason: a test sign that backtracks on runs of q
    pattern: '{STALL}'
    examples:
      match:
        - {{text: "qqz", in: "qqz"}}
""")
    rules = load_rules(rules_copy)
    result = process_text("p.txt", "Ketamine helped.\n" + SENTENCE, rules)  # a document: one block
    warned = [w for w in result.warnings if "timed out" in w]
    assert warned and "regex/damage.yaml:damage.stalls" in warned[0] and "line 2" in warned[0], result.warnings
    assert not any(m.text == "45%" for m in result.measures)  # the stalled sentence's damage is unknown
    assert any(u.text == "45" and u.reason == "damaged_text" for u in result.uncovered)


def test_a_vocabulary_regex_is_probed_at_load(rules_copy):
    _edit(rules_copy / "vocab" / "arms.yaml", "  placebo: {patterns: [", "  placebo: {patterns: ['(?:\\d|\\d\\d)+\\.\\d', ")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert "arms.yaml" in str(err.value) and "arms.placebo" in str(err.value) and "catastrophic backtracking" in str(err.value)


def test_a_page_whose_vocabulary_regex_times_out_is_rejected_naming_the_rule(rules_copy, tmp_path):
    """Vocabulary regexes (cues, arms, conditions…) were neither probed nor timed."""
    from evidex.runner import run

    _edit(rules_copy / "vocab" / "outcomes.yaml", "cues:\n", f"cues:\n  - {{pattern: '{STALL}', type: other_rate, label: other}}\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "p.txt").write_text(AFTER, encoding="utf-8")
    (raw / "q.txt").write_text("Ketamine: 45% responded.", encoding="utf-8")
    summary = run(raw, tmp_path / "out", rules_copy)
    errors = {o.source: o.error for o in summary.outcomes if o.error}
    assert list(errors) == ["p.txt"] and "vocab/outcomes.yaml:cues[0] timed out" in errors["p.txt"], errors
    rules = load_rules(rules_copy)
    with pytest.raises(RuleTimeout) as err:
        process_text("p.txt", AFTER, rules)
    assert err.value.rule == "vocab/outcomes.yaml:cues[0]"
