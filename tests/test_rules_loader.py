"""Invalid rules are refused with file, line and rule id — never run with rules missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidex.rules import RuleError, load_rules
from evidex.runner import run

ROOT = Path(__file__).resolve().parent.parent


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_project_rules_load(rules):
    assert len(rules.recognizers) >= 20 and rules.token_patterns


def test_malformed_yaml(rules_copy):
    path = rules_copy / "regex" / "measures.yaml"
    _edit(path, "  - id: ratio.hazard\n", "  - id: ratio.hazard\n   bad: [unclosed\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert "measures.yaml" in str(err.value) and "malformed YAML" in str(err.value)
    assert err.value.line is not None


def test_unknown_key_names_file_line_and_id(rules_copy):
    path = rules_copy / "regex" / "measures.yaml"
    _edit(path, "  - id: ratio.hazard\n", "  - id: ratio.hazard\n    colour: blue\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "ratio.hazard"
    assert err.value.line == _line_of(path, "id: ratio.hazard")
    assert "colour" in str(err.value)


def test_invalid_regex(rules_copy):
    path = rules_copy / "regex" / "exclusions.yaml"
    _edit(path, "(?x) \\btimed\\s+", "(?x) \\btimed(\\s+")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "excl.therapy_timing" and "invalid regex" in str(err.value)
    assert str(path) in str(err.value)


def test_catastrophic_backtracking_is_rejected(rules_copy):
    path = rules_copy / "regex" / "damage.yaml"
    _edit(path, r"pattern: '(?x) \b(?:than|versus", r"pattern: '(?x) (?:\d|\d\d)+\.\d|\b(?:than|versus")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "damage.cut_comparison" and "catastrophic" in str(err.value)


def test_malformed_jsonl_names_line(rules_copy):
    path = rules_copy / "patterns" / "route.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:-1]  # drop the closing brace
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.line == 3 and "malformed JSON" in str(err.value)


def test_token_pattern_unknown_label(rules_copy):
    path = rules_copy / "patterns" / "route.jsonl"
    _edit(path, '"id": "route.im", "label": "IM"', '"id": "route.im", "label": "INTRAMUSC"')
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "route.im" and err.value.line == _line_of(path, '"route.im"')


def test_unknown_named_group(rules_copy):
    path = rules_copy / "regex" / "measures.yaml"
    _edit(path, "{{RATIO_VALUE}} {{BARE_CI}} {{STATS}}\n    examples:\n      match:\n        - {text: \"OR 1.68",
          "(?P<valu>{{NUM}}) {{BARE_CI}} {{STATS}}\n    examples:\n      match:\n        - {text: \"OR 1.68")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "ratio.odds" and "valu" in str(err.value)


def test_duplicate_ids(rules_copy):
    path = rules_copy / "regex" / "measures.yaml"
    _edit(path, "  - id: ratio.hazard\n", "  - id: ratio.odds\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert "duplicate id" in str(err.value)


def test_rule_without_examples(rules_copy):
    path = rules_copy / "regex" / "damage.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    examples:\n      match:\n        - {text: \"than.\"")
    end = text.index("  - id: damage.doubled_word_across_gap")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "damage.cut_comparison" and "example" in str(err.value)


def test_run_refuses_invalid_rules_and_leaves_outputs(rules_copy, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "studies.csv").write_text("previous\n", encoding="utf-8")
    _edit(rules_copy / "regex" / "measures.yaml", "  - id: ratio.hazard\n", "  - id: ratio.hazard\n    colour: blue\n")
    with pytest.raises(RuleError):
        run(ROOT / "raw", out, rules_copy)
    assert (out / "studies.csv").read_text(encoding="utf-8") == "previous\n"


def test_dose_unit_part_outside_schema_is_refused(rules_copy):
    """A dose-unit part whose canonical name is not SCHEMA v1.1 (amount[/kg][/h|/min|/day]) is refused."""
    _edit(rules_copy / "vocab" / "units.yaml", "    mg: 'milligrams?|mg'\n", "    mgs: 'milligrams?|mg'\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert "units.yaml" in str(err.value) and "mgs" in str(err.value)


def test_dose_unit_spellings_must_not_capture(rules_copy):
    _edit(rules_copy / "vocab" / "units.yaml", "    mg: 'milligrams?|mg'\n", "    mg: '(milligrams?)|mg'\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert "must not capture" in str(err.value)


def test_token_pattern_the_tokenizer_splits_is_refused(rules_copy):
    """'i.v.' is two tokens for spaCy's blank English tokenizer unless it is a special case."""
    _edit(rules_copy / "patterns" / "tokenizer.yaml", '"i.v.", ', "")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "route.iv" and "route.jsonl" in str(err.value)
    assert err.value.line == _line_of(rules_copy / "patterns" / "route.jsonl", '"id": "route.iv"')
    assert "'i.v.' can never match" in str(err.value) and "['i.v', '.']" in str(err.value)


def test_token_pattern_holding_a_space_is_refused(rules_copy):
    path = rules_copy / "patterns" / "route.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "route.intra_venous", "label": "IV", "pattern": [{"LOWER": "intra venous"}], '
                 '"examples": {"match": [], "no_match": ["intra venous"]}}\n')
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.rule_id == "route.intra_venous" and err.value.line == _line_of(path, "route.intra_venous")
    assert "'intra venous' can never match" in str(err.value)


def test_special_cases_make_dotted_routes_match(rules):
    from evidex.build import process_text

    measures = process_text("x.txt", "Maintenance was 1 mg/kg s.c. weekly, then 25 mg p.o. daily.", rules).measures
    assert [(m.text, m.label) for m in measures if m.type == "route"] == [("s.c.", "SC"), ("p.o.", "ORAL")]


def test_an_outcome_cue_that_only_looks_left_is_a_rules_edit(rules_copy):
    """Issue #17's newcomer edit: a cue with `direction: left` types the share before it, not after."""
    from evidex.build import process_text

    _edit(rules_copy / "vocab" / "outcomes.yaml", "cues:\n",
          "cues:\n  - {pattern: '\\bbenefit(?:ed|s)?\\b', type: other_rate, label: improvement, direction: left, max_scope: 40}\n")
    rules = load_rules(rules_copy)

    def label(text: str) -> str | None:
        (m,) = [m for m in process_text("x.txt", text, rules).measures if m.type.endswith("_rate")]
        return m.label

    assert label("Overall, 40% of patients benefited at week 4.") == "improvement"
    assert label("Those who benefited were few: 40% of patients at week 4.") == "other"
    assert label("40% of the patients, all of them in the first cohort of the trial, benefited.") == "other"  # past max_scope


def test_cue_direction_must_be_left_right_or_both(rules_copy):
    _edit(rules_copy / "vocab" / "outcomes.yaml", "cues:\n",
          "cues:\n  - {pattern: '\\bbenefited\\b', type: other_rate, label: improvement, direction: up}\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert "outcomes.yaml" in str(err.value) and "direction" in str(err.value)
