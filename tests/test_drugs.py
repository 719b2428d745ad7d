"""The `drug` of doses and routes: every example of rules/vocab/drugs.yaml, and the matcher's edges."""

from __future__ import annotations

import pytest
import regex

from evidex.build import process_text
from evidex.compiled import drug_index
from evidex.drugs import DrugLinker, drug_spellings, fold

from conftest import project_rules

RULES = project_rules()


@pytest.mark.parametrize("example", [
    pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=e.xfail)) if e.xfail else e
    for e in RULES.drugs.examples], ids=lambda e: e.text[:40])
def test_drug_example(rules, example):
    measures = process_text("example.txt", example.text, rules).measures
    hits = [m for m in measures if m.text == example.value and m.type in ("dose", "route")]
    assert hits, f"{example.value!r} is not read as a dose or route in {example.text!r}: {measures}"
    assert hits[0].drug == example.drug


def test_lexicon_adds_substances_the_vocabulary_does_not_list(rules):
    assert rules.drug_names["butorphanol"] == "butorphanol"
    assert rules.drug_names["spravato"] == "esketamine"  # a brand is named by its substance
    assert "all clear" not in rules.drug_names  # an English phrase the lexicon lists
    assert "placebo" not in rules.drug_names and "cbt" not in rules.drug_names


def test_mentions_are_whole_words_longest_first_and_grounded():
    linker = DrugLinker(drug_index(drug_spellings({"ketamine": ["racemic ketamine"], "esketamine": ["S-ketamine"]}, "none", []),
                                   {"dose": ["before"]}, regex.compile(r"\s*")))
    text = "İİ racemic Ketamine, S-ketamine and ketamines; xketamine"
    found = linker.mentions(text, 0, len(text))
    assert [(text[m.start:m.end], m.name) for m in found] == [("racemic Ketamine", "ketamine"), ("S-ketamine", "esketamine")]


def test_fold_keeps_offsets():
    assert len(fold("İstanbul ketamine")) == len("İstanbul ketamine")
    assert fold("KETAMINE") == "ketamine"
