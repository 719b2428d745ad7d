"""Literal prefilters of triggers (pipeline/prefilter.py): derived right, never too strict.

A prefilter that misses a sentence the trigger regex matches would silently drop every
value of its rules there, so soundness is checked against the regex itself: on every
shipped trigger, over the sentences of the raw pages, the rule examples and generated
text full of case-folding traps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidex.extract import split_sentences
from evidex.prefilter import Trigger, TriggerSet, lookaround_literals, required_literals

from conftest import PMC_DEV, needs_pmc_dev, project_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = project_rules()
TRIGGERS = sorted({c.entry.trigger for c in (*RULES.recognizers, *RULES.exclusions) if c.entry.trigger})


@pytest.mark.parametrize(
    ("pattern", "cased", "folded", "complete"),
    [
        ("OR|(?i:odds)", ("OR",), ("odds",), True),
        ("(?i:mg|µg|μg|mcg)", (), ("mcg", "mg", "μg"), True),  # µ (micro sign) folds to μ
        ("[=≈]", ("=", "≈"), (), True),
        (r"(?i:effect\s+size)", (), ("effect",), False),
        (r"\bd\s?[=≈]|Cohen", ("=", "Cohen", "≈"), (), False),  # a sign is rarer than "d"
        (r"(?i:(?<![a-z])(?:hour|hr)|\bh\b)", (), ("h",), False),  # "hour" holds "h"
        (r"(?:19|20)\d\d", ("19", "20"), (), False),
        (r"(?i:\bin\b)", (), ("in",), False),
        (r"\d+", (), (), False),  # nothing fixed to look for
        (r"a(?i:b)", ("a",), (), False),  # "ab" is neither as written nor folded: one part
    ],
)
def test_derived_literals(pattern, cased, folded, complete):
    trigger = Trigger(pattern)
    if not cased and not folded:
        assert not trigger.has_literals
    else:
        assert (trigger.cased, trigger.folded, trigger.complete) == (cased, folded, complete)


def test_unparsable_trigger_gets_no_prefilter():
    # \p{...} is regex-only syntax: the stdlib parser refuses it, so the regex decides alone.
    assert required_literals(r"\p{Greek}+x") == (None, False)
    trigger = Trigger(r"\p{Greek}+x")
    assert trigger.holds("αβx") and not trigger.holds("abx")


ALL = TriggerSet(Trigger(p) for p in TRIGGERS)


def _agrees(sentences: list[str]) -> None:
    """Every trigger holds in exactly the sentences its regex matches in, tested one by one
    and as the extractor tests them: all triggers together over spans of one text."""
    text = " ".join(sentences)
    spans, at = [], 0
    for s in sentences:
        spans.append((at, at + len(s)))
        at += len(s) + 1
    held = ALL.holding(text, spans)
    lazy = ALL.holding_lazily(text, spans)
    for trigger in ALL.triggers:
        expected = [k for k, s in enumerate(sentences) if trigger.regex.search(s)]
        assert held.get(trigger.pattern, []) == expected, trigger
        assert (lazy.admitted((trigger.key,)) if trigger.key in lazy.present() else []) == expected, trigger
        for k, s in enumerate(sentences):
            assert trigger.holds(s) == (k in expected), (trigger, s)


def _page_sentences() -> list[str]:
    out = []
    for path in sorted((ROOT / "raw").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[s.start:s.end] for s in split_sentences(text, 0, len(text), "findings", RULES.extract_tables.sentence_abbreviations)]
    return out


def _example_sentences() -> list[str]:
    out = []
    for c in (*RULES.recognizers, *RULES.exclusions, *RULES.damage):
        out += [ex.in_ for ex in c.entry.examples.match] + list(c.entry.examples.no_match)
    return out


def test_prefilter_agrees_with_regex_on_real_text():
    sentences = _page_sentences() + _example_sentences()
    assert len(sentences) > 300
    for k in range(0, len(sentences), 20):  # texts of 20 sentences, like a long cell
        _agrees(sentences[k:k + 20])


# Case-folding traps: Kelvin sign (k), long s (s), micro sign (μ), sharp s (ss), dotted I.
TRAPS = "Kſµμßİ"
WORDS = ["OR", "or", "odds", "ODDS", "HR", "hazard", "mg", "MG", "µg", "MCG", "day", "DAYS", "week", "h", "in", "of",
         "CI", "NNT", "needed", "likely", "effect size", "Cohen", "d=", "r =", "g ≈", "1/2", "%", "percent", "per cent",
         "1999", "stud", "trial", "point", "mmHg", "SpO2", "first", "third"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(alphabet=TRAPS + "abdhgikmorsy =%/1 ", max_size=6)), max_size=8))
def test_prefilter_agrees_with_regex_on_generated_text(parts):
    _agrees([" ".join(parts[:3]), " ".join(parts[3:])])


def test_regex_only_syntax_gets_no_literals():
    # re reads "[[:alpha:]]" as a set plus a literal "]" and only warns: no literals from it.
    assert required_literals(r"[[:alpha:]]x") == (None, False)
    assert required_literals(r"(?|a(b)|c(d))x") == (None, False)  # branch reset


def test_rule_gate_literals_come_from_the_pattern_with_its_flags():
    gate = Trigger.gate(r"(?x) (?P<value>\d+) \s? (?:mg|µg)  # a dose", ignorecase=True)
    assert gate is not None and gate.folded == ("mg", "μg") and gate.regex is None
    assert Trigger.gate(r"\d+", ignorecase=False) is None  # nothing to test: no gate


@pytest.mark.parametrize("rule_id", [c.id for c in (*RULES.recognizers, *RULES.exclusions, *RULES.damage) if c.gate is not None])
def test_rule_gate_admits_every_match(rule_id):
    """A gate that refused a sentence the rule matches would drop its values silently."""
    compiled = RULES.by_id[rule_id]
    gates = TriggerSet([compiled.gate])
    for sentence in _page_sentences() + _example_sentences():
        if compiled.regex.search(sentence):
            assert gates.holding(sentence, [(0, len(sentence))]), (rule_id, sentence)
            assert compiled.gate.literals_in(sentence), (rule_id, sentence)


@pytest.mark.parametrize(("pattern", "ignorecase", "expected"), [
    (r"(?<=\bAt\s+baseline,\s[^.;]{0,150}?)\d+%", False, ({("baseline,", False)},)),
    (r"(?<=baseline)\d(?=\s?weeks)", True, ({("baseline", True)}, {("weeks", True)})),
    (r"(?<!never)\d+", False, ()),  # a negative lookaround requires nothing
    (r"(?:(?<=past)\s)?\d+", False, ()),  # nor one that a match may skip
    (r"\d+", False, ()),
    (r"(?<=[ab])\d", False, ({("a", False), ("b", False)},)),
])
def test_lookaround_literals(pattern, ignorecase, expected):
    assert [set(found) for found in lookaround_literals(pattern, ignorecase)] == [set(e) for e in expected]


def _abstract_texts() -> list[str]:
    corpus = PMC_DEV
    if not (corpus / "index.json").exists():
        return []
    index = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    return [(corpus / e["file"]).read_text(encoding="utf-8") for e in index if e["split"] == "dev"]


@needs_pmc_dev
def test_lazy_holding_admits_what_holding_admits_for_every_rule():
    """The extractor's gates over whole texts (page, abstracts): for each rule's keys, the
    spans `Holding.admitted` gives are the intersection of `holding`'s spans of each key."""
    tables = RULES.extract_tables
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))] + _abstract_texts()
    assert len(texts) > 20
    checked = 0
    for text in texts:
        spans = [(s.start, s.end) for s in split_sentences(text, 0, len(text), "findings", tables.sentence_abbreviations)]
        held = tables.gates.holding(text, spans)
        lazy = tables.gates.holding_lazily(text, spans)
        assert set(held) <= set(lazy.present())
        for _rule, keys, needed in (*tables.exclusion_plan, *tables.recognizer_plan):
            if not keys:
                continue
            expected = sorted(set(held[keys[0]]).intersection(*(held[k] for k in keys[1:]))) if set(held) >= needed else []
            got = lazy.admitted(keys) if set(lazy.present()) >= needed else []
            assert got == expected, (_rule.id, text[:60])
            checked += bool(expected)
    assert checked > 500


def test_a_trigger_regex_runs_only_where_the_other_keys_hold():
    class Counting:
        """A trigger regex that counts the spans it is asked about."""

        def __init__(self, real):
            self.real, self.asked = real, []

        def search(self, text, pos, endpos):
            self.asked.append((pos, endpos))
            return self.real.search(text, pos, endpos)

    trigger = Trigger(r"\bd\s?=")  # literal "=", then confirmed by its regex
    gate = Trigger.gate(r"Cohen", False)
    assert not trigger.complete and gate is not None
    counting = Counting(trigger.regex)
    trigger.regex = counting
    text = "x = 1. d = 0.4. Cohen said d = 0.5. y = 2."
    spans = [(0, 6), (7, 15), (16, 35), (36, 42)]
    lazy = TriggerSet([trigger, gate]).holding_lazily(text, spans)
    assert lazy.admitted((trigger.key, gate.key)) == [2]
    assert counting.asked == [spans[2]]  # not the three other sentences holding "="
    assert lazy.admitted((trigger.key,)) == [1, 2]
    assert counting.asked == [spans[2], spans[0], spans[1], spans[3]]  # each span confirmed once
