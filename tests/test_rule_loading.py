"""Rule loading refuses what cannot work, and stays fast on large vocabularies (issue 21 item 14)."""

from __future__ import annotations

import json
import time

import pytest

from evidex.prefilter import Trigger, TriggerSet
from evidex.rules import MAX_ALIASES, RuleError, load_rules


def _add_route(rules_copy, pattern: list[dict]) -> int:
    path = rules_copy / "patterns" / "route.jsonl"
    entry = {"id": "route.bad", "label": "IV", "pattern": pattern,
             "examples": {"match": [{"text": "IV", "in": "IV ketamine"}], "no_match": []}}
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, json.dumps(entry)]) + "\n", encoding="utf-8")
    return len(lines) + 1


@pytest.mark.parametrize("pattern", [
    [{"TEXT": {"REGEX": "^\\p{Lu}{2}$"}}],  # `regex` reads \p{Lu}; the Matcher's `re` does not
    [{"TEXTX": "IV"}],  # no such token attribute
    [{"TEXT": "IV", "OP": "++"}],  # no such operator
], ids=["re-regex", "attribute", "op"])
def test_a_token_pattern_the_matcher_refuses_is_a_rule_error(rules_copy, pattern):
    """These passed check-rules and crashed `evidex run` when the Matcher was built."""
    line = _add_route(rules_copy, pattern)
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.path.endswith("route.jsonl") and err.value.line == line and err.value.rule_id == "route.bad", str(err.value)


def _append(path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_yaml_alias_bomb_is_refused_with_its_file_and_line(rules_copy):
    """Nine levels of ten aliases expand to 10^9 nodes: PyYAML built them all (a 3.7 GB MemoryError)."""
    path = rules_copy / "vocab" / "bounds.yaml"
    lines = ['bomb0: &b0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, 9)]
    _append(path, "\n" + "\n".join(lines) + "\n")
    t = time.monotonic()
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert time.monotonic() - t < 30
    assert err.value.path.endswith("bounds.yaml") and err.value.line is not None and "alias" in str(err.value)


def test_too_many_aliases_are_refused_and_a_few_are_fine(rules_copy):
    path = rules_copy / "vocab" / "bounds.yaml"
    _append(path, "\nshared: &shared [a, b]\nuses: [*shared, *shared]\n")
    load_rules(rules_copy)  # a few aliases: fine
    _append(path, "many: [" + ", ".join(["*shared"] * (MAX_ALIASES + 1)) + "]\n")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert f"more than {MAX_ALIASES} YAML aliases" in str(err.value) and err.value.line is not None


def test_many_literal_gates_are_indexed_in_linear_time():
    """A 20k-term condition vocabulary made the gate index scan every trigger per literal
    (quadratic: check-rules took 133 s)."""
    gates = [Trigger(f"\\bterm{i:05d}x\\b", literals_only=True) for i in range(20_000)]
    t = time.monotonic()
    index = TriggerSet(gates)
    assert time.monotonic() - t < 15
    text = "a term00042x and a term19999x"
    held = index.holding(text, [(0, len(text))])
    assert set(held) == {gates[42].key, gates[19_999].key}
