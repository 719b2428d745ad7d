"""`finditer` of a top-level alternation, found branch by branch: the same matches, sooner.

A rule pattern such as `excl.not_follow_up` is an alternation of 15 branches. The
`regex` package tries every branch at every position of the text, and it gives up its
fast scans (a branch's first characters, its literal prefix) once they are joined: on
the corpus abstracts that rule's alternation costs ~2.5× the sum of its branches
searched one by one. `BranchedPattern.finditer` gives the matches of the whole pattern
from branch searches:

- the whole pattern's leftmost match from `pos` starts at the smallest start of the
  branches' leftmost matches (a position where no branch matches is one where the
  alternation does not);
- the match itself is the whole pattern's `match` at that position, so its span,
  groups and group numbers are the alternation's own (the first branch that matches
  there wins, as in the alternation);
- the search goes on from its end, as `finditer` does; a branch whose leftmost match
  still starts at or after that end is not searched again.

`pos`, `endpos` and the text are those of the original call, so lookbehinds, `\\b` and
`$` see what they would have seen. Only patterns this is exact for are split: the
text splits at `|` outside groups and sets into branches that each compile, as many as
the standard library's parse tree has top-level branches, with no backreference or
conditional (their group numbers would move) and no match of width zero (`finditer`'s
rule for empty matches is not reproduced). Any other pattern is searched as before.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # noqa: PLC2701 - the parse tree, as in prefilter.py
import warnings
from collections.abc import Iterator

import regex

from .timed import RuleTimeout, TimedPattern

_LEADING_FLAGS = re.compile(r"\(\?([a-zA-Z]+)\)")
# Group references and conditionals number groups across branches; split, they would point elsewhere.
_CROSS_BRANCH = re.compile(r"\\[1-9g]|\(\?P=|\(\?\(|\(\?&|\(\?R\)|\(\?[+-]?[0-9]")
# A branch that searched to the end of the text without a match.
_NEVER = 1 << 62


def split_branches(pattern: str, flags: int = 0) -> list[str] | None:
    """The top-level branches of `pattern`, each a pattern on its own (its leading inline
    flags copied to every branch), or None when the pattern must not be split."""
    lead = _LEADING_FLAGS.match(pattern)
    prefix, body = (lead.group(), pattern[lead.end():]) if lead else ("", pattern)
    if _CROSS_BRANCH.search(body) or "(?#" in body:
        return None
    verbose = bool(flags & regex.VERBOSE) or (lead is not None and "x" in lead.group(1))
    parts, depth, in_set, start, i = [], 0, False, 0, 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if in_set:
            if c == "]" and body[i - 1] != "[" and body[i - 2:i] != "[^":
                in_set = False
        elif c == "[":
            in_set = True
        elif c == "#" and verbose:
            newline = body.find("\n", i)
            i = len(body) if newline < 0 else newline
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    if len(parts) < 2 or depth != 0 or in_set or _top_level_branches(pattern, flags) != len(parts):
        return None
    return [prefix + part for part in parts]


def _top_level_branches(pattern: str, flags: int) -> int:
    """How many top-level branches the stdlib parser sees (0 when it cannot read the
    pattern, or when a match can be empty)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = sre_parse.parse(pattern, flags & (re.IGNORECASE | re.VERBOSE))
    except (re.error, RecursionError, OverflowError, Warning):
        return 0
    if tree.getwidth()[0] == 0:
        return 0
    items = list(tree)
    if len(items) == 1 and items[0][0] is sre_parse.BRANCH:
        return len(items[0][1][1])
    return 1


class BranchedPattern:
    """A rule pattern with its top-level branches compiled one by one (`split_branches`)."""

    __slots__ = ("branches", "whole")

    def __init__(self, whole: TimedPattern, branches: list[str]):
        self.whole = whole
        self.branches = [regex.compile(b, whole.flags) for b in branches]

    def finditer(self, string: str, pos: int, endpos: int, *, timeout: float) -> Iterator[regex.Match]:
        """The matches of `whole.finditer(string, pos, endpos)`, in order (each call runs
        with `timeout`; a timeout raises `RuleTimeout` naming the rule)."""
        # The whole pattern's `match` without the package's required-string prescan to
        # `endpos` (TimedPattern.anchored): one per match must not read the rest of the run.
        whole, anchored = self.whole.compiled, self.whole.anchored()
        nexts = [-1] * len(self.branches)  # each branch's leftmost match start at or after `pos`
        try:
            while pos <= endpos:
                for k, branch in enumerate(self.branches):
                    if nexts[k] < pos:
                        m = branch.search(string, pos, endpos, timeout=timeout)
                        nexts[k] = m.start() if m else _NEVER
                at = min(nexts)
                if at == _NEVER:
                    return
                found = anchored.match(string, at, endpos, timeout=timeout)
                if found is None or found.end() == at:  # cannot happen for a split pattern; stated, not assumed
                    yield from whole.finditer(string, pos, endpos, timeout=timeout)
                    return
                yield found
                pos = found.end()
        except TimeoutError as err:
            raise RuleTimeout(self.whole.rule, timeout) from err


# Compiling a rule's branches costs ~40 ms, and splitting saves ~1 µs a character
# scanned: a pattern is split once it has scanned this much text in the process, so a
# one-sentence `evidex extract` never pays for it and a corpus run pays it once.
SPLIT_AFTER_CHARS = 40_000

_CACHE: dict[tuple[str, int], BranchedPattern | None] = {}
_SCANNED: dict[tuple[str, int], int] = {}


def branched(pattern: TimedPattern) -> BranchedPattern | None:
    """`pattern` split into branches (compiled the first time it is asked for), or None."""
    key = (pattern.pattern, pattern.flags)
    if key not in _CACHE:
        parts = split_branches(pattern.pattern, pattern.flags)
        _CACHE[key] = BranchedPattern(pattern, parts) if parts else None
    return _CACHE[key]


def branched_after(pattern: TimedPattern, chars: int) -> BranchedPattern | None:
    """`branched(pattern)` once `pattern` has been asked to scan `SPLIT_AFTER_CHARS`
    characters in this process (counting these `chars`); None before that. Either way
    the matches are the same; only the cost differs."""
    key = (pattern.pattern, pattern.flags)
    if key in _CACHE:
        return _CACHE[key]
    scanned = _SCANNED.get(key, 0) + chars
    if scanned < SPLIT_AFTER_CHARS:
        _SCANNED[key] = scanned
        return None
    return branched(pattern)
