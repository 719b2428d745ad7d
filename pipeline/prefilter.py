"""Literal prefilters: the substrings one of which every match of a regex must contain.

A rule's trigger (`trigger:` in `rules/regex/*.yaml`) gates the sentences the rule
reads. Most triggers are keyword lists (`OR|(?i:odds)`), and asking "does this sentence
hold `OR` or `odds`?" is many times cheaper than a backtracking regex search. `Trigger`
derives those literals from a pattern's parse tree once, at load time:

- `complete` triggers are a plain alternation of literals: a literal's presence *is* a
  match, so the regex is never run;
- other triggers (`\\bd\\s?[=≈]`) still get the literals every match must hold (here
  one of `=`, `≈`); a sentence without them is skipped, one with them is confirmed
  by the regex;
- `Trigger.gate(pattern)` is the literals-only kind, derived from a rule's own pattern:
  it narrows the sentences a rule reads and never runs a regex;
- a pattern nothing can be derived from is searched as before.

`TriggerSet` tests many of them together: one Aho-Corasick pass (pyahocorasick) per
sentence finds every literal of every trigger and gate. The extractor reads it through
`Holding`, which runs a trigger's regex only on the sentences where the rest of a
rule's gates hold too. `lookaround_literals` gives what a pattern's positive
lookarounds must read (the branch gates of `pipeline/branches.py`).

Why write this: RE2 and Hyperscan compute such prefilters internally, but neither
exposes them for Python's `regex` dialect (lookbehind, `\\b` inside `(?i:...)`), and
Hyperscan has no wheels beyond x86-64. The derivation reads the parse tree of the
standard library's `re` parser, which understands every construct the rules use; a
pattern it cannot parse, or only parses with a warning, gets no literals.

Case-insensitive literals are compared casefolded. When casefolding keeps a text's
length, every character folded one-to-one, which is the simple case folding `regex`
uses for `(?i)`; when it does not (ß → ss), those literals are not trusted and the
regex decides.
"""

from __future__ import annotations

import re
import re._constants as sre  # type: ignore[import-not-found]  # noqa: PLC2701 - the stable parse-tree opcodes of `re`; typeshed stubs only their deprecated `sre_*` aliases
import re._parser as sre_parse  # type: ignore[import-not-found]  # noqa: PLC2701 - no stubs, as above
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Any

import ahocorasick
import regex

from .timed import TimedPattern

# (text, folded): a literal matched as written, or casefolded against casefolded text.
Needle = tuple[str, bool]
# More alternatives than this and a set is not worth keeping (each costs a find).
MAX_LITERALS = 32

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}


@dataclass(frozen=True)
class _Info:
    alternatives: frozenset[Needle] | None  # every string the node matches, if few and known
    required: frozenset[Needle] | None  # one of these is inside every match
    exact: bool  # no zero-width assertion narrows `alternatives`


def _literal(char: str, folded: bool) -> Needle:
    return (char.casefold(), True) if folded else (char, False)


def _concat(left: frozenset[Needle], right: frozenset[Needle]) -> frozenset[Needle] | None:
    if len(left) * len(right) > MAX_LITERALS:
        return None  # too many to keep (and products of big sets are what made loading slow)
    out = set()
    for (a, fa), (b, fb) in product(left, right):
        if a and b and fa != fb:
            return None  # "a(?i:b)": neither as written nor folded
        out.add((a + b, fa if a else fb))
    return frozenset(out) if len(out) <= MAX_LITERALS else None


def _rarity(literal: str) -> float:
    """How seldom a literal occurs in prose: its length, plus a half for a sign ("=" beats
    "d", but "vs" beats "." and ";")."""
    return len(literal) + 0.5 * (not literal.isalnum())


def _best(candidates: list[frozenset[Needle]]) -> frozenset[Needle] | None:
    """The most selective set: the rarest least-rare literal, then fewest literals."""
    usable = [c for c in candidates if c and all(text for text, _ in c)]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(_rarity(t) for t, _ in c), -len(c)))


def _sequence(items: Any, folded: bool) -> _Info:
    empty: frozenset[Needle] = frozenset({("", False)})
    run = empty  # the literals of the current stretch of fixed text
    alternatives: frozenset[Needle] | None = empty
    candidates: list[frozenset[Needle]] = []
    exact = True
    for op, arg in items:
        info = _node(op, arg, folded)
        exact = exact and info.exact
        if info.required is not None:
            candidates.append(info.required)
        if info.alternatives is None:
            alternatives = None
            run = empty  # a gap in the fixed text: the next stretch starts after it
            continue
        if alternatives is not None:
            alternatives = _concat(alternatives, info.alternatives)
        run = _concat(run, info.alternatives) or info.alternatives
        candidates.append(run)
    return _Info(alternatives, _best(candidates), exact)


