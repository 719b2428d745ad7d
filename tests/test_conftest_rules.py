"""The test session's shared rule loading (conftest.load_rules_once) is exactly load_rules:
the same files give the same rule set, an edited or broken directory is loaded afresh."""

from __future__ import annotations

import pytest

import evidex.runner
from evidex.rules import RuleError

from conftest import load_rules_once, project_rules


def test_same_files_share_one_rule_set_and_runs_use_it(rules):
    assert rules is project_rules()
    assert evidex.runner.load_rules is load_rules_once  # in-process runs load through it


def test_an_edited_rules_directory_is_loaded_again(rules_copy, rules):
    first = load_rules_once(rules_copy)
    assert load_rules_once(rules_copy) is first and first.digest == rules.digest
    path = rules_copy / "vocab" / "arms.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = load_rules_once(rules_copy)
    assert edited is not first and edited.digest != first.digest
    path.write_text(path.read_text(encoding="utf-8") + "\nnot: [valid\n", encoding="utf-8")
    for _ in range(2):  # a failed load is never kept
        with pytest.raises(RuleError):
            load_rules_once(rules_copy)
