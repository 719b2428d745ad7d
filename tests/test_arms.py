"""The `arm` of rates, effects, ratios and NNT: every example of rules/vocab/arms.yaml, and the group finder's edges."""

from __future__ import annotations

import pytest

from evidex.arms import ArmLinker
from evidex.build import process_text
from evidex.drugs import DrugLinker
from evidex.models import ARMED_TYPES

from conftest import project_rules

RULES = project_rules()
ARMED = ARMED_TYPES


@pytest.mark.parametrize("example", [
    pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=e.xfail)) if e.xfail else e
    for e in RULES.arm_examples], ids=lambda e: f"{e.value}:{e.text[:40]}")
def test_arm_example(rules, example):
    measures = process_text("example.txt", example.text, rules).measures
    hits = [m for m in measures if m.text == example.value and m.type in ARMED]
    assert hits, f"{example.value!r} is not read as a rate, effect or ratio in {example.text!r}: {measures}"
    assert hits[0].arm == example.arm


def _linker(rules) -> ArmLinker:
    return ArmLinker(rules.arm_tables, DrugLinker(rules.drug_index))


def test_group_names_are_cut_at_stop_words_and_lower_cased(rules):
    text = "Patients in the Enhanced Intervention group and in both study groups; the alcohol and mechanical groups; Group RL."
    names = [m.name for m in _linker(rules).mentions(text, [(0, len(text))])]
    assert names == ["enhanced intervention", "alcohol", "mechanical", "group rl"]


def test_mentions_are_disjoint_and_grounded(rules):
    text = "the single-injection palonosetron group versus palonosetron and ketamine-treated rats"
    found = _linker(rules).mentions(text, [(0, len(text))])
    assert [(text[m.start:m.end], m.name) for m in found] == [
        ("single-injection palonosetron group", "single-injection palonosetron"), ("palonosetron", "palonosetron"),
        ("ketamine-treated", "ketamine")]
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


def test_default_is_null_when_a_block_compares_groups(rules):
    linker = _linker(rules)
    text = "Patients were randomised to sertraline or placebo."
    assert linker.block_arms(text, [(0, len(text))]).default is None
    single = "All patients received sertraline; sertraline was well tolerated."
    assert linker.block_arms(single, [(0, len(single))]).default == "sertraline"
    assert linker.block_arms("No group is named here.", [(0, 23)], page_arm="ketamine").default == "ketamine"
