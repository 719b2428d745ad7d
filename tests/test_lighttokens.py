"""spaCy's tokenizer and Matcher without spaCy (pipeline/lighttokens.py) equal spaCy's own.

`evidex extract` on a warm rule cache tokenizes and matches the route patterns with
`LightTokenizer` / `LightMatcher` over tables exported from spaCy's tokenizer. That is
sound only if they give spaCy's tokens (text and offset), spaCy's matches in spaCy's
order and spaCy's `char_span(..., alignment_mode="expand")` on every text: checked here
on every line and whole text of the pages, abstracts and case sentences the project
has, every rule example, and random strings of punctuation, spaces, unicode, route
words and special cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidex.compiled import _matcher, tokenizer_nlp
from evidex.ingest import read_source
from evidex.lighttokens import (
    LightMatcher,
    LightTokenizer,
    TokenizerTables,
    export_tables,
    supported,
)

from conftest import PMC_DEV, needs_pmc_dev

ROOT = Path(__file__).resolve().parent.parent
CORPUS = PMC_DEV  # dev and test texts: tokens only, no scores read
TEXT_DIRS = [ROOT / "raw", ROOT / "tests" / "heldout", ROOT / "tests" / "heldout" / "clinic-two", CORPUS]
CASE_DIRS = [ROOT / "tests" / "cases", ROOT / "tests" / "cases_heldout"]


@pytest.fixture(scope="module")
def engines(rules) -> tuple[Any, Any, LightTokenizer, LightMatcher, TokenizerTables]:
    """spaCy's tokenizer and Matcher as the extractor builds them, and the light pair from their tables."""
    nlp = tokenizer_nlp(rules.tokenizer_special_cases)
    matcher = _matcher(rules, nlp)
    tables = export_tables(nlp, rules.tokenizer_special_cases)
    assert tables is not None
    specs = [(p.id, p.pattern) for p in rules.token_patterns]
    assert supported(specs)
    return nlp, matcher, LightTokenizer(tables), LightMatcher(specs), tables


def _texts() -> list[str]:
    out = []
    for d in TEXT_DIRS:
        out += [read_source(p, d).text for p in sorted(d.glob("*.txt"))]
    for path in sorted(p for d in CASE_DIRS for p in d.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [case["text"] for case in data.get("cases") or [] if case.get("text")]
    return out


def _rule_examples(rules) -> list[str]:
    out = []
    for p in rules.token_patterns:
        out += [e.in_ for e in p.examples.match] + [e.text for e in p.examples.match if e.text] + list(p.examples.no_match)
    for r in (*rules.recognizers, *rules.exclusions, *rules.damage):
        out += [e.in_ for e in r.entry.examples.match] + list(r.entry.examples.no_match)
    return out


def _same(engines, text: str) -> None:
    """Tokens, matches and every token-edge char_span equal spaCy's on `text`."""
    nlp, matcher, light, light_matcher, _ = engines
    doc, mine = nlp.make_doc(text), light(text)
    assert [t.text for t in doc] == mine.words, text
    assert [t.idx for t in doc] == mine.idx, text
    assert [t.lower_ for t in doc] == [mine[i].lower_ for i in range(len(mine))], text
    strings = nlp.vocab.strings
    assert [(strings[m], s, e) for m, s, e in matcher(doc)] == light_matcher(mine), text


def _same_spans(engines, text: str, pairs: list[tuple[int, int]]) -> None:
    nlp, _, light, _, _ = engines
    doc, mine = nlp.make_doc(text), light(text)
    for a, b in pairs:
        span, own = doc.char_span(a, b, alignment_mode="expand"), mine.char_span(a, b)
        assert (span is None) == (own is None), (text, a, b)
        if span is not None and own is not None:
            assert (span.start, span.end, span.start_char, span.end_char) == (own.start, own.end, own.start_char, own.end_char), \
                (text, a, b)


def test_the_tables_hold_the_special_cases_and_compiled_code(engines, rules):
    *_, tables = engines
    assert set(rules.tokenizer_special_cases) <= set(tables.specials)
    assert tables.specials["i.v."] == ("i.v.",) and tables.specials["don't"] == ("do", "n't")
    assert ("i.v", ".") in tables.phrases  # spaCy looks for "i.v." after tokenizing too
    assert set(tables.codes) == {"prefix", "suffix", "infix", "url_match"}  # English has no token_match
    assert TokenizerTables.from_data(tables.to_data()) == tables
    assert TokenizerTables.from_data({**tables.to_data(), "stale": {"x": ["x"]}}) is None


@needs_pmc_dev
def test_every_line_and_text_tokenizes_and_matches_as_spacy(engines):
    texts = _texts()
    assert len(texts) > 150
    lines = 0
    for text in texts:
        _same(engines, text)
        for line in text.splitlines(keepends=True):
            _same(engines, line)
            lines += 1
    assert lines > 1_000


def test_every_rule_example_tokenizes_and_matches_as_spacy(engines, rules):
    examples = _rule_examples(rules)
    assert len(examples) > 300
    for text in examples:
        _same(engines, text)
        _same_spans(engines, text, [(a, b) for a in range(len(text) + 1) for b in range(a + 1, min(len(text), a + 12) + 1)])


def test_char_span_expand_equals_spacys_on_every_pair_of_offsets(engines):
    for text in ["IV  ketamine\t(i.v.), 0.5mg/kg-1; don't  stop.", " lead, trail ", "45\u00ad5% and 45~50%.", "a", ""]:
        _same_spans(engines, text, [(a, b) for a in range(-1, len(text) + 2) for b in range(a, len(text) + 2)])


PIECES = ["IV", "IN", "IM", "SC", "i.v.", "I.V.", "p.o.", "s.c.", "i.v", "b.i.d.", "intravenous", "Intravenously", "oral",
          "oral-health", "nasal", "spray", "per", "os", "ketamine", "esketamine", "and", "vs.", "vs", "/", ",", "-", "(", ")",
          "[", "]", "\"", "'", "don't", "can't", "U.S.", "e.g.", "Dr.", "mg/kg", "0.5", "45%", "1,000", "http://x.org/a?b=1",
          "a@b.com", ":)", "<3", "...", "—", "–", "’", "“", "”", "μg", "½", "°C", "é", "日本", "🙂", "\u00ad", "\u200b"]
SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\x1c", "\u2009", "", "", ""]


@settings(max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PIECES) | st.text(min_size=1, max_size=4), st.sampled_from(SPACES)),
                min_size=1, max_size=12))
