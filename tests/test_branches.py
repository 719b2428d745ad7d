"""Alternations searched branch by branch (pipeline/branches.py) give the alternation's matches.

A wrong split (a `|` inside a group or a set taken for a branch, a branch that wins
where the alternation's first branch would) changes which numbers are excluded or read,
so every split rule pattern is compared with its own `finditer` — spans and every
group's span — over the raw page, the held-out pages, every rule example and case
sentence, in three letter cases, from several start and end positions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
import yaml

from evidex.branches import BranchedPattern, branch_gate, branched, split_branches
from evidex.rules import load_rules
from evidex.timed import RuleTimeout, TimedPattern

from conftest import PMC_DEV

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules")
SPLIT = sorted(((c.id, c.regex) for c in (*RULES.recognizers, *RULES.exclusions) if branched(c.regex) is not None),
               key=lambda pair: pair[0])


CORPUS = PMC_DEV


def _abstracts() -> list[str]:
    """The dev split's abstracts (where branch and lookaround gates skip most branches)."""
    if not (CORPUS / "index.json").exists():
        return []
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    return [(CORPUS / e["file"]).read_text(encoding="utf-8") for e in index if e["split"] == "dev"]


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8-sig") for p in sorted((ROOT / "raw").glob("*.txt"))]
    texts += _abstracts()
    texts += [p.read_text(encoding="utf-8-sig") for p in sorted((ROOT / "tests" / "heldout").rglob("*.txt"))]
    for c in (*RULES.recognizers, *RULES.exclusions):
        texts += [e.in_ for e in c.entry.examples.match] + list(c.entry.examples.no_match)
    for path in sorted((ROOT / "tests" / "cases").glob("*.yaml")):
        texts += [v for v in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))) if any(ch.isdigit() for ch in v)]
    return [t for text in texts for t in (text, text.lower(), text.upper())]


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


TEXTS = _texts()


def _matches(found) -> list[tuple]:
    return [(m.span(), m.regs) for m in found]


def test_the_costly_alternations_are_split():
    ids = {rule_id for rule_id, _ in SPLIT}
    assert {"excl.not_follow_up", "excl.sample_composition", "excl.statistics"} <= ids


