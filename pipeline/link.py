"""Stage 5 — link: give each value its context from the sentence it sits in.

`link_block(text, drafts, rules)` takes a block's normalized drafts and returns the
kept ones with:

* rate type — a share becomes response_rate, remission_rate or other_rate (with its
  outcome label) from the cue words of `rules/vocab/outcomes.yaml`: a cue right before
  it ("remission rate 41.5%") wins; a share continuing the previous one ("falling to
  28%") takes its type; a share after "vs"/"versus" takes the type of the first share
  of its clause; otherwise the nearest cue (right in the clause, then left in the
  sentence); a share with no cue at all is other_rate with label `other`;
  An abbreviation the text defines for an outcome ("complete response (CR; …)") is a
  cue of that outcome's type wherever it recurs in the block ("CR rates were 73.5%");
* arm — for rates: the arm named in the value's own comparison segment, else the
  block's default treatment arm; for effects and ratios: the arm of the sentence's
  first segment (the treatment, never the comparator);
* timepoint_days — from a follow_up in the same clause, or framing it from an earlier
  clause of the sentence ("At 24 hours, …; …"); the upper end of a range; periods
  ("over", "up to", "at least") are not assessment times;
* CI and p were already read with the ratio or effect by its recognizer.

Most cue and arm regexes cannot match in a given cell or sentence; each is first
tested by the literals every match of it holds (`_needles`), which is far cheaper.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

import regex

from .abbreviations import long_form_start
from .arms import ArmLinker, BlockArms
from .compiled import CompiledRules
from .drugs import DrugLinker
from .extract import Sentence, clause_spans
from .models import ARMED_TYPES
from .normalize import Draft
from .prefilter import Trigger
from .rules import OutcomeCue
from .spans import Partition, SpanIndex, enclosing_brackets
from .timed import TimedPattern, timed

Cue = tuple[TimedPattern, OutcomeCue, Trigger]

# A comparator segment with its own reference time does not inherit the sentence's.
OWN_ANCHOR = regex.compile(r"\b(?:after|following|at)\s+(?:the\s+)?(?:initial|first|single|baseline|last)\b", regex.IGNORECASE)
P_VALUE = regex.compile(r"(?<![\w.])p\s?[=<>≤]=?\s?(?P<p>\d*[.·]?\d+)")
# How far (characters) linking looks around a value: keeps it linear on huge sentences.
CONTEXT = 300
VERSUS = regex.compile(r"\b(?:vs\.?|versus)\s")


class _Haystack:
    """A stretch text[start:end] with its casefolded copy, for `_needles` tests at text offsets."""

    __slots__ = ("end", "folded", "start", "text")

    def __init__(self, text: str, start: int = 0, end: int | None = None):
        self.text, self.start, self.end = text, start, len(text) if end is None else end
        folded = text[start:self.end].casefold()
        # Case-insensitive literals are looked for casefolded. When folding keeps the
        # length, every character folded one-to-one (regex's simple case folding) and the
        # offsets line up; when it does not (ß → ss), the regex has to decide.
        self.folded = folded if len(folded) == self.end - start else None

    def may_match(self, needles: Trigger, start: int, end: int) -> bool:
        """False only when text[start:end] holds none of the needles, so their pattern cannot match in it."""
        if not needles.has_literals or start < 0:
            return True
        # Plain loops, not any(): this runs tens of thousands of times per page.
        find = self.text.find
        for literal in needles.cased:
            if find(literal, start, end) >= 0:
                return True
        if not needles.folded:
            return False
        if self.folded is None or start < self.start or end > self.end:
            return True  # outside the folded stretch: cannot tell
        find, a, b = self.folded.find, start - self.start, end - self.start
        for literal in needles.folded:  # noqa: SIM110 - a plain loop, as above
            if find(literal, a, b) >= 0:
                return True
        return False


class Linker:
    """Gives a block's drafts their rate type, arm, timepoint and p (see the module docstring).

    It compiles nothing: its regexes, with the literals each one's matches hold (tested
    first), are `CompiledRules.link_tables` (pipeline/compiled.py).
    """

    def __init__(self, rules: CompiledRules):
        self.rules = rules
        t = rules.link_tables
        self.comparator_re = t.comparator_re
        self.comparator_needles = t.comparator_needles
        self.cue_res = t.cue_res
        self.tight_left = t.tight_left
        self.tight_left_needles = t.tight_left_needles
        self.tight_left_suffix = t.tight_left_suffix
        self.outcome_abbreviation = t.outcome_abbreviation
        self.outcome_abbreviation_needles = t.outcome_abbreviation_needles
        self.threshold_response = t.threshold_response
        self.threshold_response_needles = t.threshold_response_needles
        self.threshold_phrase = t.threshold_phrase
        self.threshold_phrase_needles = t.threshold_phrase_needles
        self.continuation = t.continuation
        self.population_after_count = t.population_after_count
        self.continuation_needles = t.continuation_needles
        self.persistence = t.persistence
        self.never_timepoint_bounds = frozenset(rules.timepoint_bounds.never)
        self.own_clause_bounds = frozenset(rules.timepoint_bounds.own_clause)
        self.clause_opener = t.clause_opener
        self.clause_opener_needles = t.clause_opener_needles
        self.drugs = DrugLinker(rules.drug_index)
        self.arms = ArmLinker(rules.arm_tables, self.drugs)

    # ----------------------------------------------------------------- helpers

    def segments(self, text: str, sentence: Sentence, hay: _Haystack | None = None) -> list[tuple[int, int]]:
        """Comparison segments: the sentence cut before each comparator word."""
        if hay is not None and not hay.may_match(self.comparator_needles, sentence.start, sentence.end):
            cuts = []
        else:
            cuts = [m.start() for m in self.comparator_re.finditer(text, sentence.start, sentence.end)]
        bounds = [sentence.start, *cuts, sentence.end]
        return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i] < bounds[i + 1]]

    # ----------------------------------------------------------------- rate type

    def rate_type(self, hay: _Haystack, d: Draft, clause: tuple[int, int], sentence: Sentence,
                  left_from: int | None = None, cues: list[Cue] | None = None) -> tuple[str, str | None] | None:
        """Rate type from cues: a threshold-defined response, nearest right in the clause, nearest left back to
        `left_from` (default: the sentence's start). `cues`: the block's (`defined_cues`; default the vocabulary's)."""
        cues = self.cue_res if cues is None else cues
        right_end = min(clause[1], d.end + CONTEXT)
        raw_right = hay.text[d.end:right_end]
        if hay.may_match(self.threshold_response_needles, d.end, right_end) and self._threshold_response(raw_right):
            return "response_rate", None
        right = self._mask_thresholds(hay, d.end, right_end)
        # Unmasked, `right` is `raw_right`, which was just tested.
        if right != raw_right and self._threshold_response(right):
            return "response_rate", None
        # Words inside the share's own span name its outcome first ("3 responders (13%)", "3 PR (13%)").
        inside = self._mask_thresholds(hay, d.start, d.end)
        if any(c.isalpha() for c in inside):
            inside_hay = _Haystack(inside)
            found = [(m.start(), cue) for pattern, cue, needles in cues if inside_hay.may_match(needles, 0, len(inside))
                     for m in [pattern.search(inside)] if m]
            if found:
                cue = min(found, key=lambda f: f[0])[1]
                return cue.type, cue.label
        # "relapse occurred in about one in five ketamine responders": whom a count counts is no cue.
        skip = 0
        if d.denominator is not None and (population := self.population_after_count.match(right)) is not None:
            skip = population.end()
        right_hay = _Haystack(right)
        best = None
        # A cue after the share looks left to it; one before it looks right.
        for pattern, cue, needles in cues:
            if cue.direction == "right" or not right_hay.may_match(needles, skip, len(right)):
                continue
            m = pattern.search(right, skip)
            if m and (cue.max_scope is None or m.start() <= cue.max_scope) and (best is None or m.start() < best[0]):
                best = (m.start(), cue)
        if best:
            return best[1].type, best[1].label
        left = self._mask_thresholds(hay, max(sentence.start if left_from is None else left_from, d.start - CONTEXT), d.start)
        left_hay = _Haystack(left)
        for pattern, cue, needles in cues:
            if cue.direction == "left" or not left_hay.may_match(needles, 0, len(left)):
                continue
            for m in pattern.finditer(left):
                dist = len(left) - m.end()
                if (cue.max_scope is None or dist <= cue.max_scope) and (best is None or dist < best[0]):
                    best = (dist, cue)
        if best:
            return best[1].type, best[1].label
        return None

    def _threshold_response(self, right: str) -> bool:
        """A reduction past a threshold right after the value: "89% reported >50% reduction"."""
        return bool(self.threshold_response.match(right.lstrip(" ofpatinsrcd")) or self.threshold_response.search(right[:60]))

    def _tight_left(self, hay: _Haystack, start: int, end: int,
                    tight: list[Cue] | None = None) -> tuple[str, str | None] | None:
        """A cue right before the value, in text[start:end]: "remission rate was 52.5%", "Response rate 53.7 percent"."""
        if not hay.may_match(self.tight_left_needles, start, end):
            return None
        left = hay.text[start:end]
        for pattern, cue, needles in self.tight_left if tight is None else tight:
            if cue.direction != "left" and hay.may_match(needles, start, end) and pattern.search(left):
                return cue.type, cue.label
        return None

    def _mask_thresholds(self, hay: _Haystack, start: int, end: int) -> str:
        """text[start:end] with response criteria ("≥50% improvement") blanked out, so their words are no cues."""
        s = hay.text[start:end]
        if not hay.may_match(self.threshold_phrase_needles, start, end):
            return s
        return self.threshold_phrase.sub(lambda m: " " * len(m.group()), s)

    def defined_cues(self, hay: _Haystack, spans: list[tuple[int, int]]) -> tuple[list[Cue], list[Cue]]:
        """The block's cues and tight-left cues: the vocabulary's, then one per abbreviation the
        block defines for an outcome ("complete response (CR; no emesis)": CR is a response
        cue for a share that follows it within `abbreviation_max_scope` characters). An
        abbreviation counts where its long form (Schwartz & Hearst) holds a cue; the last cue
        in it gives the type; its first definition in the block wins."""
        text = hay.text
        extra: list[Cue] = []
        tight: list[Cue] = []
        seen: set[str] = set()
        for start, end in spans:
            if not hay.may_match(self.outcome_abbreviation_needles, start, end):
                continue
            for m in self.outcome_abbreviation.finditer(text, start, end):
                abbr = m.group("abbr")
                long_start = long_form_start(text, abbr, max(start, m.start() - 12 * len(abbr)), m.start())
                if abbr in seen or long_start is None:
                    continue
                long_form = text[long_start:m.start()]
                found = [(c_m.end(), cue) for pattern, cue, _ in self.cue_res for c_m in pattern.finditer(long_form)]
                if not found:
                    continue
                seen.add(abbr)
                cue = max(found, key=lambda f: f[0])[1]
                scope = self.rules.outcome_abbreviation_max_scope
                # Only a share that follows it ("CR rates were 73.5%"): one before it is more often
                # another clause's ("… took all their doses and were more likely to have a day-28 ACPR").
                cue = cue.model_copy(update={"direction": "right",
                                             "max_scope": scope if cue.max_scope is None else min(cue.max_scope, scope)})
                word = rf"(?<![\w-]){regex.escape(abbr)}(?![\w-])"
                rule = f"outcomes.yaml:abbreviation {abbr}"
                extra.append((timed(word, 0, rule), cue, Trigger(word, literals_only=True)))
                # The abbreviation as written (capitals), the words after it in any case ("CR Rates were").
                tight.append((timed(f"(?-i:{word}){self.tight_left_suffix}", regex.IGNORECASE, rule), cue, Trigger(word, literals_only=True)))
        if not extra:
            return self.cue_res, self.tight_left
        return [*extra, *self.cue_res], [*tight, *self.tight_left]

    # ----------------------------------------------------------------- main

    def link_block(self, text: str, drafts: list[Draft], block_spans: list[tuple[int, int]], page_arm: str | None = None) -> list[Draft]:
        """Link a block's drafts in place; returns them sorted by position.

        `page_arm`: the treatment of the page the block is on, for a block that names no group.
        """
        hay = _Haystack(text, min((a for a, _ in block_spans), default=0), max((b for _, b in block_spans), default=0))
        self.drugs.assign(text, drafts)
        # Only blocks with a value that takes an arm need their groups.
        arms = self.arms.block_arms(text, block_spans, page_arm) if any(d.type == "rate" or d.type in ARMED_TYPES for d in drafts) else None
        by_sentence: dict[Sentence, list[Draft]] = {}
        for d in drafts:
            by_sentence.setdefault(d.extra["sentence"], []).append(d)
        cues = self.defined_cues(hay, block_spans) if any(d.type == "rate" for d in drafts) else (self.cue_res, self.tight_left)
        for sentence, items in by_sentence.items():
            if not any(d.type == "rate" or d.type in ARMED_TYPES for d in items):
                continue  # only values linking leaves as they are (doses, routes, follow-ups)
            self._link_sentence(hay, sentence, items, arms, cues)
        return sorted(drafts, key=lambda d: (d.start, d.end, d.type))

    def _link_sentence(self, hay: _Haystack, sentence: Sentence, items: list[Draft], arms: BlockArms | None,
                       cues: tuple[list[Cue], list[Cue]]) -> None:
        text = hay.text
        clauses = Partition(clause_spans(text, sentence))
        segments = Partition(self.segments(text, sentence, hay))
        time_clauses = Partition(self._time_clauses(hay, clauses))
        first_in_clause: dict[int, tuple[str, str | None]] = {}
        previous: tuple[str, str | None] | None = None
        for d in sorted(items, key=lambda x: x.start):
            if d.type != "rate":
                continue
            tc = time_clauses.index(d.start)
            left_start = max(sentence.start, d.start - 60)
            typed = self._tight_left(hay, left_start, d.start, cues[1])
            if (typed is None and previous is not None and hay.may_match(self.continuation_needles, left_start, d.start)
                    and self.continuation.search(text[left_start:d.start])):
                typed = previous
            if typed is None and segments.index(d.start) > 0 and tc in first_in_clause:
                typed = first_in_clause[tc]  # "…, versus 0% on placebo": the contrast's own measure
            if typed is None:
                # First the value's own coordinated clause (a cue after ", and" is the next
                # clause's: "Response rates were 47% and 52%, and remission was 29%"), then its clause.
                own = time_clauses[tc]
                typed = self.rate_type(hay, d, own, sentence, left_from=own[0], cues=cues[0])
                if typed is None:
                    typed = self.rate_type(hay, d, clauses[clauses.index(d.start)], sentence, cues=cues[0])
            if typed is None:
                typed = ("other_rate", self.rules.default_rate_label)
            d.type, d.label = typed
            first_in_clause.setdefault(tc, typed)
            previous = typed
        if arms is not None:
            self.arms.assign(text, (sentence.start, sentence.end), items, segments, arms)
        self._attach_p_values(text, items, clauses)
        self._assign_timepoints(hay, sentence, items, time_clauses, segments)

    def _time_clauses(self, hay: _Haystack, clauses: Partition) -> list[tuple[int, int]]:
        """Clauses refined at ', and' / ', though' ... (outside brackets) for timepoint scope."""
        text = hay.text
        out = []
        for start, end in clauses:
            if not hay.may_match(self.clause_opener_needles, start, end):
                out.append((start, end))
                continue
            cuts, depth, pos = [], 0, start
            for m in self.clause_opener.finditer(text, start, end):
                depth = _depth(text, pos, m.start(), depth)
                pos = m.start()
                if depth == 0:
                    cuts.append(m.start())
            bounds = [start, *cuts, end]
            out += [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
        return out

    def _attach_p_values(self, text: str, items: list[Draft], clauses: Partition) -> None:
        """p for an effect or ratio that has none yet: from its parenthesis (nearest wins), else from its clause when it is the clause's only effect or ratio."""
        stats = [x for x in items if x.type in ARMED_TYPES and x.type != "nnt" and not x.type.endswith("_rate")]
        if all(x.p_value is not None for x in stats):
            return  # no effect or ratio lacks its p
        per_clause = Counter(clauses.index(x.start) for x in stats)
        taken = SpanIndex((x.start, x.end, None) for x in items)
        for d in stats:
            if d.p_value is not None:
                continue
            enclosing = enclosing_brackets(text, d.start, d.end)
            ps = list(P_VALUE.finditer(text, *enclosing)) if enclosing else []
            ci = clauses.index(d.start)
            if not ps and per_clause[ci] == 1:
                a, b = clauses[ci]
                ps = [m for m in P_VALUE.finditer(text, max(a, d.start - CONTEXT), min(b, d.end + CONTEXT))
                      if not taken.any_overlap(m.start(), m.start() + 1)]
            if ps:
                nearest = min(ps, key=lambda m: min(abs(m.start() - d.end), abs(d.start - m.end())))
                d.p_value = float(nearest.group("p").replace("·", "."))

    def _assign_timepoints(self, hay: _Haystack, sentence: Sentence, items: list[Draft], clauses: Partition, segments: Partition) -> None:
        if not any(d.type in ARMED_TYPES for d in items):
            return  # nothing here takes a timepoint
        text = hay.text
        times = sorted(
            (d for d in items
             if d.type == "follow_up" and d.bound not in self.never_timepoint_bounds and not d.extra.get("list_item")
             and not self._persisting(hay, max(sentence.start, d.start - 40), d.start)),
            key=lambda t: t.start,
        )
        if not times:
            return
        starts = [t.start for t in times]
        for d in items:
            if d.type not in ARMED_TYPES:
                continue
            clause = clauses[clauses.index(d.start)]
            seg_i = segments.index(d.start)
            seg = segments[seg_i]
            after_i = bisect_left(starts, d.end)
            before_i = bisect_left(starts, d.start) - 1
            following = times[after_i] if after_i < len(times) else None
            preceding = times[before_i] if before_i >= 0 else None
            lo, hi = max(seg[0], clause[0]), min(seg[1], clause[1])
            near = [t for t in (following, preceding) if t is not None and lo <= t.start < hi]
            if not near:
                if seg_i > 0 and OWN_ANCHOR.search(text, seg[0], min(seg[1], seg[0] + CONTEXT)):
                    continue
                # A time framing the value: anywhere earlier in the sentence, or later in its clause.
                # A period ("over 21 days") frames only the values of its own clause.
                near = [t for t in (following, preceding)
                        if t is not None and (t is preceding or t.start < clause[1]) and t.bound not in self.own_clause_bounds]
            if not near:
                continue
            t = min(near, key=lambda t: _gap(d, t))
            d.timepoint_days = t.high if t.high is not None else t.value

    def _persisting(self, hay: _Haystack, start: int, end: int) -> bool:
        """A duration word right before a time ("lasted up to 7 days"): a period, not an assessment time."""
        return any(hay.may_match(needles, start, end) and p.search(hay.text, start, end) for p, needles in self.persistence)


def _depth(text: str, start: int, pos: int, depth: int = 0) -> int:
    """Bracket depth at pos, counting from start at the given depth."""
    for ch in text[start:pos]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return depth


def _gap(d: Draft, t: Draft) -> tuple[int, int]:
    """Characters between a value and a time; a following time wins a tie ("d = 0.4 at day 7")."""
    if t.start >= d.end:
        return t.start - d.end, 0
    return max(0, d.start - t.end), 1

