"""Stage 3 — extract: a block's cells → measure candidates, exclusions and damage.

For each sentence of each cell, the full-text recognizers in `rules/regex/measures.yaml`
propose candidates; spaCy token patterns (`rules/patterns/*.jsonl`, a `Matcher` over a
`spacy.blank("en")` tokenizer) find routes; every regex hit is snapped to token
boundaries with `doc.char_span(..., alignment_mode="expand")`. Exclusions
(`rules/regex/exclusions.yaml`) remove the candidates they cover, damaged stretches
(`rules/regex/damage.yaml`, unbalanced brackets or quotes) yield nothing, and overlaps
are resolved by priority then length. Numbers nothing reads are returned as uncovered.

Every rule reads a number, so one anchor scan per cell finds the sentences that hold
one (a digit, a number word, a fold word or a counted unit); regex rules read only
those that also hold the rule's trigger, and spaCy only tokenizes short windows around
route words. docs/performance.md has the measurements.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import regex

from .branches import branched_after
from .compiled import (
    MATCH_TIMEOUT_S,
    NOT_REGEX_SPACE,
    Compiled,
    CompiledRules,
    Plan,
    SentenceAbbreviations,
    rule_name,
)
from .drugs import DrugLinker
from .models import UncoveredReason
from .normalize import Draft, NormalizationError, StatedNumbers, normalize_hit
from .segment import Block
from .spans import DisjointSpans, SpanIndex

if TYPE_CHECKING:  # spaCy is imported when a text first needs tokens (compiled.TokenEngine), if at all
    from spacy.tokens import Doc as SpacyDoc

    from .lighttokens import LightDoc

    Doc = SpacyDoc | LightDoc  # compiled.TokenEngine.make_doc: the same tokens either way

__all__ = ["NOT_REGEX_SPACE", "Extractor", "split_sentences", "clause_spans"]

OPENERS, CLOSERS = "([{", ")]}"


# Number words too common to report as uncovered numbers ("one of", "a week").
NOT_COUNTED = frozenset({"one", "a", "an", "zero"})

@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    cell: str  # title | findings | conclusion


@dataclass
class Excluded:
    start: int
    end: int
    rule_id: str
    suppresses: frozenset[str] | None  # None: all types


@dataclass
class UncoveredNumber:
    start: int
    end: int
    sentence: Sentence
    reason: UncoveredReason


@dataclass
class BlockExtraction:
    drafts: list[Draft] = field(default_factory=list)
    damaged: list[tuple[int, int, str]] = field(default_factory=list)
    uncovered: list[UncoveredNumber] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_SENTENCE_SIGNS = regex.compile(r"[()\[\]{}\n\r.!?]")


def split_sentences(text: str, start: int, end: int, cell: str, abbreviations: SentenceAbbreviations) -> list[Sentence]:
    """Sentences of text[start:end]; never splits inside brackets or after `abbreviations`
    (`CompiledRules.extract_tables.sentence_abbreviations`).

    Only the characters that can matter (brackets, newlines, sentence marks) are
    visited, so plain text costs one regex scan.
    """
    out: list[Sentence] = []
    depth = 0
    s = start
    resume = start
    for m in _SENTENCE_SIGNS.finditer(text, start, end):
        i = m.start()
        if i < resume:
            continue
        ch = text[i]
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth = max(0, depth - 1)
        elif ch in "\r\n":  # a lone \r breaks a line too
            if ch == "\r" and text.startswith("\n", i + 1):
                continue  # \r\n: the \n breaks it
            if _soft_wrap(text, i, end):
                continue  # a hard-wrapped line ("over the 30\nmonths of"): the sentence goes on
            depth = 0
            if text[s:i].strip():
                out.append(_trim(text, s, i, cell))
            s = i + 1
        elif depth == 0:  # . ! ?
            j = i + 1
            while j < end and text[j] in "\"”’)":
                j += 1
            if j < end and text[j] in " \t" and not abbreviations.ends_at(text, i):
                k = j
                while k < end and text[k] in " \t":
                    k += 1
                if k < end and (text[k].isupper() or text[k].isdigit() or text[k] in "\"“(~≈"):
                    out.append(_trim(text, s, j, cell))
                    s = resume = k
    if text[s:end].strip():
        out.append(_trim(text, s, end, cell))
    return out


def _soft_wrap(text: str, newline: int, end: int) -> bool:
    """A line break inside a sentence: the next line opens with a lower-case letter and
    the line it ends does not end a sentence (abstracts wrapped at a fixed width)."""
    k = newline + 1
    while k < end and text[k] in " \t":
        k += 1
    if k >= end or not text[k].islower():
        return False
    j = newline - 1
    while j >= 0 and text[j] in " \t\r":
        j -= 1
    return j >= 0 and text[j] not in ".!?:;\n"


def _trim(text: str, start: int, end: int, cell: str) -> Sentence:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Sentence(start, end, cell)


_CLAUSE_SIGNS = regex.compile(r"[()\[\]{};]")
_BRACKETS = regex.compile(r"[()\[\]{}]")


def clause_spans(text: str, sentence: Sentence) -> list[tuple[int, int]]:
    """Clauses of a sentence: split at ';' outside brackets."""
    spans, depth, s = [], 0, sentence.start
    for m in _CLAUSE_SIGNS.finditer(text, sentence.start, sentence.end):
        ch = m.group()
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0:
            spans.append((s, m.start()))
            s = m.start() + 1
    spans.append((s, sentence.end))
    return spans


class Extractor:
    """Runs the compiled rules over a block; `extract_block` is the core.

    It compiles nothing: every regex, the tokenizer, the `Matcher` and the tables it
    reads come from `CompiledRules` (pipeline/compiled.py), so building one is free.
    """

    def __init__(self, rules: CompiledRules):
        self.rules = rules
        t = rules.extract_tables
        self.tokens = rules.tokens  # spaCy's tokenizer ("i.v." stays one token) and Matcher, built on first use
        self.route_patterns = t.route_patterns
        self.route_prescan = t.route_prescan
        self.route_literals = t.route_literals
        self.route_window_ahead = t.route_window_ahead
        self.route_window_back = t.route_window_back
        self.gates = t.gates
        self.exclusion_plan = t.exclusion_plan
        self.drug_guarded = t.drug_guarded
        self.recognizer_plan = t.recognizer_plan
        self.reads_through = t.reads_through
        self.sentence_abbreviations = t.sentence_abbreviations
        # The reference `anchors()` must agree with (tests use it); extraction scans the two halves.
        self.anchor_re = t.anchor_re
        self.digit_anchor_re = t.digit_anchor_re
        self.spelled_anchor_re = t.spelled_anchor_re
        self.spelled_starts = t.spelled_starts
        # Drug names in text (only `mentions` is used), for the drug-guarded exclusions.
        self.drug_names = DrugLinker(rules.drug_name_index)

    def guarded(self, rule: Compiled, text: str, matches: list[regex.Match]) -> list[regex.Match]:
        """The matches of an exclusion that hold: all of them, or for a drug-guarded one
        those whose every `drug` capture lies inside a drug name of `text`."""
        if rule.id not in self.drug_guarded or not matches:
            return matches
        names = self.drug_names.mentions(text, 0, len(text))
        starts = [n.start for n in names]

        def named(a: int, b: int) -> bool:
            i = bisect_right(starts, a) - 1
            return i >= 0 and names[i].end >= b

        return [m for m in matches if all(named(a, b) for a, b in m.spans("drug"))]

    def rule_matches(self, rule: Compiled, text: str) -> list[regex.Match]:
        """Every match of one regex rule in `text`, as extraction keeps it (the rule test's view)."""
        return self.guarded(rule, text, list(rule.regex.finditer(text, overlapped=rule.id in self.drug_guarded)))

    def anchors(self, text: str) -> list[tuple[int, int, bool]]:
        """(start, end, plain) of every number anchor in `text`, in order; `plain` marks a
        number uncovered.csv reports when no rule reads it (a digit run, or a number
        word that is not part of a fold word and not "one", "a", "an", "zero")."""
        found = [(m.start(), m.end(), m.group("digits") is not None) for m in self.digit_anchor_re.finditer(text)]
        spelled = [
            (m.start(), m.end(), m.group("word") is not None and m.group("fold") is None and m.group().lower() not in NOT_COUNTED)
            for m in self._spelled(text)
        ]
        if spelled:
            found = sorted(found + spelled)
        return found

    def _spelled(self, text: str) -> list[regex.Match]:
        r"""`spelled_anchor_re.finditer(text)`, trying the regex only where a word starts.

        Candidates come from one Aho-Corasick pass over the casefolded text (regex's
        IGNORECASE is simple case folding, which casefold matches when it keeps the
        length); a candidate right after an ASCII letter, digit or "_" cannot pass the
        pattern's `(?<![\w-])` or `\b`. Trying candidates in order and skipping those
        inside the previous match is what finditer does at those positions.
        """
        folded = text.casefold()
        if len(folded) != len(text):
            return list(self.spelled_anchor_re.finditer(text))
        starts = sorted({end + 1 - len(literal) for end, literal in self.spelled_starts.iter(folded)})
        found: list[regex.Match] = []
        resume = 0
        for pos in starts:
            if pos < resume or (pos and text[pos - 1] in _ASCII_WORD):
                continue
            m = self.spelled_anchor_re.match(text, pos)
            if m:
                found.append(m)
                resume = m.end()
        return found

    # ------------------------------------------------------------------ core

    def extract_block(self, text: str, block: Block) -> BlockExtraction:
        """Candidates, exclusions, damage and uncovered numbers of one block."""
        result = BlockExtraction()
        for cell_name, span in block.cells():
            sentences = split_sentences(text, span.start, span.end, cell_name, self.sentence_abbreviations)
            result.sentences += sentences
            if sentences:
                self._extract_cell(text, span.start, span.end, sentences, result)
        if result.damaged:
            result.flags.append("damaged_text")
        result.drafts.sort(key=lambda d: (d.start, d.end, d.type))
        return result

    def _extract_cell(self, text: str, start: int, end: int, sentences: list[Sentence], result: BlockExtraction) -> None:
        """Run every rule once over a cell; offsets below are cell-relative until the end."""
        c_text = text[start:end]
        anchors = self.anchors(c_text)
        route_words = self.route_literals.literals_in(c_text)
        if not anchors and not (route_words and self.route_prescan.search(c_text)):
            return
        starts = [s.start - start for s in sentences]
        ends = [s.end - start for s in sentences]
        damaged: list[tuple[int, int, str]] = []
        for s, s0 in zip(sentences, starts, strict=True):
            damaged += [(s0 + a, s0 + b, rid) for a, b, rid in self._damage(text[s.start:s.end], text, s.start, result.warnings)]
        cell = _CellScan(self, c_text, starts, ends, anchors, lambda: text.count("\n", 0, start) + 1, result.warnings)
        sentence_of = cell.sentence_of

        excluded: list[Excluded] = []
        for ex, matches in cell.hits(self.exclusion_plan, self.drug_guarded):
            matches = self.guarded(ex, c_text, matches)
            sup = ex.entry.suppresses
            suppresses = None if sup == "all" else frozenset(sup)
            excluded += [Excluded(m.start(), m.end(), ex.id, suppresses) for m in matches]

        candidates: list[tuple[int, Draft]] = []
        unreadable: list[tuple[int, int]] = []
        stated = StatedNumbers(c_text)  # read once per cell, by the first share that needs its group size
        for rec, matches in cell.hits(self.recognizer_plan):
            for m in matches:
                try:
                    drafts = normalize_hit(m, rec.entry.type, rec.id, c_text, self.rules, stated=stated)
                except NormalizationError:
                    unreadable.append((m.start(), m.end()))
                    continue
                for d in drafts:
                    i = sentence_of(d.start)
                    if d.end > ends[i]:
                        continue  # a hit across a sentence boundary is not one value
                    if not _token_aligned(c_text, d.start, d.end):
                        hit_start, hit_end = d.start, d.end
                        self._snap(cell.doc(i), starts[i], d)
                        if _adds_digits(c_text, d.start, hit_start, hit_start) or _adds_digits(c_text, hit_end, d.end, hit_end - 1):
                            # "45\u00ad5%", "45~50%": the token holds digits of the number the value never read
                            unreadable.append((d.start, d.end))
                            continue
                    candidates.append((rec.entry.priority, d))
        for w_start, w_end in self._route_windows(c_text, starts, ends) if route_words else ():
            for d in self._routes(self.tokens.make_doc(c_text[w_start:w_end]), w_start):
                if self.route_patterns[d.rule_id].not_alone:
                    i = sentence_of(d.start)
                    if not _ALONE_REST.fullmatch(c_text[starts[i]:d.start] + c_text[d.end:ends[i]]):
                        candidates.append((40, d))
                else:
                    candidates.append((40, d))

        excluded_index = SpanIndex((e.start, e.end, e) for e in excluded)
        damaged_index = SpanIndex(damaged)
        kept: list[Draft] = []
        taken = DisjointSpans()
        for _priority, d in sorted(candidates, key=lambda pc: (-pc[0], -(pc[1].end - pc[1].start), pc[1].start)):
            # Exclusions are about numbers; a route carries none, so none removes it.
            if d.type != "route" and any((e.suppresses is None or d.type in e.suppresses)
                                         and not (e.rule_id in self.reads_through.get(d.rule_id, ())
                                                  and d.start <= e.start and e.end <= d.end)
                                         for _, _, e in excluded_index.overlapping(d.start, d.end)):
                continue
            if damaged_index.any_overlap(d.start, d.end) or taken.overlaps(d.start, d.end):
                continue
            kept.append(d)
            taken.add(d.start, d.end)

        covered = SpanIndex([(k.start, k.end, None) for k in kept] + [(e.start, e.end, None) for e in excluded])
        unreadable_index = SpanIndex((a, b, None) for a, b in unreadable)
        for a_start, a_end, plain in anchors:
            if not plain or covered.any_overlap(a_start, a_end):
                continue
            reason: UncoveredReason
            if damaged_index.any_overlap(a_start, a_end):
                reason = "damaged_text"
            elif unreadable_index.any_overlap(a_start, a_end):
                reason = "unreadable"
            else:
                reason = "no_rule"
            result.uncovered.append(UncoveredNumber(a_start + start, a_end + start, sentences[sentence_of(a_start)], reason))

        for d in kept:
            d.extra["sentence"] = sentences[sentence_of(d.start)]
            d.start += start
            d.end += start
        result.drafts += kept
        result.damaged += [(a + start, b + start, rid) for a, b, rid in damaged]

    def _route_windows(self, c_text: str, starts: list[int], ends: list[int]) -> list[tuple[int, int]]:
        """Stretches around route-word hits, merged, never across sentences.

        The Matcher then tokenizes a few words around each hit instead of whole
        sentences: the word before the hit, the hit's word and as many words after it as
        a match and its guards can reach (`route_window_ahead`). Windows start and end
        at whitespace, where spaCy's tokenizer splits anyway, so their tokens are the
        sentence's tokens (tests/test_route_windows.py checks this against whole
        sentences).
        """
        windows: list[tuple[int, int]] = []
        ahead = self.route_window_ahead
        for m in self.route_prescan.finditer(c_text, starts[0], ends[-1]):  # one scan; sentences by bisection
            i = bisect_right(starts, m.start()) - 1
            s0, s1 = starts[max(i, 0)], ends[max(i, 0)]
            if i < 0 or m.end() > s1:  # only whitespace lies between sentences: never, but cheap to state
                continue
            if ahead is None:
                a, b = s0, s1
            else:
                a = self.route_window_back.match(c_text, s0, m.start()).start()  # type: ignore[union-attr]
                b = ahead.match(c_text, m.start(), s1).end()  # type: ignore[union-attr]
            if windows and a <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
            else:
                windows.append((a, b))
        return windows

    def _routes(self, doc: Doc, offset: int) -> list[Draft]:
        """Route mentions from the token patterns, with their context guards."""
        out = []
        for pattern_id, t_start, t_end in self.tokens.matches(doc):
            pattern = self.route_patterns[pattern_id]
            if pattern.keep:
                t_start, t_end = t_start + pattern.keep[0], t_start + pattern.keep[1]
            after = t_end + 1 if t_end < len(doc) and doc[t_end].text == "-" else t_end  # "oral-health"
            if _guarded_by(pattern.not_before, doc, after, ahead=True) or _guarded_by(pattern.not_after, doc, t_start, ahead=False):
                continue
            span = doc[t_start:t_end]
            out.append(Draft(type="route", start=span.start_char + offset, end=span.end_char + offset, rule_id=pattern.id, label=pattern.label))
        return out

    @staticmethod
    def _snap(doc: Doc, offset: int, d: Draft) -> None:
        """Widen a regex hit to whole spaCy tokens (`alignment_mode="expand"`)."""
        span = doc.char_span(d.start - offset, d.end - offset, alignment_mode="expand")
        if span is not None:
            d.start, d.end = span.start_char + offset, span.end_char + offset

    def _damage(self, s_text: str, text: str, s_start: int, warnings: list[str]) -> list[tuple[int, int, str]]:
        """Damaged stretches of one sentence (`s_text`, at `s_start` of `text`): (start, end, rule id).

        A damage sign that runs out of time leaves the sentence's damage unknown: the
        whole sentence counts as damaged (nothing is read from it) and a warning names
        the rule and the line."""
        out = []
        depth = 0
        for m in _BRACKETS.finditer(s_text):
            if m.group() in OPENERS:
                depth += 1
            elif depth == 0:
                # A closer with no opener is most often the source's typo ("…, CI 0.21 to 1.05);"):
                # the bracket alone is damaged, so the block is flagged and its shares still read.
                # Stripped markup leaves other signs too (damage.doubled_word_across_gap).
                out.append((m.start(), m.end(), "damage.unbalanced_bracket"))
            else:
                depth -= 1
        if depth > 0:
            first_open = max(s_text.rfind(o) for o in OPENERS)
            out.append((first_open, len(s_text), "damage.unclosed_bracket"))
        if s_text.count("“") != s_text.count("”"):
            out.append((0, len(s_text), "damage.unbalanced_quote"))
        for sign in self.rules.damage:
            if sign.gate is not None and not sign.gate.literals_in(s_text):
                continue
            try:
                m = sign.regex.search(s_text, timeout=MATCH_TIMEOUT_S + len(s_text) / 50_000)
            except TimeoutError:
                warnings.append(f"line {text.count(chr(10), 0, s_start) + 1}: damage rule {rule_name(sign.path, sign.id)} timed out "
                                f"after {MATCH_TIMEOUT_S + len(s_text) / 50_000:.0f}s on this sentence; nothing extracted from it")
                out.append((0, len(s_text), sign.id))
                continue
            if m:
                out.append((0, m.end(), sign.id))
        return out


class _CellScan:
    """One cell as the regex rules see it, with offsets relative to the cell.

    Rules read only sentences that hold a number and their trigger, in runs of
    consecutive such sentences (the extractor drops a hit across a sentence boundary).
    Every trigger and rule gate is tested at once when the scan is made, literals first
    (pipeline/prefilter.py); `hits(plan)` then runs each rule over the runs its gates
    admit.
    """

    __slots__ = ("_docs", "_line", "_tokens", "_warnings", "ends", "held", "numeric", "starts", "text", "timeout")

    def __init__(self, extractor: Extractor, text: str, starts: list[int], ends: list[int],
                 anchors: list[tuple[int, int, bool]], line: Callable[[], int], warnings: list[str]):
        """`line()` gives the cell's first line number (only needed for a warning)."""
        self.text, self.starts, self.ends = text, starts, ends
        self.numeric = sorted({self.sentence_of(a_start) for a_start, _, _ in anchors})
        # Triggers' regexes run only where a rule's other gates hold too (prefilter.Holding).
        self.held = extractor.gates.holding_lazily(text, [(starts[i], ends[i]) for i in self.numeric])
        # Catastrophic patterns are refused at load time; this bound only keeps a
        # pathological input from stalling a run, and grows with the cell.
        self.timeout = MATCH_TIMEOUT_S + len(text) / 50_000
        self._tokens, self._line, self._warnings = extractor.tokens, line, warnings
        self._docs: dict[int, Doc] = {}

    def sentence_of(self, pos: int) -> int:
        """Index of the sentence holding cell offset `pos`."""
        return max(0, bisect_right(self.starts, pos) - 1)

    def runs(self, indexes: list[int]) -> list[tuple[int, int]]:
        """(start, end) of each run of consecutive sentences among sorted `indexes`."""
        out: list[tuple[int, int]] = []
        for k, i in enumerate(indexes):
            if k and indexes[k - 1] == i - 1:
                out[-1] = (out[-1][0], self.ends[i])
            else:
                out.append((self.starts[i], self.ends[i]))
        return out

    def admitted_runs(self, keys: tuple[str, ...]) -> list[tuple[int, int]]:
        """Runs of the numeric sentences where every gate of `keys` holds."""
        if not keys:
            return self.runs(self.numeric)
        return self.runs([self.numeric[k] for k in self.held.admitted(keys)])

    def hits(self, plan: Plan,
             overlapped: frozenset[str] = frozenset()) -> Iterator[tuple[Compiled, list[regex.Match]]]:
        """Each rule of a plan whose gates hold somewhere, with its matches there (overlapping
        ones for the rules in `overlapped`, whose guard may refuse a match that hides another)."""
        present = self.held.present()
        text, timeout = self.text, self.timeout
        for rule, keys, needed in plan:
            if not present >= needed:  # a gate holds nowhere in this cell
                continue
            runs = self.admitted_runs(keys)
            if not runs:
                continue
            try:
                # An alternation is searched branch by branch where that gives the same matches (pipeline/branches.py).
                split = None if rule.id in overlapped else branched_after(rule.regex, sum(r1 - r0 for r0, r1 in runs))
                if split is not None:
                    yield rule, [m for r0, r1 in runs for m in split.finditer(text, r0, r1, timeout=timeout)]
                    continue
                yield rule, [m for r0, r1 in runs for m in rule.regex.finditer(text, r0, r1, overlapped=rule.id in overlapped,
                                                                               timeout=timeout)]
            except TimeoutError:
                self._warnings.append(f"line {self._line()}: rule {rule_name(rule.path, rule.id)} timed out after "
                                      f"{timeout:.0f}s on this cell; its values here are not extracted")

    def doc(self, i: int) -> Doc:
        """Sentence `i` tokenized by spaCy (made once, for snapping hits to tokens)."""
        if i not in self._docs:
            self._docs[i] = self._tokens.make_doc(self.text[self.starts[i]:self.ends[i]])
        return self._docs[i]


# What may stand beside a `not_alone` route match in a sentence it is alone in.
_ALONE_REST = regex.compile(r"[\s\p{P}]*")


def _guarded_by(guards: list[str], doc: Doc, at: int, ahead: bool) -> bool:
    """True when one of the guards (lower-case tokens separated by spaces: "health",
    "evidence :") stands in `doc` right from token `at` on (`ahead`) or right before it."""
    for guard in guards:
        words = guard.split()
        lo, hi = (at, at + len(words)) if ahead else (at - len(words), at)
        if lo >= 0 and hi <= len(doc) and [t.lower_ for t in doc[lo:hi]] == words:
            return True
    return False


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_LEFT_EDGE = set(" \t\n([{\"“‘'/")
_RIGHT_EDGE = set(" \t\n)]}.,;:!?\"”’'/%")


def _token_aligned(text: str, start: int, end: int) -> bool:
    """True when a span starts and ends where spaCy's tokenizer splits anyway (no Doc needed)."""
    return (start == 0 or text[start - 1] in _LEFT_EDGE) and (end == len(text) or text[end] in _RIGHT_EDGE)


def _adds_digits(text: str, start: int, end: int, edge: int) -> bool:
    """True when text[start:end], what snapping added beside the hit's character at `edge`,
    holds a decimal digit that may belong to the hit's number: the edge is no letter (the
    "-1" of "μg/kg-1" is the unit's exponent)."""
    return not text[edge].isalpha() and any(ch.isdecimal() for ch in text[start:end])


def _overlaps(a1: int, b1: int, a2: int, b2: int) -> bool:
    return a1 < b2 and a2 < b1
