"""Every rule's own examples, run by one generic test (adding a rule adds data, not code).

Each regex rule (recognizers, exclusions, damage signs) must hit every `match` example
with exactly the given `text` and must not hit any `no_match` example. Each spaCy token
pattern must produce a route of its label from its `match` examples and nothing from its
`no_match` ones. Known failures live in `tests/rule_known_failures.yaml` and run as
xfail(strict=True): fixing one turns CI red until the list is updated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidex.extract import Extractor
from evidex.segment import Block, Span

from conftest import project_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = project_rules()
KNOWN = yaml.safe_load((Path(__file__).parent / "rule_known_failures.yaml").read_text(encoding="utf-8")) or {}
KNOWN_FAILURES = {(k["rule_id"], k["example"]): k["reason"] for k in KNOWN.get("failures", [])}


def _params():
    for compiled in (*RULES.recognizers, *RULES.exclusions, *RULES.damage):
        for ex in compiled.entry.examples.match:
            yield compiled.id, "match", ex.in_, ex.text
        for sentence in compiled.entry.examples.no_match:
            yield compiled.id, "no_match", sentence, None
    for pattern in RULES.token_patterns:
        for ex in pattern.examples.match:
            yield pattern.id, "match", ex.in_, ex.text
        for sentence in pattern.examples.no_match:
            yield pattern.id, "no_match", sentence, None


def _marks(rule_id: str, sentence: str):
    reason = KNOWN_FAILURES.get((rule_id, sentence))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


PARAMS = [pytest.param(*p, id=f"{p[0]}:{p[1]}:{p[2][:40]}", marks=_marks(p[0], p[2])) for p in _params()]


@pytest.fixture(scope="module")
def extractor():
    return Extractor(RULES)


def _route_hits(extractor: Extractor, sentence: str, rule_id: str) -> list[str]:
    block = Block(1, 0, len(sentence), None, Span(0, len(sentence), 1), None)
    res = extractor.extract_block(sentence, block)
    return [sentence[d.start:d.end] for d in res.drafts if d.rule_id == rule_id]


@pytest.mark.parametrize(("rule_id", "kind", "sentence", "text"), PARAMS)
def test_rule_example(extractor, rule_id, kind, sentence, text):
    compiled = RULES.by_id.get(rule_id)
    if compiled is not None:
        hits = [m.group() for m in extractor.rule_matches(compiled, sentence)]
    else:
        hits = _route_hits(extractor, sentence, rule_id)
    if kind == "match":
        assert hits, f"{rule_id} should match in {sentence!r}"
        if text is not None:
            assert text in hits, f"{rule_id} matched {hits} in {sentence!r}, expected {text!r}"
        if compiled is not None and compiled.id.split(".")[0] != "damage":
            # The extractor runs a rule only on sentences that hold a number and the
            # rule's trigger; a match without either would be silently skipped.
            for hit in hits:
                assert extractor.anchor_re.search(hit), f"{rule_id}: match {hit!r} holds no number, digit, counted unit or fold word"
            if compiled.trigger is not None:
                assert compiled.trigger.holds(sentence), (
                    f"{rule_id}: trigger {compiled.entry.trigger!r} misses {sentence!r}"
                )
    else:
        assert not hits, f"{rule_id} should not match {sentence!r} but found {hits}"


def test_every_rule_has_examples():
    for compiled in (*RULES.recognizers, *RULES.exclusions, *RULES.damage):
        assert compiled.entry.examples.match, compiled.id
    for pattern in RULES.token_patterns:
        assert pattern.examples.match, pattern.id


def test_known_failures_name_real_rules():
    ids = set(RULES.by_id) | {p.id for p in RULES.token_patterns}
    for rule_id, _example in KNOWN_FAILURES:
        assert rule_id in ids, f"rule_known_failures.yaml names unknown rule {rule_id}"


def test_split_anchor_scan_equals_the_one_alternation(extractor):
    """`anchors()` merges a digit scan and a spelled-number scan; it must find exactly
    what the single `anchor_re` alternation finds, on real text and rule examples."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))]
    texts += [ex.in_ for c in (*RULES.recognizers, *RULES.exclusions) for ex in c.entry.examples.match]
    texts += ["twenty-one of 40 (52.5%) within a week; threefold; one in 3; 1.5-fold; zero; An hour"]
    for text in texts:
        expected = [m.span() for m in extractor.anchor_re.finditer(text)]
        assert [(a, b) for a, b, _ in extractor.anchors(text)] == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["one", "Twenty", "twenty-one", "twenty  one", "a", "An", "week", "first", "month", "fold",
                                  "three", "third", "-", "x", "5", "1.5", " ", "_", "é", "K", "ſ", "İ", "ß", "\n"]), max_size=12))
def test_split_anchor_scan_on_generated_text(extractor, parts):
    text = "".join(parts)
    assert [(a, b) for a, b, _ in extractor.anchors(text)] == [m.span() for m in extractor.anchor_re.finditer(text)]
