"""Route windows find exactly the routes that whole sentences give.

The extractor tokenizes only a few words around each route-word hit
(`Extractor._route_windows`). That is sound only if every match, and the guard tokens
around it, lie inside a window and tokenize as they do in the whole sentence. This
runs the Matcher both ways over every cell of the raw pages and the case sentences,
and over texts made to stress the window edges (odd whitespace, long words,
hyphens, lists of routes, sentence starts), and wants the same route drafts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evidex.compiled import token_reach
from evidex.extract import Extractor, split_sentences
from evidex.rules import TokenPattern
from evidex.segment import segment

ROOT = Path(__file__).resolve().parent.parent
CASE_DIRS = [ROOT / "tests" / "cases", ROOT / "tests" / "cases_heldout"]

STRESS = [
    "IV  ketamine (two spaces), IV\tketamine (a tab), IV\u00a0ketamine (no-break space).",
    "Patients got IN and IV ketamine; others IV vs IN esketamine or IM / IN doses.",
    "Stage IV cancer, DSM-IV criteria, IV-cancer and IV - cancer were excluded.",
    "oral-health checks; oral-  spray; nasal   spray twice weekly; nasal sprays.",
    "IV " + "x" * 120 + " ketamine, then IN" + " " * 50 + "route dosing.",
    "(IV/IM/IN) ketamine; [intranasal]; {sublingual} tablets; i.v. or I.M. doses.",
    "IN\x1cketamine and IV\x1c ketamine and IN \x1fIV arms.",
    "IN", "IV cancer", "x IN arms", "stage IV", "IN ketamine",
]


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))]
    for path in sorted(p for d in CASE_DIRS for p in d.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts += [case["text"] for case in data.get("cases") or [] if case.get("text")]
    return texts + STRESS + [t.upper() for t in STRESS]


def _cells(text: str, rules) -> list[tuple[int, int]]:
    """Cell spans of a page, or the whole text when it is no page."""
    blocks = segment(text, rules, "t.txt").blocks
    return [(span.start, span.end) for b in blocks for _, span in b.cells()] or [(0, len(text))]


def _routes(extractor: Extractor, text: str, start: int, end: int, windowed: bool) -> list[tuple[int, int, str]]:
    c_text = text[start:end]
    sentences = split_sentences(text, start, end, "findings", extractor.sentence_abbreviations)
    if not sentences:
        return []
    starts = [s.start - start for s in sentences]
    ends = [s.end - start for s in sentences]
    if windowed:
        spans = extractor._route_windows(c_text, starts, ends)
    else:
        spans = list(zip(starts, ends, strict=True))
    drafts = [d for a, b in spans for d in extractor._routes(extractor.tokens.nlp.make_doc(c_text[a:b]), a)]
    return sorted((d.start, d.end, d.rule_id) for d in drafts)


def test_windows_find_what_sentences_find(rules):
    extractor = Extractor(rules)
    assert extractor.route_window_ahead is not None  # the project's patterns are bounded
    found = 0
    for text in _texts():
        for start, end in _cells(text, rules):
            reference = _routes(extractor, text, start, end, windowed=False)
            assert _routes(extractor, text, start, end, windowed=True) == reference, text[start:end][:200]
            found += len(reference)
    assert found > 100  # the comparison saw many routes, guarded and not


def _pattern(*tokens: dict) -> TokenPattern:
    return TokenPattern(id="route.t", label="IV", pattern=list(tokens), examples={"match": [], "no_match": []})


@pytest.mark.parametrize(("tokens", "reach"), [
    ([{"TEXT": "IV"}], 1),
    ([{"TEXT": "IN"}, {"LOWER": "and"}, {"TEXT": "IV"}], 3),
    ([{"TEXT": "IN"}, {"LOWER": "and", "OP": "?"}, {"TEXT": "IV", "OP": "!"}], 3),
    ([{"TEXT": "IN"}, {"IS_PUNCT": True, "OP": "{2}"}], 3),
    ([{"TEXT": "IN"}, {"IS_PUNCT": True, "OP": "{1,4}"}], 5),
    ([{"TEXT": "IN"}, {"IS_PUNCT": True, "OP": "{,3}"}], 4),
    ([{"TEXT": "IN"}, {"IS_PUNCT": True, "OP": "+"}], None),
    ([{"TEXT": "IN"}, {"IS_PUNCT": True, "OP": "*"}], None),
    ([{"TEXT": "IN"}, {"IS_PUNCT": True, "OP": "{2,}"}], None),
])
def test_token_reach(tokens, reach):
    assert token_reach([_pattern({"TEXT": "x"}), _pattern(*tokens)]) == reach


@pytest.mark.parametrize("variant", [str, str.upper, str.lower, str.swapcase])
def test_route_literals_admit_every_prescan_hit(rules, variant):
    """A cell without the pre-scan's literals is not scanned for route words at all."""
    extractor = Extractor(rules)
    assert extractor.route_literals.has_literals
    hits = 0
    for text in map(variant, _texts()):
        for m in extractor.route_prescan.finditer(text):
            assert extractor.route_literals.literals_in(m.group()), m.group()
            hits += 1
    assert hits > 50  # the lower-case variant has no "IV" or "IN"
