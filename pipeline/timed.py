"""A compiled rule regex that always runs with a time limit and names its rule when it hits it.

Every regex compiled from `rules/` (recognizers, exclusions, damage signs, triggers and
the vocabulary's cues, arms, conditions, units…) is wrapped in a `TimedPattern` by the
compile step (`pipeline/compiled.py`). Its `search`, `match`, `fullmatch`, `finditer`
and `sub` pass the `regex` package's `timeout=` on every call — however short the text —
and turn a timeout into `RuleTimeout`, whose message names the rule (`file:id`), so a
pattern that stalls on some input never hangs a run and never fails anonymously.

A `TimedPattern` may be made from pattern text alone (`TimedPattern.deferred`): it is
compiled the first time it is called, so a process that reads one sentence compiles only
the few rules that sentence reaches (`pipeline/rulecache.py` says when the compile step
may skip compiling everything up front).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import regex

# The time limit of one call on text of ordinary length; long texts get more (callers
# pass `timeout=`). Patterns that backtrack catastrophically are refused at load time
# (the probes in pipeline/compiled.py), so this bound is only ever reached by a
# pathological input.
MATCH_TIMEOUT_S = 2.0


class RuleTimeout(TimeoutError):
    """A rule's regex ran out of time; `rule` names it as `file:id`."""

    def __init__(self, rule: str, timeout: float):
        self.rule, self.timeout = rule, timeout
        super().__init__(f"rule {rule} timed out after {timeout:g}s")


def anchored_pattern(pattern: str, flags: int) -> str:
    """`pattern` with a branch that never matches (`TimedPattern.anchored`); in verbose mode a
    newline first ends a trailing comment."""
    close = "\n)" if flags & regex.VERBOSE else ")"
    return f"(?:{pattern}{close}|(?!)"


class _Uncompiled:
    """Stands in a deferred `TimedPattern`'s `compiled` slot until first use: any attribute
    asked of it compiles the pattern, puts the real one in the slot and answers from it.
    After that the owner's calls go straight to the compiled pattern, at no extra cost."""

    __slots__ = ("owner",)

    def __init__(self, owner: TimedPattern):
        self.owner = owner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "owner":  # copy/pickle probing, or `owner` not yet set
            raise AttributeError(name)
        owner = self.owner
        compiled = regex.compile(owner.pattern, owner.given_flags)
        owner.compiled = compiled
        return getattr(compiled, name)


class TimedPattern:
    """A compiled `regex` pattern whose every call runs with `timeout=` and names `rule` on a timeout."""

    __slots__ = ("_anchored", "compiled", "given_flags", "pattern", "rule", "timeout")

    def __init__(self, compiled: regex.Pattern, rule: str, timeout: float = MATCH_TIMEOUT_S):
        self.compiled: Any = compiled
        self.rule, self.timeout = rule, timeout
        self.pattern: str = compiled.pattern
        self.given_flags: int = compiled.flags
        self._anchored: regex.Pattern | None = None

    @classmethod
    def deferred(cls, pattern: str, flags: int, rule: str, timeout: float = MATCH_TIMEOUT_S) -> TimedPattern:
        """A pattern compiled (`regex.compile(pattern, flags)`) on its first call, not now.

        Only for patterns known to compile: one that does not raises `regex.error` at that call."""
        self = cls.__new__(cls)
        self.pattern, self.given_flags, self.rule, self.timeout = pattern, flags, rule, timeout
        self.compiled = _Uncompiled(self)
        self._anchored = None
        return self

    @property
    def is_compiled(self) -> bool:
        """False while a deferred pattern has not been used."""
        return not isinstance(self.compiled, _Uncompiled)

    def anchored(self) -> regex.Pattern:
        """The pattern as `match` runs it: the same matches, without the `regex` package's
        required-string prescan.

        For a pattern holding a literal ("\\s+alone\\b"), `regex` first searches the
        literal from `pos` to `endpos` — the rest of the text — before matching at
        `pos`: one `match` costs O(len(text)), and a `match` per value of a 5 MB sentence
        is quadratic. A branch that can never match (`|(?!)`) leaves the pattern's
        matches, groups and flags as they are but stops the package from deriving a
        required string (`anchored_pattern`). The rule loader may set it beforehand from
        a cache entry (`set_anchored`).
        """
        if self._anchored is None:  # compiled once, on first use
            self._anchored = regex.compile(anchored_pattern(self.pattern, self.compiled.flags), self.compiled.flags)
        return self._anchored

    def set_anchored(self, compiled: regex.Pattern) -> None:
        """Use `compiled` (made as `anchored()` makes it) for `match`."""
        self._anchored = compiled

    @property
    def flags(self) -> int:
        return self.compiled.flags

    @property
    def groupindex(self) -> Any:
        return self.compiled.groupindex

    # One method per call, written out: these run hundreds of thousands of times a page.
    def search(self, string: str, pos: int | None = None, endpos: int | None = None, *, timeout: float | None = None) -> regex.Match | None:
        try:
            return self.compiled.search(string, pos, endpos, timeout=timeout or self.timeout)
        except TimeoutError as err:
            raise RuleTimeout(self.rule, timeout or self.timeout) from err

    def match(self, string: str, pos: int | None = None, endpos: int | None = None, *, timeout: float | None = None) -> regex.Match | None:
        try:
            return (self._anchored or self.anchored()).match(string, pos, endpos, timeout=timeout or self.timeout)
        except TimeoutError as err:
            raise RuleTimeout(self.rule, timeout or self.timeout) from err

    def fullmatch(self, string: str, pos: int | None = None, endpos: int | None = None, *, timeout: float | None = None) -> regex.Match | None:
        try:
            return self.compiled.fullmatch(string, pos, endpos, timeout=timeout or self.timeout)
        except TimeoutError as err:
            raise RuleTimeout(self.rule, timeout or self.timeout) from err

    def sub(self, repl: Any, string: str, *, timeout: float | None = None) -> str:
        try:
            return self.compiled.sub(repl, string, timeout=timeout or self.timeout)
        except TimeoutError as err:
            raise RuleTimeout(self.rule, timeout or self.timeout) from err

    def finditer(self, string: str, pos: int | None = None, endpos: int | None = None, *, overlapped: bool = False,
                 timeout: float | None = None) -> Iterator[regex.Match]:
        """Matches in order; the time limit covers the whole iteration (the `regex` package's rule)."""
        limit = timeout or self.timeout
        try:
            yield from self.compiled.finditer(string, pos, endpos, overlapped=overlapped, timeout=limit)
        except TimeoutError as err:
            raise RuleTimeout(self.rule, limit) from err

    def __repr__(self) -> str:
        return f"TimedPattern({self.rule}: {self.pattern[:60]!r})"


def timed(pattern: str, flags: int, rule: str) -> TimedPattern:
    """Compile `pattern` with `flags` as rule `rule` (raises `regex.error` when it does not compile)."""
    return TimedPattern(regex.compile(pattern, flags), rule)
