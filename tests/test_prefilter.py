"""Literal prefilters of triggers (pipeline/prefilter.py): derived right, never too strict.

A prefilter that misses a sentence the trigger regex matches would silently drop every
value of its rules there, so soundness is checked against the regex itself: on every
shipped trigger, over the sentences of the raw pages, the rule examples and generated
text full of case-folding traps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract import split_sentences
from pipeline.prefilter import Trigger, required_literals
from pipeline.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules")
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
    assert trigger.holds("αβx", "αβx", 0, 3) and not trigger.holds("abx", "abx", 0, 3)


def _agrees(trigger: Trigger, sentence: str) -> None:
    folded = sentence.casefold()
    if len(folded) != len(sentence):
        folded = None
    expected = trigger.regex.search(sentence) is not None
    assert trigger.holds(sentence, folded, 0, len(sentence)) == expected, (trigger, sentence)
    if expected:
        assert trigger.may_hold(sentence, folded, 0, len(sentence)), (trigger, sentence)


def _page_sentences() -> list[str]:
    out = []
    for path in sorted((ROOT / "raw").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[s.start:s.end] for s in split_sentences(text, 0, len(text), "findings")]
    return out


def _example_sentences() -> list[str]:
    out = []
    for c in (*RULES.recognizers, *RULES.exclusions):
        out += [ex.in_ for ex in c.entry.examples.match] + list(c.entry.examples.no_match)
    return out


@pytest.mark.parametrize("pattern", TRIGGERS)
def test_prefilter_agrees_with_regex_on_real_text(pattern):
    trigger = Trigger(pattern)
    sentences = _page_sentences() + _example_sentences()
    assert sentences
    for sentence in sentences:
        _agrees(trigger, sentence)


# Case-folding traps: Kelvin sign (k), long s (s), micro sign (μ), sharp s (ss), dotted I.
TRAPS = "Kſµμßİ"
WORDS = ["OR", "or", "odds", "ODDS", "HR", "hazard", "mg", "MG", "µg", "MCG", "day", "DAYS", "week", "h", "in", "of",
         "CI", "NNT", "needed", "likely", "effect size", "Cohen", "d=", "r =", "g ≈", "1/2", "%", "percent", "per cent",
         "1999", "stud", "trial", "point", "mmHg", "SpO2", "first", "third"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(alphabet=TRAPS + "abdhgikmorsy =%/1 ", max_size=6)), max_size=8))
def test_prefilter_agrees_with_regex_on_generated_text(parts):
    sentence = " ".join(parts)
    for pattern in TRIGGERS:
        _agrees(Trigger(pattern), sentence)
