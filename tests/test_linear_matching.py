"""Per-value regex and bracket look-ups cost what their window costs, not the whole text.

A 5 MB one-sentence page holds ~3*10^5 values; anything that reads the rest of the
text per value makes it quadratic (tests/test_reliability.py::test_single_5mb_line).
Two such paths were fixed, and these tests hold them to the old results:

- `TimedPattern.match` runs a variant of the pattern without the `regex` package's
  required-string prescan (which searched the rest of the text for the pattern's
  literal before every anchored match);
- `enclosing_brackets` skips a side that holds no bracket with `str.find`.
"""

from __future__ import annotations

import dataclasses

import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from test_link_speed_equivalence import _texts

from evidex.spans import enclosing_brackets
from evidex.timed import TimedPattern, timed


def _patterns(root: object) -> list[TimedPattern]:
    """Every TimedPattern reachable from the compiled rules."""
    seen: set[int] = set()
    found: list[TimedPattern] = []
    stack = [root]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, (str, bytes, int, float, type(None))):
            continue
        seen.add(id(o))
        if isinstance(o, TimedPattern):
            found.append(o)
        elif isinstance(o, dict):
            stack += o.values()
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack += o
        elif dataclasses.is_dataclass(o):
            stack += [getattr(o, f.name) for f in dataclasses.fields(o)]
        elif hasattr(type(o), "model_fields"):
            stack += [getattr(o, f) for f in type(o).model_fields]
        elif hasattr(o, "__dict__"):
            stack += vars(o).values()
    return found


def _same(a: regex.Match | None, b: regex.Match | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.span() == b.span() and a.groups() == b.groups() and a.groupdict() == b.groupdict()


def test_match_finds_what_the_pattern_finds_for_every_rule_regex(rules):
    patterns = _patterns(rules)
    assert len(patterns) > 200  # the walk reaches the rules' regexes, not just a few
    text = "\n".join(_texts())
    for p in patterns:
        # Where the pattern matches (anchored or reversed at those ends), and a stride of other positions.
        spans = [m.span() for m in p.compiled.finditer(text)]
        starts, ends = {a for a, _ in spans}, {b for _, b in spans}
        for pos in sorted(starts | set(range(0, len(text), 37))):
            assert _same(p.match(text, pos), p.compiled.match(text, pos)), (p.rule, pos)
        for pos in sorted(ends | set(range(0, len(text), 53))):
            assert _same(p.match(text, 0, pos), p.compiled.match(text, 0, pos)), (p.rule, pos)


def test_match_keeps_verbose_inline_flag_and_reversed_patterns():
    cases = [
        (timed(r"\s+alone\b  # a trailing comment", regex.VERBOSE, "t:verbose"), " alone here", 0, None, (0, 6)),
        (timed(r"(?i)\s+ALONE\b", 0, "t:inline"), " alone", 0, None, (0, 6)),
        (timed(r"a|b", 0, "t:alternation"), "xb", 1, None, (1, 2)),
        (timed(r"(?r)(?:\S+\s+){0,1}\S*", 0, "t:reverse"), "aa bb cc", 0, 5, (0, 5)),
        (timed(r"(?<n>\d+)%", 0, "t:named"), "was 45%", 4, None, (4, 7)),
        (timed(r"\s+alone\b", 0, "t:miss"), " alonely", 0, None, None),
    ]
    for p, text, pos, endpos, span in cases:
        m = p.match(text, pos, endpos)
        assert (m.span() if m else None) == span, p.rule
        assert _same(m, p.compiled.match(text, pos, endpos))
    named = timed(r"(?<n>\d+)%", 0, "t:named").match("45%")
    assert named is not None and named.group("n") == "45"


def test_match_at_a_position_runs_the_never_failing_first_form():
    """`regex` searches the rest of the text for a pattern's required literal before every
    `match(text, pos)` (quadratic on a 5 MB sentence); the `(?:P)|(?!)` form it is run as
    has no required literal. The speed itself is measured in bench/linear_match.py (no timed
    tests): about 1000x on 5 MB before, flat after."""
    p = timed(r"\s+alone\b", 0, "t:suffix")
    assert p.anchored().pattern == r"(?:\s+alone\b)|(?!)"
    text = "x " * 5_000 + " alone"
    assert [p.match(text, pos) is not None for pos in range(9_990, 10_001)] == [
        p.compiled.match(text, pos) is not None for pos in range(9_990, 10_001)]


def _reference_brackets(text: str, start: int, end: int, reach: int = 300) -> tuple[int, int] | None:
    """enclosing_brackets as first written: one character at a time."""
    depth, open_at = 0, None
    for i in range(start - 1, max(-1, start - 1 - reach), -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                open_at = i
                break
            depth -= 1
        elif text[i] == "\n":
            return None
    if open_at is None:
        return None
    depth = 0
    for j in range(end, min(len(text), end + reach)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            if depth == 0:
                return open_at, j
            depth -= 1
        elif text[j] == "\n":
            return None
    return None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="()\nab", max_size=40), st.integers(0, 40), st.integers(0, 6), st.integers(1, 12))
def test_enclosing_brackets_is_the_character_scan(text, start, width, reach):
    start = min(start, len(text))
    end = min(len(text), start + width)
    assert enclosing_brackets(text, start, end, reach) == _reference_brackets(text, start, end, reach)


def test_enclosing_brackets_on_the_case_sentences():
    for text in _texts():
        for m in regex.finditer(r"\d+(?:\.\d+)?%?", text):
            assert enclosing_brackets(text, m.start(), m.end()) == _reference_brackets(text, m.start(), m.end())
