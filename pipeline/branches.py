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
  still starts at or after that end is not searched again;
- a branch none of whose required literals (`prefilter.required_literals`, the same
  derivation as the rules' gates) occurs between `pos` and `endpos` has no match there
  and is not searched at all: most of a 15-branch exclusion's branches name a word
  ("interval", "run-in", "baseline") that most sentences lack;
- nor is a branch one of whose positive lookarounds needs a literal the whole text lacks
  (`prefilter.lookaround_literals`: "(?<=At\\s+baseline,...)" reads "baseline").

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
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import regex

from .prefilter import Derive, Literals, Needle, Trigger, lookaround_literals, required_literals
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


def _as_parsed(branch: str, flags: int) -> str:
    """`branch` as `required_literals` must read it: that reads the pattern text with
    IGNORECASE alone, so a pattern made verbose by `flags` rather than by its own leading
    `(?x)` is marked verbose, or its layout spaces would count as literals."""
    lead = _LEADING_FLAGS.match(branch)
    return "(?x)" + branch if flags & regex.VERBOSE and not (lead and "x" in lead.group(1)) else branch


def branch_gate(branch: str, flags: int, source: Source | None = None) -> Trigger | None:
    """The literals one of which every match of `branch` (a pattern compiled with `flags`)
    holds, as a literals-only `Trigger`, or None when none can be derived (`source`, when
    given, answers or records the derivation: `rulecache.Derivations`)."""
    return Trigger.gate(_as_parsed(branch, flags), bool(flags & regex.IGNORECASE),
                        derive=source.literals if source is not None else None)


def context_gates(branch: str, flags: int, source: Source | None = None) -> tuple[Trigger, ...]:
    """One literals-only `Trigger` per positive lookaround every match of `branch` passes
    (`prefilter.lookaround_literals`): each must hold somewhere in the text for `branch` to match."""
    parsed, ignorecase = _as_parsed(branch, flags), bool(flags & regex.IGNORECASE)
    found = source.lookaround_literals(parsed, ignorecase) if source is not None else lookaround_literals(parsed, ignorecase)
    return tuple(Trigger(parsed, ignorecase=ignorecase, literals_only=True, derive=_given(lits)) for lits in found)


def _given(literals: frozenset[Needle]) -> Derive:
    """A `Derive` answering `literals` (not complete) for any pattern."""
    def derive(_pattern: str, _ignorecase: bool) -> Literals:
        return literals, False
    return derive


class BranchedPattern:
    """A rule pattern with its top-level branches compiled one by one (`split_branches`),
    each with its gate (`branch_gate`)."""

    __slots__ = ("_by_cased", "_by_folded", "_context", "_folded_gated", "_last", "branches", "gates", "whole")

    def __init__(self, whole: TimedPattern, branches: list[str], source: Source | None = None):
        """`source` (a `rulecache.Derivations`) gives compiled branches and their literals where
        it holds them (a warm rules cache entry), and records what is derived here."""
        self.whole = whole
        flags = whole.flags
        self.branches = [_compiled(b, flags, source) for b in branches]
        self.gates = [branch_gate(b, flags, source) for b in branches]
        # Each literal once, with the branches it admits: "day" gates several branches of a rule.
        cased: dict[str, set[int]] = {}
        folded: dict[str, set[int]] = {}
        for k, gate in enumerate(self.gates):
            for literal in gate.cased if gate is not None else ():
                cased.setdefault(literal, set()).add(k)
            for literal in gate.folded if gate is not None else ():
                folded.setdefault(literal, set()).add(k)
        self._by_cased = tuple((literal, frozenset(ks)) for literal, ks in sorted(cased.items()))
        self._by_folded = tuple((literal, frozenset(ks)) for literal, ks in sorted(folded.items()))
        self._folded_gated = frozenset(k for ks in folded.values() for k in ks)
        self._context = [(k, gates) for k, b in enumerate(branches) if (gates := context_gates(b, flags, source))]
        self._last: tuple[str, list[int]] | None = None  # the text last asked about, and its branches without context

    def _without_context(self, string: str) -> list[int]:
        """The branches one of whose lookaround gates holds nowhere in `string` (kept for the
        last text: a cell's runs are searched one after another)."""
        last = self._last
        if last is not None and last[0] is string:
            return last[1]
        out = [k for k, gates in self._context if not all(gate.literals_in(string) for gate in gates)]
        self._last = (string, out)
        return out

    def _absent(self, segment: str) -> list[int]:
        """The branches none of whose gate literals occurs in `segment`: they cannot match in it
        (a required literal lies in what a match consumes, never in a lookaround)."""
        present = {k for k, gate in enumerate(self.gates) if gate is None}
        for literal, ks in self._by_cased:
            if not ks <= present and literal in segment:
                present |= ks
        if self._by_folded and not self._folded_gated <= present:
            folded = segment.casefold()
            if len(folded) != len(segment):  # casefolding changed the length (ß → ss): the regex decides
                present |= self._folded_gated
            else:
                for literal, ks in self._by_folded:
                    if not ks <= present and literal in folded:
                        present |= ks
        return [k for k in range(len(self.branches)) if k not in present]

    def finditer(self, string: str, pos: int, endpos: int, *, timeout: float) -> Iterator[regex.Match]:
        """The matches of `whole.finditer(string, pos, endpos)`, in order (each call runs
        with `timeout`; a timeout raises `RuleTimeout` naming the rule)."""
        # The whole pattern's `match` without the package's required-string prescan to
        # `endpos` (TimedPattern.anchored): one per match must not read the rest of the run.
        whole, anchored = self.whole.compiled, self.whole.anchored()
        nexts = [-1] * len(self.branches)  # each branch's leftmost match start at or after `pos`
        for k in self._absent(string[pos:endpos]):  # a branch without its literals here is never searched
            nexts[k] = _NEVER
        for k in self._without_context(string) if self._context else ():
            nexts[k] = _NEVER
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
class Source(Protocol):
    """What `rulecache.Derivations` answers and records for splitting (see `record_splits`)."""

    splits: dict[tuple[str, int], tuple[str, ...] | None]

    def literals(self, pattern: str, ignorecase: bool) -> Literals: ...
    def lookaround_literals(self, pattern: str, ignorecase: bool) -> tuple[frozenset[Needle], ...]: ...
    def compiled(self, pattern: str, flags: int) -> Any: ...
    def record(self, pattern: str, flags: int, compiled: Any) -> None: ...


class _Held:
    """The splits of this process's rules cache entries (`use`): only what splitting reads
    (split parts, compiled branches, their literals), not the entries themselves. Every
    answer is a pure function of pattern text and flags, so entries never disagree."""

    def __init__(self) -> None:
        self.splits: dict[tuple[str, int], tuple[str, ...] | None] = {}
        self._patterns: dict[tuple[str, int], Any] = {}
        self._literals: dict[tuple[str, bool], Literals] = {}
        self._lookarounds: dict[tuple[str, bool], tuple[frozenset[Needle], ...]] = {}

    def literals(self, pattern: str, ignorecase: bool) -> Literals:
        found = self._literals.get((pattern, ignorecase))
        return found if found is not None else required_literals(pattern, ignorecase)

    def lookaround_literals(self, pattern: str, ignorecase: bool) -> tuple[frozenset[Needle], ...]:
        found = self._lookarounds.get((pattern, ignorecase))
        return found if found is not None else lookaround_literals(pattern, ignorecase)

    def compiled(self, pattern: str, flags: int) -> Any:
        return self._patterns.get((pattern, int(flags)))

    def record(self, pattern: str, flags: int, compiled: Any) -> None:
        self._patterns[(pattern, int(flags))] = compiled

    def take(self, source: Source) -> None:
        for key, parts in source.splits.items():
            if key in self.splits:
                continue
            self.splits[key] = parts
            for part in parts or ():
                parsed, ignorecase = _as_parsed(part, key[1]), bool(key[1] & regex.IGNORECASE)
                compiled = source.compiled(part, key[1])
                if compiled is not None:
                    self._patterns[(part, key[1])] = compiled
                self._literals[(parsed, ignorecase)] = source.literals(parsed, ignorecase)
                self._lookarounds[(parsed, ignorecase)] = source.lookaround_literals(parsed, ignorecase)


_HELD = _Held()


def _compiled(branch: str, flags: int, source: Source | None) -> regex.Pattern:
    found = source.compiled(branch, flags) if source is not None else None
    if found is None:
        found = regex.compile(branch, flags)
        if source is not None:
            source.record(branch, flags, found)
    return found


def use(source: Source) -> None:
    """Split patterns with what `source` holds (a warm cache entry that `record_splits`
    filled), without waiting for `SPLIT_AFTER_CHARS`: its branches cost no compiling."""
    _HELD.take(source)


def _held(key: tuple[str, int]) -> Source | None:
    return _HELD if key in _HELD.splits else None


def record_splits(patterns: Iterable[TimedPattern], source: Source) -> None:
    """Split, compile and gate every pattern into `source`, so a rules cache entry holds it all
    (done once, when an entry is written: ~0.5 s for the project's rules)."""
    for pattern in patterns:
        key = (pattern.pattern, int(pattern.flags))
        parts = split_branches(pattern.pattern, pattern.flags)
        source.splits[key] = tuple(parts) if parts else None
        if parts:
            BranchedPattern(pattern, parts, source)


def branched(pattern: TimedPattern) -> BranchedPattern | None:
    """`pattern` split into branches (compiled the first time it is asked for), or None."""
    key = (pattern.pattern, pattern.flags)
    if key not in _CACHE:
        source = _held(key)
        if source is not None:
            held = source.splits[key]
            parts = list(held) if held else None
        else:
            parts = split_branches(pattern.pattern, pattern.flags)
        _CACHE[key] = BranchedPattern(pattern, parts, source) if parts else None
    return _CACHE[key]


def branched_after(pattern: TimedPattern, chars: int) -> BranchedPattern | None:
    """`branched(pattern)` once `pattern` has been asked to scan `SPLIT_AFTER_CHARS`
    characters in this process (counting these `chars`), or at once when a `use`d source
    holds its split; None before that. Either way the matches are the same; only the cost differs."""
    key = (pattern.pattern, pattern.flags)
    if key in _CACHE:
        return _CACHE[key]
    if key in _HELD.splits:
        return branched(pattern)
    scanned = _SCANNED.get(key, 0) + chars
    if scanned < SPLIT_AFTER_CHARS:
        _SCANNED[key] = scanned
        return None
    return branched(pattern)