def _node(op: Any, arg: Any, folded: bool) -> _Info:
    if op is sre.LITERAL:
        one = frozenset({_literal(chr(arg), folded)})
        return _Info(one, one, True)
    if op is sre.IN:
        if all(kind is sre.LITERAL for kind, _ in arg) and len(arg) <= MAX_LITERALS:
            chars = frozenset(_literal(chr(c), folded) for _, c in arg)
            return _Info(chars, chars, True)
        return _Info(None, None, True)
    if op is sre.BRANCH:
        branches = [_sequence(b, folded) for b in arg[1]]
        exact = all(b.exact for b in branches)
        alternatives = None
        if all(b.alternatives is not None for b in branches):
            union = frozenset[Needle]().union(*(b.alternatives for b in branches if b.alternatives is not None))
            alternatives = union if len(union) <= MAX_LITERALS else None
        required = None
        if all(b.required is not None for b in branches):
            union = frozenset[Needle]().union(*(b.required for b in branches if b.required is not None))
            required = union if len(union) <= MAX_LITERALS else None
        return _Info(alternatives, required, exact)
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, items = arg
        inner_folded = (folded or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _sequence(items, inner_folded)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(arg, folded)
    if op in _REPEATS:
        low, high, items = arg
        inner = _sequence(items, folded)
        required = inner.required if low >= 1 else None
        if low == high == 1:
            alternatives = inner.alternatives
        elif low == 0 and high == 1 and inner.alternatives is not None:
            alternatives = inner.alternatives | {("", False)}
        else:
            alternatives = None
        return _Info(alternatives, required, inner.exact)
    if op in _ZERO_WIDTH:
        return _Info(frozenset({("", False)}), None, False)
    return _Info(None, None, op is not sre.GROUPREF)  # ANY, CATEGORY, NOT_LITERAL, ...


# What `required_literals` answers: (literals one of which every match holds, or None; complete).
Literals = tuple[frozenset[Needle] | None, bool]
# A function of (pattern, ignorecase) giving its `Literals`: `required_literals`, or a recorder of it.
Derive = Callable[[str, bool], Literals]
# A function of (pattern, flags, rule name) giving its `TimedPattern`.
MakePattern = Callable[[str, int, str], TimedPattern]


def _compile_now(pattern: str, flags: int, rule: str) -> TimedPattern:
    return TimedPattern(regex.compile(pattern, flags), rule)


@lru_cache(maxsize=1024)
def required_literals(pattern: str, ignorecase: bool = False) -> tuple[frozenset[Needle] | None, bool]:
    """(literals one of which every match holds, or None; True if their presence is a match).

    A pure function of its arguments, kept for the process: loading the rules again (each
    `evidex run` in one process, every test) does not walk the same parse trees again.
    """
    try:
        with warnings.catch_warnings():
            # re reads regex-only syntax such as "[[:alpha:]]" differently and only warns
            # ("possible nested set"): a tree it is unsure of yields no literals.
            warnings.simplefilter("error")
            tree = sre_parse.parse(pattern, re.IGNORECASE if ignorecase else 0)
    except (re.error, RecursionError, OverflowError, Warning):
        return None, False
    info = _sequence(tree, bool(tree.state.flags & re.IGNORECASE))
    if info.required is None:
        return None, False
    complete = info.exact and info.alternatives is not None and info.alternatives == info.required
    return info.required, complete


@lru_cache(maxsize=1024)
def lookaround_literals(pattern: str, ignorecase: bool = False) -> tuple[frozenset[Needle], ...]:
    """For each positive lookahead or lookbehind at the top level of `pattern` (one every
    match must pass), the literals one of which its own match holds; () when there are none.

    A required literal of `required_literals` lies in what a match consumes; these lie in
    what its lookarounds read, which may be before the match (a lookbehind sees before
    `pos`), so they can only be looked for in the whole text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = sre_parse.parse(pattern, re.IGNORECASE if ignorecase else 0)
    except (re.error, RecursionError, OverflowError, Warning):
        return ()
    folded = bool(tree.state.flags & re.IGNORECASE)
    found = []
    for op, arg in tree:
        if op is sre.ASSERT:  # (direction, items): positive only; ASSERT_NOT requires nothing
            required = _sequence(arg[1], folded).required
            if required is not None and all(text for text, _ in required):
                found.append(required)
    return tuple(found)


def minimal_literals(literals: Any) -> tuple[str, ...]:
    """Sorted literals without those that contain another ("hour" is found when "h" is)."""
    unique = sorted(set(literals))
    return tuple(t for t in unique if not any(u != t and u in t for u in unique))


class Trigger:
    """A compiled trigger regex with its literal prefilter.

    `Trigger.gate(pattern)` is the literals-only kind: the literals a rule's own pattern
    requires, which gate sentences on top of the rule's trigger and never run a regex.
    """

    def __init__(self, pattern: str, *, ignorecase: bool = False, literals_only: bool = False, rule: str = "trigger",
                 derive: Derive | None = None, make: MakePattern | None = None):
        """`rule` names the trigger in a timeout (`regex/measures.yaml:ratio.odds (trigger)`);
        `derive` gives the literals (default `required_literals`) and `make(pattern, flags,
        rule)` the trigger's `TimedPattern` (default: compiled now); the rule loader passes
        its own, which record them or take them from a cache entry (`pipeline/rulecache.py`)."""
        self.pattern = pattern
        # The same pattern text under other flags has other literals: the key tells them apart.
        self.key = ("gate:" if literals_only else "") + ("(?i)" if ignorecase else "") + pattern
        literals, complete = (derive or required_literals)(pattern, ignorecase)
        flags = regex.IGNORECASE if ignorecase else 0
        self.regex = None if literals_only else (make or _compile_now)(pattern, flags, rule)
        self.complete = complete or literals_only
        self.has_literals = literals is not None
        self.cased = minimal_literals(t for t, folded in literals or () if not folded)
        self.folded = minimal_literals(t for t, folded in literals or () if folded)

    @classmethod
    def gate(cls, pattern: str, ignorecase: bool, derive: Derive | None = None) -> Trigger | None:
        """The literals every match of a rule pattern holds, or None when there are none to test."""
        gate = cls(pattern, ignorecase=ignorecase, literals_only=True, derive=derive)
        return gate if gate.has_literals else None

    def literals_in(self, text: str) -> bool:
        """False only if `text` holds none of the literals, so no match can lie in it."""
        if not self.has_literals or any(t in text for t in self.cased):
            return True
        if not self.folded:
            return False
        folded = text.casefold()
        return len(folded) != len(text) or any(t in folded for t in self.folded)

    def holds(self, text: str) -> bool:
        """True if the trigger matches in `text`, decided the way the extractor decides it."""
        return bool(TriggerSet([self]).holding(text, [(0, len(text))]))

    def __repr__(self) -> str:
        return f"Trigger({self.pattern!r}, cased={self.cased}, folded={self.folded}, complete={self.complete})"


class TriggerSet:
    """Many triggers tested together: one Aho-Corasick pass per span finds every literal.

    `holding(text, spans)` answers, for every trigger at once, which of the spans
    (sentences) it holds in. Cased literals are searched in the text, case-insensitive
    ones in its casefolded copy; triggers that are more than their literals are then
    confirmed by their regex on the spans their literals admitted.
    """

    def __init__(self, triggers: Iterable[Trigger]):
        self.by_key = {t.key: t for t in triggers}
        self.triggers = list(self.by_key.values())
        self.unliteral = [t for t in self.triggers if not t.has_literals]  # nothing to look for
        self.caseless = [t for t in self.triggers if t.has_literals and t.folded]
        # literal -> the keys of the triggers holding it, in trigger order (one pass: with
        # 20k condition terms a scan of every trigger per literal took minutes).
        cased: dict[str, list[str]] = {}
        folded: dict[str, list[str]] = {}
        for g in self.triggers:
            for t in g.cased:
                cased.setdefault(t, []).append(g.key)
            for t in g.folded:
                folded.setdefault(t, []).append(g.key)
        self.cased = literal_automaton({t: tuple(keys) for t, keys in cased.items()})
        self.folded = literal_automaton({t: tuple(keys) for t, keys in folded.items()})

    def literal_candidates(self, text: str, spans: list[tuple[int, int]]) -> tuple[dict[str, set[int]], list[Trigger]]:
        """One Aho-Corasick pass: {trigger key: indexes of the spans holding one of its literals},
        and the triggers that must be judged on every span (no literals, or case-insensitive
        ones where casefolding `text` changes its length, so offsets would not line up)."""
        casefolded = text.casefold()
        folded = casefolded if len(casefolded) == len(text) else None
        candidates: dict[str, set[int]] = {}
        for k, (a, b) in enumerate(spans):
            # A literal found many times yields the same key tuple each time: dedupe first.
            groups = {keys for _end, keys in self.cased.iter(text, a, b)} if len(self.cased) else set()
            if folded is not None and len(self.folded):
                groups.update(keys for _end, keys in self.folded.iter(folded, a, b))
            for keys in groups:
                for key in keys:
                    candidates.setdefault(key, set()).add(k)
        if folded is None:
            candidates = {key: ks for key, ks in candidates.items() if not self.by_key[key].folded}
            return candidates, self.unliteral + self.caseless
        return candidates, self.unliteral

    def holding(self, text: str, spans: list[tuple[int, int]]) -> dict[str, list[int]]:
        """{trigger key: indexes of the spans of `text` it matches in}; absent triggers are left out."""
        candidates, blind = self.literal_candidates(text, spans)
        everywhere = set(range(len(spans)))
        held: dict[str, list[int]] = {}
        for trigger, admitted in [(t, everywhere) for t in blind] + [
            (self.by_key[key], spans_of) for key, spans_of in candidates.items()
        ]:
            if trigger.regex is None or (trigger.complete and admitted is not everywhere):
                confirmed = sorted(admitted)
            else:
                confirmed = [k for k in sorted(admitted) if trigger.regex.search(text, *spans[k])]
            if confirmed:
                held[trigger.key] = confirmed
        return held


    def holding_lazily(self, text: str, spans: list[tuple[int, int]]) -> Holding:
        """What `holding` answers, with each trigger's regex run only on the spans a caller
        asks about (`Holding.admitted`): the same spans, fewer confirmations."""
        return Holding(self, text, spans)


class Holding:
    """Which spans of a text each trigger holds in, as `TriggerSet.holding` decides it, but
    confirmed lazily: the one Aho-Corasick pass gives every trigger's candidate spans at
    once; a trigger's regex runs on a span only when `admitted` asks about that span (after
    intersecting with the other keys' candidates), at most once per trigger and span."""

    __slots__ = ("_candidates", "_confirmed", "_spans", "_text", "_unsure")

    def __init__(self, triggers: TriggerSet, text: str, spans: list[tuple[int, int]]):
        self._text, self._spans = text, spans
        found, blind = triggers.literal_candidates(text, spans)
        self._candidates: dict[str, set[int]] = {}
        self._unsure: dict[str, TimedPattern] = {}  # key -> the regex that confirms its candidates
        everywhere = set(range(len(spans)))
        for trigger, admitted, is_blind in [(t, everywhere, True) for t in blind] + [
            (triggers.by_key[key], spans_of, False) for key, spans_of in found.items()
        ]:
            if not admitted:
                continue
            self._candidates[trigger.key] = admitted
            if trigger.regex is not None and not (trigger.complete and not is_blind):
                self._unsure[trigger.key] = trigger.regex
        self._confirmed: dict[tuple[str, int], bool] = {}

    def present(self) -> Any:
        """The keys that may hold somewhere (a superset of `holding`'s keys: one whose
        candidates all fail their regex is here, and `admitted` gives it no span)."""
        return self._candidates.keys()

    def admitted(self, keys: tuple[str, ...]) -> list[int]:
        """Sorted indexes of the spans where every trigger of `keys` holds (each in `present()`)."""
        candidates = self._candidates
        inter = candidates[keys[0]] if len(keys) == 1 else candidates[keys[0]].intersection(*(candidates[k] for k in keys[1:]))
        out = sorted(inter)
        for key in keys:
            pattern = self._unsure.get(key)
            if pattern is not None and out:
                out = [k for k in out if self._holds(key, pattern, k)]
        return out

    def _holds(self, key: str, pattern: TimedPattern, k: int) -> bool:
        memo = (key, k)
        found = self._confirmed.get(memo)
        if found is None:
            found = self._confirmed[memo] = pattern.search(self._text, *self._spans[k]) is not None
        return found


def literal_automaton(values: dict[str, Any]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton over the given literals. Its `iter(text)` yields
    (end index, value) for every occurrence, overlapping ones too; a value of None
    stands for the literal itself."""
    automaton = ahocorasick.Automaton()
    for literal, value in values.items():
        automaton.add_word(literal, literal if value is None else value)
    if values:
        automaton.make_automaton()
    return automaton