@pytest.mark.parametrize(("rule_id", "pattern"), SPLIT, ids=[rule_id for rule_id, _ in SPLIT])
def test_split_rule_finds_what_the_alternation_finds(rule_id, pattern):
    split = branched(pattern)
    assert split is not None and len(split.branches) >= 2
    for text in TEXTS:
        n = len(text)
        # Whole pages once; the short texts (examples, cases) also from inside and to inside.
        bounds = ((0, n),) if n > 5000 else ((0, n), (n // 3, n), (0, 2 * n // 3), (n // 4, 3 * n // 4))
        for pos, endpos in bounds:
            expected = _matches(pattern.compiled.finditer(text, pos, endpos))
            assert _matches(split.finditer(text, pos, endpos, timeout=5.0)) == expected, (rule_id, text[:80], pos, endpos)


@pytest.mark.parametrize(
    ("pattern", "flags", "branches"),
    [
        (r"ab|cd", 0, ["ab", "cd"]),
        (r"(?x) a (?:b|c) | [|(] d", 0, ["(?x) a (?:b|c) ", "(?x) [|(] d"]),  # a | in a group or a set is no branch
        ("(?x) ab  # one | two\n | cd", 0, ["(?x) ab  # one | two\n ", "(?x) cd"]),  # nor in a verbose comment
        (r"a\||b", 0, [r"a\|", "b"]),  # nor an escaped one
        (r"[]|]x|y", 0, ["[]|]x", "y"]),  # a ] first in a set is a literal
        (r"ab | cd", regex.VERBOSE, ["ab ", " cd"]),
    ],
)
def test_split_branches(pattern, flags, branches):
    assert split_branches(pattern, flags) == branches


@pytest.mark.parametrize(
    "pattern",
    [
        "abc",  # one branch
        r"(a)x|\1y",  # a group reference's number would move
        r"(?P<n>a)x|(?P=n)y",
        r"(a)?(?(1)b|c)|d",  # a conditional
        r"a?|b",  # a match can be empty: finditer's rule for those is not reproduced
        r"(?=a)|b",
        r"(a|b",  # does not parse
    ],
)
def test_patterns_that_are_not_split(pattern):
    assert split_branches(pattern) is None


def test_first_branch_wins_where_both_match():
    # At "ab" both branches match; the alternation takes the first, and so must the split.
    whole = TimedPattern(regex.compile(r"a|ab"), "t:first")
    split = BranchedPattern(whole, ["a", "ab"])
    assert [m.group() for m in split.finditer("ab ab", 0, 5, timeout=1.0)] == ["a", "a"]
    whole = TimedPattern(regex.compile(r"ab|a"), "t:first")
    split = BranchedPattern(whole, ["ab", "a"])
    assert [m.group() for m in split.finditer("ab a", 0, 4, timeout=1.0)] == ["ab", "a"]


def test_groups_are_numbered_as_in_the_alternation():
    whole = TimedPattern(regex.compile(r"(x)(\d)|(y)(\d)"), "t:groups")
    split = branched(whole)
    assert split is not None
    found = list(split.finditer("y1 x2", 0, 5, timeout=1.0))
    assert [m.span(4) for m in found] == [(1, 2), (-1, -1)]
    assert [m.span(2) for m in found] == [(-1, -1), (4, 5)]


def test_lookbehind_sees_before_pos_as_the_alternation_does():
    whole = TimedPattern(regex.compile(r"(?<=a)b|zz"), "t:behind")
    split = branched(whole)
    assert split is not None
    assert _matches(split.finditer("abzz", 1, 4, timeout=1.0)) == _matches(whole.compiled.finditer("abzz", 1, 4))
    assert [m.group() for m in split.finditer("abzz", 1, 4, timeout=1.0)] == ["b", "zz"]


def test_a_branch_that_times_out_names_the_rule():
    class Stalls:
        def search(self, *args, **kwargs):
            raise TimeoutError("regex timed out")

    whole = TimedPattern(regex.compile(r"ab|cd"), "measures.yaml:t.stalls")
    split = BranchedPattern(whole, ["ab", "cd"])
    split.branches[1] = Stalls()
    with pytest.raises(RuleTimeout, match=r"rule measures.yaml:t.stalls timed out after 0.5s"):
        list(split.finditer("xx cd", 0, 5, timeout=0.5))


def test_a_pattern_is_split_only_once_it_has_scanned_enough_text():
    from evidex import branches

    whole = TimedPattern(regex.compile(r"(?x) ab | cd  # only this test's"), "t:after")
    assert branches.branched_after(whole, branches.SPLIT_AFTER_CHARS - 10) is None
    split = branches.branched_after(whole, 10)
    assert split is not None and split is branches.branched_after(whole, 1)


class _Stalls:
    """A branch whose every search times out: a test sees whether it was searched."""

    def search(self, *args, **kwargs):
        raise TimeoutError("regex timed out")


def test_a_branch_without_its_literals_in_the_run_is_not_searched():
    whole = TimedPattern(regex.compile(r"(?x) ab\d | cd\d"), "t:gated")
    split = BranchedPattern(whole, ["(?x) ab\\d ", "(?x) cd\\d"])
    split.branches[1] = _Stalls()
    # No "cd" between pos and endpos: the second branch cannot match there and is never searched.
    assert [m.group() for m in split.finditer("ab1 xx ab2", 0, 10, timeout=1.0)] == ["ab1", "ab2"]
    assert [m.group() for m in split.finditer("cd1 ab1 xx", 3, 10, timeout=1.0)] == ["ab1"]  # "cd" before pos
    with pytest.raises(RuleTimeout):
        list(split.finditer("ab1 cd2", 0, 7, timeout=1.0))


def test_a_case_insensitive_branch_is_gated_casefolded():
    whole = TimedPattern(regex.compile(r"(?x) ab\d | week\s\d", regex.IGNORECASE), "t:folded")
    split = branched(whole)
    assert split is not None
    split.branches[1] = _Stalls()
    assert [m.group() for m in split.finditer("AB1 ab2", 0, 7, timeout=1.0)] == ["AB1", "ab2"]
    with pytest.raises(RuleTimeout):
        list(split.finditer("ab1 WEEK 2", 0, 10, timeout=1.0))


def test_a_branch_whose_lookbehind_needs_a_word_the_text_lacks_is_not_searched():
    whole = TimedPattern(regex.compile(r"(?x) (?<=baseline,\s[^.]{0,20})\d+% | zz\d"), "t:behind-gate")
    split = branched(whole)
    assert split is not None
    split.branches[0] = _Stalls()
    assert [m.group() for m in split.finditer("at 5% zz1", 0, 9, timeout=1.0)] == ["zz1"]
    # The lookbehind reads before `pos`: "baseline," anywhere in the text lets the branch be searched.
    with pytest.raises(RuleTimeout):
        list(split.finditer("At baseline, 5% zz1", 13, 19, timeout=1.0))


def test_gated_branches_find_what_the_alternation_finds_before_and_after_pos():
    whole = TimedPattern(regex.compile(r"(?x) (?<=baseline,\s[^.]{0,20})\d+% | zz\d | ab\d"), "t:both")
    split = branched(whole)
    assert split is not None
    for text in ("At baseline, 5% zz1 ab2", "5% zz1", "ab1 baseline, 7%", "baseline, 7%. 8% zz2"):
        for pos in range(len(text)):
            for endpos in (len(text), len(text) - 2):
                assert _matches(split.finditer(text, pos, endpos, timeout=1.0)) == _matches(
                    whole.compiled.finditer(text, pos, endpos)), (text, pos, endpos)


def test_a_branch_verbose_by_its_flags_is_gated_without_its_layout_spaces():
    gate = branch_gate("ab cd", regex.VERBOSE)
    assert gate is not None and gate.cased == ("abcd",)
    gate = branch_gate("ab cd", 0)
    assert gate is not None and gate.cased == ("ab cd",)
