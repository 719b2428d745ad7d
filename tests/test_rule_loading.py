"""Rule loading refuses what cannot work, and stays fast on large vocabularies (issue 21 item 14)."""

from __future__ import annotations

import json
import random
import time

import pytest

from evidex.build import process_text
from evidex.compiled import _term_index
from evidex.phrases import first_word
from evidex.prefilter import Trigger, TriggerSet
from evidex.rules import MAX_ALIASES, ConditionTerm, RuleError, load_rules

from conftest import SEED


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


# ------------------------------------------------------------------ large vocabularies: phrase lookup


def _words(n: int, seed: int = 7) -> list[str]:
    """n distinct made-up words (a fixed seed: the same words every run)."""
    rng, out = random.Random(seed), set()
    syllables = ["ba", "ce", "di", "fo", "gu", "ka", "le", "mi", "no", "pu", "ra", "se", "ti", "vo", "zu", "tra", "xan"]
    while len(out) < n:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(3, 5))))
    return sorted(out)


def _with_terms(rules, condition: str, patterns: list[tuple[str, bool]]):
    """The rules with `patterns` ((pattern, case-sensitive)) added to one condition's terms."""
    conditions = dict(rules.conditions)
    vocab = conditions[condition]
    extra = [ConditionTerm(pattern=p, weight=1 + i % 3, case=case) for i, (p, case) in enumerate(patterns)]
    conditions[condition] = vocab.model_copy(update={"terms": [*vocab.terms, *extra]})
    return rules.model_copy(update={"conditions": conditions})


def test_a_large_vocabulary_is_looked_up_by_word_and_scores_as_its_regexes(rules):
    """20,000 phrase terms are a word lookup (no regex compiled, probed or gated for
    them at load); the seed page's conditions, which its own terms decide, are the ones
    the regex index gives, and the new words count where they occur."""
    words = _words(20_000)
    big = _with_terms(rules, "pain", [(f"\\b{w}\\b", False) for w in words])
    index = _term_index(big)
    n_own = len(rules.term_index.terms)
    all_terms = [t for v in big.conditions.values() for t in v.terms]
    phrase_like = [k for k, t in enumerate(all_terms) if first_word(t.pattern) is not None]
    assert len(index.phrases) == len(phrase_like) >= 20_000
    assert set(index.phrases.phrases) == set(phrase_like)
    assert all(index.terms[k][1] is None for k in phrase_like)  # nothing compiled for them
    assert len(index.scanned) == n_own + 20_000 - len(phrase_like) and len(index.keys) == len(index.scanned)
    assert rules.term_index.phrases.phrases == {}  # the project's 68 terms stay regexes
    with_big = big.model_copy(update={"term_index": index})
    text = SEED.read_bytes().decode("utf-8")
    assert [(s.condition, s.char_start) for s in process_text("seed.txt", text, with_big).studies] == \
        [(s.condition, s.char_start) for s in process_text("seed.txt", text, rules).studies]
    doc = f"Patients with {words[5]} and {words[19_999].upper()} had relief; {words[5]}-{words[7]} again."
    assert process_text("d.txt", doc, with_big).studies[0].condition == "pain"
    assert process_text("d.txt", doc, rules).studies[0].condition == "other"


def test_phrase_lookup_finds_exactly_what_the_regexes_find(rules):
    """The word lookup and the regexes give the same matches (term, span, order) on
    texts built to trip a word lookup: case, `ı`/`İ` (which `regex`'s (?i) equates with
    I/i), the Kelvin sign and long s, underscores and digits inside words, hyphens,
    tabs and newlines between words, and spans that start or end inside a word."""
    words = _words(60, seed=3) + ["ink", "sis", "kin", "io"]
    patterns = [(f"\\b{w}\\b", i % 5 == 0) for i, w in enumerate(words)]
    patterns += [(f"\\b{a}\\s+{b}\\b", False) for a, b in zip(words[:20], words[20:40], strict=True)]
    patterns += [(f"\\b{a}-{b}\\b", False) for a, b in zip(words[40:50], words[:10], strict=True)]
    patterns += [(f"\\b{a} {a}\\b", False) for a in words[50:55]]  # overlapping candidates: finditer's non-overlap
    patterns += [(f"\\b{w.upper()}\\b", True) for w in words[55:60]]
    big = _with_terms(rules, "pain", patterns)
    by_word, by_regex = _term_index(big, min_phrases=1), _term_index(big, min_phrases=10**9)
    assert len(by_word.phrases) >= len(patterns) and not by_regex.phrases.phrases
    a = words[50]
    triple = f"{a} {a} {a} {a} {a}"
    pairs = [[m.span() for _, m in index.matches(triple, 0, len(triple)) if " " in m.group()] for index in (by_word, by_regex)]
    assert pairs[0] == pairs[1] == [(0, 2 * len(a) + 1), (2 * len(a) + 2, 4 * len(a) + 3)]  # finditer: no overlaps
    rng = random.Random(11)
    odd = ["İnk", "ınk", "\u212ain", "\u017fis", "SIS", "io_x", "x_io", "io2", "2io", "İO", "ıo", "Io"]
    separators = [" ", "  ", "-", "\t", "\n", "_", "", ", ", " - ", "é"]
    checked = 0
    for _ in range(400):
        pieces = [rng.choice([*words, *odd, *(w.upper() for w in words[:20]), *(w.title() for w in words[20:30])])
                  for _ in range(rng.randint(1, 30))]
        text = "".join(p + rng.choice(separators) for p in pieces)
        pos, endpos = sorted(rng.sample(range(len(text) + 1), 2)) if rng.random() < 0.5 else (0, len(text))
        got = [(i, m.span()) for i, m in by_word.matches(text, pos, endpos)]
        assert got == [(i, m.span()) for i, m in by_regex.matches(text, pos, endpos)], (text, pos, endpos)
        checked += len(got)
    assert checked > 1000  # the texts do hold many matches


def test_reads_through_must_name_an_exclusion(rules_copy):
    """A recognizer's `reads_through` names exclusions; a typo would silently read through nothing."""
    path = rules_copy / "regex" / "measures.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "    reads_through: [excl.statistics]"
    assert anchor in text
    path.write_text(text.replace(anchor, "    reads_through: [excl.statistic]"), encoding="utf-8")
    line = text[:text.index(anchor)].count("\n")  # the entry's `- id:` line is above it
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy)
    assert err.value.path.endswith("measures.yaml") and err.value.rule_id == "rate.percent_counts"
    assert "excl.statistic" in str(err.value) and err.value.line is not None and err.value.line < line
