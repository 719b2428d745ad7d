"""One compile step (issue 17 item 1): rules are read, validated and compiled once into a
frozen `CompiledRules`; engines compile nothing; rule sets in one process are independent."""

from __future__ import annotations

import dataclasses

import pydantic
import pytest
import regex

import evidex
from evidex.build import process_text
from evidex.compiled import CompiledRules
from evidex.extract import Extractor
from evidex.link import Linker
from evidex.rules import load_rules

TEXT = "ketamine 0.5 mg/kg IV gave 45% response over 2 weeks"


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_rules_are_frozen(rules):
    assert isinstance(rules, CompiledRules) and isinstance(rules, evidex.Rules)
    with pytest.raises(pydantic.ValidationError):
        rules.digest = "x"
    with pytest.raises(pydantic.ValidationError):
        rules.recognizers = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.extract_tables.route_prescan = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.term_index.terms = []  # type: ignore[misc]
    assert isinstance(rules.recognizers, tuple) and isinstance(rules.token_patterns, tuple)


def test_extraction_leaves_the_rules_unchanged(rules):
    """Normalizing units once wrote a memo into the rules; nothing on them changes now."""
    before = {name: repr(getattr(rules, name)) for name in type(rules).model_fields}
    process_text("t.txt", TEXT + "; 10 mg daily for 3 months, mcg/kg/min", rules)
    assert {name: repr(getattr(rules, name)) for name in type(rules).model_fields} == before
    assert "unit_cache" not in vars(rules)


def test_engines_compile_nothing(rules, monkeypatch):
    """Extractor and Linker read the compiled rules; building one compiles no regex."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"an engine compiled {args[0]!r}")

    monkeypatch.setattr(regex, "compile", refuse)
    Extractor(rules)
    Linker(rules)


def test_the_tokenizer_is_built_once(monkeypatch, tmp_path):
    import spacy

    calls = []
    blank = spacy.blank
    monkeypatch.setattr(spacy, "blank", lambda *a, **k: calls.append(a) or blank(*a, **k))
    rules = load_rules()
    process_text("t.txt", TEXT, rules)
    process_text("u.txt", TEXT, rules)
    assert len(calls) == 1


def test_two_rule_dirs_in_one_process_are_independent(rules, rules_copy):
    # The copy knows no "IV" route and reads "mg" as no dose unit at all.
    _edit(rules_copy / "patterns" / "route.jsonl", '"IN": ["IV", "i.v.", "I.V."]', '"IN": ["IVX", "i.v.", "I.V."]')
    _edit(rules_copy / "patterns" / "route.jsonl", '"text": "IV", "in": "subanesthetic IV ketamine can rapidly reduce"',
          '"text": "IVX", "in": "subanesthetic IVX ketamine can rapidly reduce"')
    mine = load_rules(rules_copy)
    default_types = {m.type for m in process_text("t.txt", TEXT, rules).measures}
    mine_types = {m.type for m in process_text("t.txt", TEXT, mine).measures}
    assert "route" in default_types and "route" not in mine_types
    # Interleaved, each keeps its own answer (no state shared between rule sets).
    assert {m.type for m in process_text("t.txt", TEXT, rules).measures} == default_types
    assert {m.type for m in evidex.extract_text(TEXT, rules=mine)} == mine_types
    assert {m.type for m in evidex.extract_text(TEXT)} == default_types
