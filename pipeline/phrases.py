"""Large vocabularies of plain words and phrases: looked up word by word, not one regex each.

A condition vocabulary of 20,000 terms such as `\\bfibromyalgia\\b` cost, as regexes,
20,000 compilations, backtracking probes and literal derivations at load (check-rules:
22 s) and a literal gate per term at run time. Most terms of a large vocabulary are
*phrases*: `\\b`, ASCII words joined by `\\s+`, a space or a hyphen, `\\b`. For those a
`PhraseIndex` keys each term on its first word (as written, or folded for a
case-insensitive term) and finds, in one pass over a text's words, where each term may
start; the term's own regex then confirms each such start (compiled the first time it is
needed, cached per process: a pure function of the pattern), so the matches are exactly
the regex's — `finditer`'s non-overlapping matches, in order.

Why the regex still confirms: `regex`'s `(?i)` equates a few non-ASCII letters with
ASCII ones in ways casefolding does not (`ı` matches `I`, `İ` matches `i`), and `\\b`
looks at the text before `pos`. The word lookup only has to be a superset: every match
starts where a run of word characters starts, and that run (cut at `endpos`) is the
term's first word. A phrase regex cannot backtrack catastrophically (each word is
literal; `\\s+` is followed by a literal word character), so it needs no load-time probe.

spaCy's `PhraseMatcher` was the other candidate. It matches sequences of spaCy tokens,
and those are not `\\b` words: the rules' tokenizer keeps `i.v.` or `U.S.` one token,
splits `5mg` in two (`\\b` sees one word there), and `don't` into `do` and `n't`. Its
matches would differ from the regexes', so a condition's score would depend on whether
its vocabulary crossed the size threshold. A dict from first word to terms
is the token-set lookup `\\b` semantics need, exact once the regex confirms, and costs
nothing to build (20,000 terms: well under a second).

Below `MIN_PHRASES` phrase terms a vocabulary keeps its regexes and literal gates: the
word pass costs a scan of each block, which pays only when it replaces many regexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from .timed import TimedPattern

# A phrase-shaped pattern: \b, ASCII words joined by \s+, \s, a space or a hyphen, \b.
_PHRASE = regex.compile(r"\\b([A-Za-z0-9]+)(?:(?:\\s\+|\\s| |-|\\-)[A-Za-z0-9]+)*\\b")
# Where a run of word characters starts (the lookbehind sees the text before `pos`, as `\b` does).
_WORD = TimedPattern(regex.compile(r"(?<!\w)\w+"), "phrases:words")
MIN_PHRASES = 200  # phrase terms from which a vocabulary is looked up by word


def first_word(pattern: str) -> str | None:
    """The first word of a phrase-shaped pattern (`\\bpost-?x\\b` is not one), else None."""
    m = _PHRASE.fullmatch(pattern)
    return m.group(1) if m else None


def fold(word: str) -> str:
    """A word folded so that two words `regex`'s `(?i)` may equate fold alike: casefolded
    one character at a time (ß stays ß, as in `regex`'s simple folding), dotted and
    dotless i as i."""
    folded = word.casefold()
    if len(folded) != len(word):
        folded = "".join(f if len(f := c.casefold()) == 1 else c for c in word)
    return folded.replace("ı", "i").replace("İ", "i")


@lru_cache(maxsize=8192)
def _compiled(pattern: str, flags: int, rule: str) -> TimedPattern:
    return TimedPattern(regex.compile(pattern, flags), rule)


@dataclass(frozen=True)
class Phrase:
    """One phrase term: its pattern, its regex flags and the name a timeout reports."""

    pattern: str
    flags: int
    rule: str

    def regex(self) -> TimedPattern:
        """The term's compiled regex (compiled on first use, then shared in the process)."""
        return _compiled(self.pattern, self.flags, self.rule)


@dataclass(frozen=True)
class PhraseIndex:
    """Phrase terms by first word: `cased` as written, `folded` by `fold` (case-insensitive terms)."""

    phrases: dict[int, Phrase]  # term index (the vocabulary's order) → phrase
    cased: dict[str, tuple[int, ...]] = field(default_factory=dict)
    folded: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, terms: Iterable[tuple[int, str, int, str]]) -> PhraseIndex:
        """From (term index, phrase-shaped pattern, regex flags, rule name) items."""
        phrases: dict[int, Phrase] = {}
        cased: dict[str, list[int]] = {}
        folded: dict[str, list[int]] = {}
        for i, pattern, flags, rule in terms:
            word = first_word(pattern)
            if word is None:
                raise ValueError(f"{rule}: {pattern!r} is not a phrase")
            phrases[i] = Phrase(pattern, flags, rule)
            if flags & regex.IGNORECASE:
                folded.setdefault(fold(word), []).append(i)
            else:
                cased.setdefault(word, []).append(i)
        return cls(phrases, {w: tuple(v) for w, v in cased.items()}, {w: tuple(v) for w, v in folded.items()})

    def __len__(self) -> int:
        return len(self.phrases)

    def starts(self, text: str, pos: int, endpos: int) -> dict[int, list[int]]:
        """{term index: the offsets in text[pos:endpos] where it may match, in order}; a
        superset of where its regex matches there."""
        found: dict[int, list[int]] = {}
        for m in _WORD.finditer(text, pos, endpos):
            word = m.group()
            for i in (*self.cased.get(word, ()), *self.folded.get(fold(word), ())):
                found.setdefault(i, []).append(m.start())
        return found

    def finditer(self, i: int, text: str, starts: list[int], endpos: int) -> Iterator[regex.Match]:
        """Term i's matches in `text` up to `endpos`, tried at `starts` (from `starts()`):
        the same non-overlapping matches, in the same order, as its regex's `finditer`."""
        compiled = self.phrases[i].regex()
        end = -1
        for start in starts:
            if start < end:
                continue  # inside the previous match: finditer never looks there
            m = compiled.match(text, start, endpos)
            if m is not None:
                end = m.end()
                yield m