def test_random_strings_tokenize_and_match_as_spacy(engines, parts):
    text = "".join(piece + space for piece, space in parts)
    _same(engines, text)
    _same(engines, text.upper())
    _same_spans(engines, text, [(a, min(len(text), a + k)) for a in range(len(text)) for k in (1, 2, 5)])


def test_patterns_outside_the_subset_are_left_to_spacy(rules):
    plain = [("p.a", [{"TEXT": "IV"}]), ("p.b", [{"LOWER": {"IN": ["x"]}}, {"ORTH": {"REGEX": "^y$"}}])]
    assert supported(plain)
    for spec in ({"TEXT": "IV", "OP": "?"}, {"NORM": "iv"}, {"LOWER": {"NOT_IN": ["x"]}}, {}, {"TEXT": {"IN": [1]}},
                 {"LOWER": {"FUZZY": "x"}}, {"IS_DIGIT": True}, {"text": "IV"}):
        assert not supported([*plain, ("p.c", [spec])]), spec
    assert not supported([*plain, ("p.a", [{"TEXT": "IN"}])])  # one Matcher key for two patterns


def test_a_tokenizer_that_is_not_data_is_not_exported(rules):
    nlp = tokenizer_nlp(rules.tokenizer_special_cases)
    nlp.tokenizer.token_match = lambda s: s == "x"  # noqa: E731 - a callable no table can hold
    assert export_tables(nlp, rules.tokenizer_special_cases) is None


SYNTHETIC = [("t.long", [{"LOWER": "a"}, {"LOWER": "b"}, {"LOWER": "c"}]), ("t.mid", [{"LOWER": "b"}]),
             ("t.pair", [{"TEXT": "a"}, {"LOWER": {"IN": ["b", "c"]}}]), ("t.rx", [{"TEXT": {"REGEX": "^[bcB]"}}]),
             ("t.same", [{"ORTH": "a"}, {"LOWER": "b"}])]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "A", "B", "bc", ",", "-"]), min_size=1, max_size=10))
def test_matches_come_in_spacys_order_for_nested_and_overlapping_patterns(engines, words):
    """Order matters: the extractor keeps the first of two equal candidates. spaCy reports a
    match when its last token is read (a short match inside a long one comes first)."""
    from spacy.matcher import Matcher

    nlp, _, light, _, _ = engines
    matcher = Matcher(nlp.vocab, validate=True)
    for pid, pattern in SYNTHETIC:
        matcher.add(pid, [pattern])
    text = " ".join(words)
    doc = nlp.make_doc(text)
    strings = nlp.vocab.strings
    assert [(strings[m], s, e) for m, s, e in matcher(doc)] == LightMatcher(SYNTHETIC)(light(text)), text


def test_the_chunk_memo_stops_growing_and_tokens_stay_spacys(engines):
    """A long `evidex extract --jsonl` stream must not grow the tokenizer's memory without bound."""
    from evidex.lighttokens import MEMO_SIZE

    nlp, _, _, _, tables = engines
    light = LightTokenizer(tables)
    text = " ".join(f"w{i}-x{i}." for i in range(MEMO_SIZE + 2_000))
    assert light(text).words == [t.text for t in nlp.make_doc(text)]
    assert len(light._memo) == MEMO_SIZE
    assert light(text).words == [t.text for t in nlp.make_doc(text)]  # the same past the memo
