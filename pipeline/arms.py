"""Arms: the group each rate, effect and ratio belongs to, from the groups the text names.

`ArmLinker.mentions(text, spans)` lists the groups a block names, earliest first:
named groups ("the enhanced intervention group", "the S-1 arm", "group K", "the
alcohol and mechanical groups", "vilazodone-treated"), the arms of the vocabulary
(`rules/vocab/arms.yaml` `arms`: placebo, control, the ketamine family…) and every drug
name of the drug lexicon. Where two overlap the longer wins, then the named group.

`ArmLinker.assign(text, sentence, items, segments, block)` sets `arm` on each armed
draft of one sentence:

1. "respectively": the sentence's rates, in order, take the groups of a coordinated
   list ("in the alcohol and mechanical groups, respectively") in turn;
2. its own group: in the value's scope — between its neighbouring armed values (a
   run of values joined only by "and" or commas shares one scope), inside its
   comparison segment and clause, and first inside its bracket — the first group
   after it, else the last one before it;
3. a contrast of two rates that names no group ("(18% vs. 4%)", "were 52.5% vs
   31.0%"): the two groups named last before it, in order; with only one, the second
   value takes the block's other arm;
4. otherwise the block's default: its treatment when it studies one treatment (or,
   on a clinic's page, the study-drug family of the vocabulary) — a block that names
   no group takes its page's treatment; null when the text does not say.

Effects, ratios and NNT take the treatment compared: the first group of the sentence's
first comparison segment, else their own group (never a comparator), else the default.
Names are lower case.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

import regex

from .abbreviations import long_form_start
from .compiled import ArmTables
from .drugs import DrugLinker
from .models import ARMED_TYPES
from .normalize import Draft
from .spans import DisjointSpans, Partition, enclosing_brackets

# How far (characters) a value looks for its group: keeps linking linear on huge sentences.
CONTEXT = 300


@dataclass(frozen=True)
class Mention:
    """A group named in the text: its span and its arm name (lower case)."""

    start: int
    end: int
    name: str
    kind: str  # "group" | "vocabulary" | "drug"
    name_end: int = -1  # end of the words that name a group ("the [placebo-first] group")
    drug_end: int = -1  # a group named by a drug's doses: the end of the drug's name ("[peficitinib] 25 and 50 mg groups")


@dataclass
class BlockArms:
    """What a block says about its arms: every group mention and the default arm."""

    mentions: list[Mention]
    default: str | None
    order: list[str]  # distinct arm names in order of first mention
    first_treatment: str | None = None  # the first arm named that is not a comparator
    uncontrolled_treatment: str | None = None  # first_treatment, where the block says it has one arm
    # The groups of the last sentence whose shares named two or more, in order: what a later
    # "the rates were 10.2%, 9.7% and 6.7%, respectively" refers to. Set by `ArmLinker.assign`.
    recent: list[str] = field(default_factory=list)
    recent_compared: list[str] = field(default_factory=list)  # the same for effects, ratios and NNT
    # Each group of the first list of exactly two groups that names it ("randomized to colloid
    # (N = 60) or crystalloid (N = 60)"): the other one, the group it is compared with.
    partners: dict[str, str] = field(default_factory=dict)
    # The groups each group size (a share's denominator) was given to so far: set by `ArmLinker.assign`.
    sizes: dict[int, set[str]] = field(default_factory=dict)

    starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.starts = [m.start for m in self.mentions]

    def other_than(self, name: str | None) -> str | None:
        """The block's other arm in a two-arm comparison (the first distinct arm that is not `name`)."""
        rest = [n for n in self.order if n != name]
        return rest[0] if len(self.order) == 2 and rest else None


class ArmLinker:
    """Finds the groups a block names and gives each armed value its group."""

    def __init__(self, compiled: ArmTables, drugs: DrugLinker):
        """`compiled`: the arm vocabulary as compiled by pipeline/compiled.py; `drugs`: the drug names."""
        self.drugs = drugs
        self.vocabulary = compiled.vocabulary
        self.vocabulary_names = frozenset(name for name, _ in compiled.vocabulary)
        self.treatments = compiled.treatments
        self.comparator_arms = compiled.comparator_arms
        self.noun = compiled.noun
        self.kept_nouns = compiled.kept_nouns
        self.coded = compiled.coded
        self.coded_more = compiled.coded_more
        self.coded_kind = compiled.coded_kind
        self.product = compiled.product
        self.abbreviation = compiled.abbreviation
        self.abbreviation_heads = compiled.abbreviation_heads
        self.abbreviation_modifier = compiled.abbreviation_modifier
        self.adjacent = compiled.adjacent
        self.dose_unit = compiled.dose_unit
        self.route_before = compiled.route_before
        self.elided_route_before = compiled.elided_route_before
        self.route_after_amounts = compiled.route_after_amounts
        self.route_word = compiled.route_word
        self.amounts_after = compiled.amounts_after
        self.amounts_before = compiled.amounts_before
        self.amount = compiled.amount
        self.more_amount = compiled.more_amount
        self.sentence_end = compiled.sentence_end
        self.covariate_item = compiled.covariate_item
        self.covariate_cue = compiled.covariate_cue
        self.treated = compiled.treated
        self.stop = compiled.stop
        self.respectively = compiled.respectively
        self.list_joiner = compiled.list_joiner
        self.share_of_joiner = compiled.share_of_joiner
        self.max_words = compiled.max_words
        self.versus = compiled.versus
        self.generic = compiled.generic
        self.modifier_only = compiled.modifier_only
        self.named = compiled.named
        self.code_name = compiled.code_name
        self.name_suffix = compiled.name_suffix
        self.measured_after = compiled.measured_after
        self.smaller_first = compiled.smaller_first
        self.comparator_before = compiled.comparator_before
        self.stated_for_each = compiled.stated_for_each
        self.single_arm = compiled.single_arm
        self.group_size = compiled.group_size
        self.assigned = compiled.assigned
        self.bare_amount = compiled.bare_amount
        self.assigned_end = compiled.assigned_end
        self.larger_first = compiled.larger_first
        self.name_prefix = compiled.name_prefix
        self.background_before = compiled.background_before
        self.group_joiner = compiled.group_joiner
        self.clause_break = compiled.clause_break
        self.conjunctions = compiled.conjunctions
        self.name_joiners = compiled.name_joiners
        self.negators = compiled.negators
        self.code_before_noun = compiled.code_before_noun
        self.quoted_name = compiled.quoted_name
        self.exposure = compiled.exposure
        self.ratio_tolerance = compiled.ratio_tolerance

    # ----------------------------------------------------------------- mentions

    def _name(self, text: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The trailing words of a group phrase that name it: cut after the last stop word, or
        where a sign other than a space parts two words ("randomized into 2 groups: conventional
        recovery group" is the conventional recovery group), unless groups.name_joiners joins them
        ("the PoC CD4 + HH-IPT arm")."""
        out: list[tuple[int, int, str]] = []
        for w in reversed(words[-self.max_words:]):
            low = w[2].lower()
            gap = text[w[1]:out[0][0]].strip() if out else ""
            if out and low in self.negators and not gap:
                out.insert(0, w)  # "the no aspirin group" is not the aspirin group
                break
            if low in self.stop or not regex.search(r"[^\W\d_]", low) or (gap and gap not in self.name_joiners):
                break
            out.insert(0, w)
        return out

    def _group_phrases(self, text: str, start: int, end: int) -> list[Mention]:
        out: list[Mention] = []
        codes: list[tuple[int, str, Mention]] = []  # (end of the definition, code, the group it names)
        for m in self.noun.finditer(text, start, end):
            left = text[max(start, m.start() - 80):m.start()]
            base = m.start() - len(left)
            # "the intervention (I) arm": the name is before the code, and the code names it later.
            code = self.code_before_noun.search(left)
            if code is not None:
                left = left[:code.start()]
            found_before = len(out)
            quoted = self.quoted_name.search(left)
            if quoted is not None:  # 'the "no phone calls" group': the quoted words, stop words too
                name = " ".join(quoted.group("name").lower().split())
                out.append(Mention(base + quoted.start(), m.end(), name, "group", base + quoted.end("name")))
                continue
            words = [(base + w.start(), base + w.end(), w.group()) for w in regex.finditer(r"[\w][\w,/+-]*[\w+]|\w\+?", left)]
            noun = m.group("noun").lower()
            suffix = f" {noun}" if noun in self.kept_nouns else ""
            plural = m.group().lower().endswith("s")
            named = self._name(text, words)
            if plural and len(named) == 1 and (named[0][2].lower() in self.generic or self.modifier_only.fullmatch(named[0][2])) \
                    and not (len(words) >= 3 and words[-2][2].lower() in self.conjunctions):
                continue  # "both the treatment groups", "between the studied groups": every group, not one
            if named and all(self.dose_unit.fullmatch(w[2]) for w in named):
                # "the peficitinib 25, 50 and 100 mg groups": groups named by a dose are the drug's,
                # named by `mentions` from the drug right before the doses (start marks the doses).
                k = len(words) - len(named) - 1
                while k >= 0 and (not regex.search(r"[^\W\d_]", words[k][2]) or words[k][2].lower() in self.conjunctions):
                    k -= 1
                if k < len(words) - len(named) - 1:
                    out.append(Mention(words[k + 1][0], m.end(), "", "group", named[-1][1]))
                continue
            joined = len(words) >= 3 and words[-2][2].lower() in self.conjunctions and plural
            if joined and named:  # "the alcohol and mechanical groups", "the A, B and C arms": one group each
                k = len(words) - 3
                while k >= 0:
                    w = words[k]
                    # "the CZP 200 mg, 400 mg and placebo groups": a unit names no group.
                    if w[2].lower() in self.stop or not regex.search(r"[^\W\d_]", w[2]) or self.dose_unit.fullmatch(w[2]):
                        break
                    out.append(Mention(w[0], w[1], w[2].lower() + suffix, "group", w[1]))
                    if k == 0 or text[words[k - 1][1]:w[0]].strip() != ",":
                        break
                    k -= 1
            name_stop = base + code.start() if code is not None else m.start()
            if named and text[named[-1][1]:name_stop].strip() in ("", "-"):  # "the combined-arm patients"
                # "the tailored letters intervention group" is the tailored letters group: a
                # generic role word after a name that is not itself generic is not part of it.
                while len(named) > 1 and named[-1][2].lower() in self.generic and named[-2][2].lower() not in self.generic \
                        and not (len(named) == 2 and self.modifier_only.fullmatch(named[0][2])):
                    named = named[:-1]
                # "the frovatriptan-treated group" is the frovatriptan group.
                treated = self.treated.fullmatch(text, named[-1][0], named[-1][1])
                name_end = treated.end("name") if treated else named[-1][1]
                name = text[named[0][0]:name_end].lower() + suffix
                out.append(Mention(named[0][0], m.end(), " ".join(name.split()), "group", name_end))
            if code is not None and len(out) == found_before + 1:
                codes.append((m.end(), code.group("code"), out[-1]))
        for defined_at, code_text, group in codes:  # "22% (I) vs 33% (C)"
            use = regex.compile(r"\(\s*" + regex.escape(code_text) + r"\s*\)")
            out += [Mention(u.start(), u.end(), group.name, "group", u.end()) for u in use.finditer(text, defined_at, end)]
        for m in self.named.finditer(text, start, end):  # 'a concept named "PASTOR"'
            out.append(Mention(m.start("name"), m.end("name"), m.group("name").lower(), "group", m.end("name")))
        for m in self.code_name.finditer(text, start, end):  # "WR 279,396", "MK-0869"
            after = regex.match(r"\s?([^\W\d][^\s,;()]*)", text[m.end():m.end() + 12])
            if after and self.dose_unit.fullmatch(after.group(1)):
                continue  # "CZP 200 mg": a drug's abbreviation and its dose, not a code name
            out.append(Mention(m.start(), m.end(), " ".join(m.group().lower().split()), "group", m.end()))
        for m in self.coded.finditer(text, start, end):
            noun, code = m.group("noun").lower(), m.group("code")
            out.append(Mention(m.start(), m.end(), f"{noun} {code.lower()}", "group", m.end()))
            at = m.end()
            # "Groups D and C", "Arms A (77.0%) and B (75.9%)": each further code is a group too.
            while (more := self.coded_more.match(text, at, end)) is not None and self._one_kind(code, more.group("code")):
                out.append(Mention(more.start("code"), more.end("code"), f"{noun} {more.group('code').lower()}", "group",
                                   more.end("code")))
                at = more.end()
        for m in self.product.finditer(text, start, end):  # "Superion®"
            out.append(Mention(m.start("name"), m.end("name"), m.group("name").lower(), "group", m.end("name")))
        for m in self.treated.finditer(text, start, end):
            # "Paromomycin Alone-treated patients": the word before "-treated" may name it too.
            first = m.start("name")
            before = regex.search(r"(?<![\w-])([^\W\d_][\w-]*) $", text[max(start, first - 40):first])
            if before and before.group(1).lower() not in self.stop:
                first -= len(before.group(0))
            name = " ".join(text[first:m.end("name")].lower().split())
            if name not in self.stop:
                out.append(Mention(first, m.end(), name, "group", m.end("name")))
        return out

    def _code_is_name(self, text: str, found: list[Mention]) -> list[Mention]:
        """A coded group whose code is the name of another group or drug of the block is that group:
        "Group RTX" is the RTX group where the text names resiniferatoxin (RTX)."""
        names = {x.name for x in found}
        out = []
        for x in found:
            coded = self.coded.fullmatch(text, x.start, x.end) if x.kind == "group" else None
            if coded is not None and coded.group("code").lower() in names and coded.group("code").lower() != x.name:
                x = Mention(x.start, x.end, coded.group("code").lower(), "group", x.name_end, x.drug_end)
            out.append(x)
        return out

    def _one_kind(self, code: str, other: str) -> bool:
        """Whether two group codes are of one kind: as long ("D" and "C", "H1" and "H2") or both of
        groups.coded_kind ("I" and "II")."""
        return len(code) == len(other) or bool(self.coded_kind.fullmatch(code) and self.coded_kind.fullmatch(other))

    def mentions(self, text: str, spans: list[tuple[int, int]]) -> list[Mention]:
        """Every group named in the given spans of text, earliest first, disjoint."""
        found: list[Mention] = []
        for start, end in spans:
            found += self._group_phrases(text, start, end)
            for name, pattern in self.vocabulary:
                found += [Mention(m.start(), m.end(), name, "vocabulary") for m in pattern.finditer(text, start, end)]
            found += self._drug_mentions(text, start, end)
        # "esketamine plus standard care … more than placebo": a comparator given on top of a
        # treatment is background, not a group.
        found = [x for x in found if not (x.kind != "group" and x.name in self.comparator_arms
                                          and self.background_before.search(text, max(0, x.start - 40), x.start))]
        found += self._sized(text, spans, found)
        found = self._unshortened(found)
        found += self._renamed(text, spans, found)
        # A group named by one known arm or drug ("the placebo-first group") takes its name.
        known = sorted((x for x in found if x.kind != "group"), key=_start)
        found = [self._canonical(text, x, known) if x.kind == "group" else x for x in found]
        found = [x for x in (self._dosed(text, x, known) if x.kind == "group" and not x.name else x for x in found)
                 if x is not None]
        found += self._bare_amounts(text, spans, found)
        found += self._abbreviated(text, spans, found)
        assigned = self._assigned(text, spans, found)  # after the abbreviations: "randomized to CCBT-I completed it"
        found += assigned + self._renamed(text, spans, assigned)
        found = self._code_is_name(text, found)
        # "with CBT alone" is the CBT group where the text names one; else "Paromomycin Alone" is its own name.
        group_names = {x.name for x in found if x.kind == "group"}
        found = [x if x.kind == "group" or x.name in group_names else self._suffixed(text, x) for x in found]
        rank = {"group": 0, "vocabulary": 1, "drug": 2}
        found.sort(key=lambda x: (-(x.end - x.start), rank[x.kind], x.start))
        taken = DisjointSpans()
        kept = []
        for x in found:
            if not taken.overlaps(x.start, x.end):
                taken.add(x.start, x.end)
                kept.append(x)
        return self._combined(text, self._told_apart(text, sorted(kept, key=lambda x: x.start)))

    def _combined(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """Groups written next to each other joined by groups.name_joiners are one group given
        both: "tacrolimus + MMF (93%)" is the tacrolimus + mmf group."""
        out: list[Mention] = []
        for m in mentions:
            last = out[-1] if out else None
            gap = text[last.end:m.start].strip() if last is not None and last.end <= m.start else ""
            if last is not None and gap in self.name_joiners and gap:
                name = " ".join(text[last.start:m.name_end if m.name_end > 0 else m.end].lower().split())
                out[-1] = Mention(last.start, m.end, name, "group", m.end)
                continue
            out.append(m)
        return out

    def _qualified(self, text: str, x: Mention, lo: int, hi: int,
                   occupied: DisjointSpans) -> list[tuple[Mention, str | None, str | None]]:
        """x named by route or dose ("tramadol 50 mg", "topical lidocaine"), spans within [lo, hi):
        (mention, route, "amount unit") per name; [] if none."""
        route = self.route_before.search(text, max(lo, x.start - 30), x.start)
        first = route.start("route") if route else x.start
        way = route.group("route").lower() if route else None
        after = self.amounts_after.match(text, x.drug_end if x.drug_end >= 0 else x.end, hi)
        before = None if after else self.amounts_before.search(text, max(lo, first - 60), first)
        dose = after or before
        out: list[tuple[Mention, str | None, str | None]] = []
        if dose is not None and self.dose_unit.fullmatch(dose.group("unit")):
            unit = dose.group("unit").lower()
            if route is None and (later := self.route_after_amounts.match(text, dose.end(), hi)) is not None:
                way = later.group("route").lower()  # "palonosetron 0.25, 0.50, and 0.75 mg oral doses"
            amounts = list(self.amount.finditer(text, dose.start("amounts"), dose.end("amounts")))
            for k, a in enumerate(amounts):
                start = min(first, a.start()) if k == 0 else a.start()
                end = max(x.end, dose.end()) if k == len(amounts) - 1 else a.end()
                out.append((Mention(start, end, x.name, x.kind, end), way, f"{a.group()} {unit}"))
            at = dose.end()
            # "10 mg (n = 170/573; OR relative to placebo 1.7) and 20 mg (…)": further amounts of the
            # same unit are the same drug's; the brackets between may name other groups.
            while after is not None and (more := self.more_amount.match(text, at, min(len(text), at + 200))) is not None \
                    and more.group("unit").lower() == unit and not occupied.overlaps(more.start("amount"), more.end()):
                out.append((Mention(more.start("amount"), more.end(), x.name, x.kind, more.end()), way,
                            f"{more.group('amount')} {unit}"))
                at = more.end()
        elif route is not None:
            out.append((Mention(first, x.end, x.name, x.kind, x.end), way, None))
        if route is not None:
            elided = self.elided_route_before.search(text, max(lo, first - 60), first)
            if elided is not None:  # "topical compared with intravenous lidocaine"
                start, end = elided.start("route"), elided.end("route")
                out.insert(0, (Mention(start, end, x.name, x.kind, end), elided.group("route").lower(), None))
        return out

    def _told_apart(self, text: str, kept: list[Mention]) -> list[Mention]:
        """Drugs the block names with two or more amounts or routes take the names that tell
        their arms apart (see groups.qualifier_*); the others keep their own."""
        qualified: dict[int, list[tuple[Mention, str | None, str | None]]] = {}
        occupied = DisjointSpans()
        for x in kept:
            occupied.add(x.start, x.end)
        for i, x in enumerate(kept):
            if x.kind == "group" and x.drug_end < 0:
                continue
            lo = kept[i - 1].end if i > 0 else 0
            hi = kept[i + 1].start if i + 1 < len(kept) else len(text)
            if names := self._qualified(text, x, lo, hi, occupied):
                qualified[i] = names
        # Told apart by route (dose): one sentence names the drug with two different routes (doses),
        # as a comparison of its arms does ("topical compared with intravenous lidocaine"); a
        # review's title and text naming two routes in turn do not.
        by_route_drugs: set[str] = set()
        by_dose_drugs: set[str] = set()
        last: dict[str, tuple[Mention, str | None, str | None]] = {}
        for i in sorted(qualified):
            for q in qualified[i]:
                name, previous = kept[i].name, last.get(kept[i].name)
                if previous is not None and not self.sentence_end.search(text, previous[0].end, q[0].start):
                    if previous[1] and q[1] and previous[1] != q[1]:
                        by_route_drugs.add(name)
                    if previous[2] and q[2] and previous[2] != q[2]:
                        by_dose_drugs.add(name)
                last[name] = q
        out: list[Mention] = []
        for i, x in enumerate(kept):
            by_route, by_dose = x.name in by_route_drugs, x.name in by_dose_drugs
            if i not in qualified or not (by_route or by_dose):
                out.append(x)
                continue
            for m, route, dose in qualified[i]:
                name = " ".join(w for w in (route if by_route else None, x.name, dose if by_dose else None) if w)
                out.append(Mention(m.start, m.end, name, m.kind, m.name_end))
        return sorted(out, key=_start)  # further amounts ("… and 20 mg") may lie past the next group

    def _drug_mentions(self, text: str, start: int, end: int) -> list[Mention]:
        """The drug names in text[start:end], a combination ("sodium hyaluronate-chondroitin sulfate") as one."""
        names = self.drugs.mentions(text, start, end)
        out: list[Mention] = []
        i = 0
        while i < len(names):
            span = self.drugs.combination(text, names, i)
            if span is None:
                out.append(Mention(names[i].start, names[i].end, names[i].name, "drug"))
                i += 1
                continue
            out.append(Mention(span[0], span[1], " ".join(text[span[0]:span[1]].lower().split()), "drug"))
            while i < len(names) and names[i].start < span[1]:
                i += 1
        # "Opioid use was 31% lower with ketamine": a drug measured is not a group.
        return [x for x in out if not self.measured_after.match(text, x.end)]

    def _suffixed(self, text: str, mention: Mention) -> Mention:
        """A drug or arm with the words that stay in its name around it ("Paromomycin Alone", "active TMS")."""
        if mention.kind == "group":
            return mention
        start, end, name = mention.start, mention.end, mention.name
        m = self.name_suffix.match(text, end)
        if m is not None:
            end, name = m.end(), f"{name}{text[mention.end:m.end()]}"
        p = self.name_prefix.search(text, max(0, start - 40), start)
        if p is not None and mention.name not in self.comparator_arms:
            start, name = p.start(), f"{text[p.start():mention.start]}{name}"
        if (start, end) == (mention.start, mention.end):
            return mention
        return Mention(start, end, " ".join(name.lower().split()), mention.kind, end)

    def _sized(self, text: str, spans: list[tuple[int, int]], found: list[Mention]) -> list[Mention]:
        """Groups named by their size ("randomized to receive intravenous colloid (N = 60) or
        crystalloid (N = 60)"): runs of two or more names, each right before a groups.group_size
        and joined by groups.list_joiner, that no other mention already covers."""
        taken = _covered(found)
        out: list[Mention] = []
        for start, end in spans:
            run: list[tuple[Mention | None, int]] = []  # (its name, or None where found already; end of the size)
            for m in [*self.group_size.finditer(text, start, end), None]:
                named: list[tuple[int, int, str]] = []
                if m is not None:
                    left = text[max(start, m.start() - 60):m.start()]
                    base = m.start() - len(left)
                    words = [(base + w.start(), base + w.end(), w.group())
                             for w in regex.finditer(r"[\w][\w,/+-]*[\w+]|\w\+?", left)]
                    named = self._name(text, words) if words and words[-1][1] == m.start() else []
                    while named and self.route_word.fullmatch(named[0][2]):
                        named = named[1:]
                if named and all(w[2].lower() not in self.generic and not self.dose_unit.fullmatch(w[2])
                                 and not regex.search(r"\d", w[2]) for w in named):
                    a, b = named[0][0], named[-1][1]
                    joined = bool(run) and self.list_joiner.fullmatch(text, run[-1][1], a) is not None
                    if not joined:
                        self._keep_run(run, out)
                        run = []
                    mention = Mention(a, b, " ".join(text[a:b].lower().split()), "group", b)
                    run.append((None if taken.overlaps(a, b) else mention, m.end() if m else b))
                    continue
                self._keep_run(run, out)
                run = []
        return out

    def _assigned(self, text: str, spans: list[tuple[int, int]], found: list[Mention]) -> list[Mention]:
        """Groups named right after groups.assigned ("subjects randomized to standard education",
        "randomized to usual care or brief advice"), in a list joined by groups.list_joiner, that
        no other mention already covers."""
        taken = _covered(found)
        out: list[Mention] = []
        for start, end in spans:
            for cue in self.assigned.finditer(text, start, end):
                at = cue.end()
                while True:
                    words: list[tuple[int, int, str]] = []
                    for w in regex.finditer(r"\G[^\W\d_][\w'’-]*(?:\s|$)?", text, pos=at, endpos=end):
                        word = w.group().strip()
                        if word.lower() in self.stop or self.noun.fullmatch(word) or len(words) == self.max_words:
                            break
                        words.append((w.start(), w.start() + len(word), word))
                        if not w.group().endswith(" "):
                            break
                    while words and self.route_word.fullmatch(words[0][2]):
                        words = words[1:]
                    if not words or all(w[2].lower() in self.generic for w in words):
                        break
                    # The longest run of the words that ends where a name may end, here or where the
                    # block names it again ("randomized to standard education completed the study"
                    # after "CCBT-I or standard education.").
                    while words and not (self.assigned_end.match(text, words[-1][1], end)
                                         or self._ends_elsewhere(text, spans, text[words[0][0]:words[-1][1]], words[0][0])):
                        words = words[:-1]
                    if not words or all(w[2].lower() in self.generic for w in words):
                        break
                    a, b = words[0][0], words[-1][1]
                    if not taken.overlaps(a, b):
                        out.append(Mention(a, b, " ".join(text[a:b].lower().split()), "group", b))
                    joiner = self.list_joiner.match(text, b, end)
                    if joiner is None or joiner.end() == b or not regex.search(r"\b(?:or|and)\s*$|,\s*$", joiner.group()):
                        break
                    at = joiner.end()
        return out

    def _bare_amounts(self, text: str, spans: list[tuple[int, int]], found: list[Mention]) -> list[Mention]:
        """Groups named by an amount alone after groups.bare_amount_before ("59.2% for 9 μg"), where
        the block names exactly one drug with amounts of that unit right after it: that drug, its
        amount read as its doses are (`_told_apart`). Not where a drug's name follows the unit."""
        drugs = sorted((x for x in found if x.kind == "drug"), key=_start)
        dosed: dict[str, set[str]] = {}
        for x in drugs:
            after = self.amounts_after.match(text, x.end, min(len(text), x.end + 80))
            if after is not None and self.dose_unit.fullmatch(after.group("unit")):
                dosed.setdefault(after.group("unit").lower(), set()).add(x.name)
        if not dosed:
            return []
        starts = [x.start for x in drugs]
        out: list[Mention] = []
        for start, end in spans:
            for m in self.bare_amount.finditer(text, start, end):
                names = dosed.get(m.group("unit").lower(), set())
                k = bisect_left(starts, m.end())
                if len(names) != 1 or not self.dose_unit.fullmatch(m.group("unit")) or (
                        k < len(drugs) and drugs[k].start - m.end() <= 4):  # "for 9 mg of ketamine"
                    continue
                a = m.start("amount")
                out.append(Mention(a, m.end(), next(iter(names)), "group", m.end(), a - 1))
        return out

    def _ends_elsewhere(self, text: str, spans: list[tuple[int, int]], name: str, here: int) -> bool:
        """Whether the block writes `name` (any case, whole words) elsewhere with groups.assigned_end after it."""
        pattern = regex.compile(r"(?<![\w-])" + regex.escape(name) + r"(?![\w-])", regex.IGNORECASE)
        return any(m.start() != here and self.assigned_end.match(text, m.end(), b)
                   for a, b in spans for m in pattern.finditer(text, a, b))

    @staticmethod
    def _keep_run(run: list[tuple[Mention | None, int]], out: list[Mention]) -> None:
        if len(run) >= 2:
            out += [x for x, _ in run if x is not None]

    def _unshortened(self, found: list[Mention]) -> list[Mention]:
        """A group named by one word that only qualifies (a generic word or groups.modifier_only)
        and is the first word of one group named before it ("the enhanced group" after "the
        enhanced recovery group") is that group; a name of its own ("the CCBT-I group" after
        "the CCBT-I program") is left as written."""
        firsts: dict[str, int] = {}
        for x in found:
            if x.kind == "group" and x.name and (x.name not in firsts or x.start < firsts[x.name]):
                firsts[x.name] = x.start
        out = []
        for x in found:
            if x.kind == "group" and (x.name in self.generic or self.modifier_only.fullmatch(x.name)):
                longer = {n for n, at in firsts.items() if at < x.start and n.startswith(x.name + " ")}
                if len(longer) == 1:
                    x = Mention(x.start, x.end, longer.pop(), x.kind, x.name_end, x.drug_end)
            out.append(x)
        return out

    def _renamed(self, text: str, spans: list[tuple[int, int]], found: list[Mention]) -> list[Mention]:
        """Later bare uses of a group's own name ("the S-1 arm" … "4.8% with S-1", "the tailored
        letters intervention group" … "the tailored letters intervention was"), unless it is a generic word."""
        # A route and a drug ("the IV palonosetron groups") are left to the drug's name: its
        # route and dose tell the arms apart (`_told_apart`).
        names = {x.name for x in found if x.kind == "group" and x.name not in self.generic
                 and not all(w in self.generic or w in self.stop for w in x.name.split())
                 and (" " not in x.name.strip() or not self.route_word.fullmatch(text[x.start:x.name_end].split()[0]))}
        names = {n for n in names if len(n) >= 2}
        if not names:
            return []
        # "the exposure-plus-placebo arm" is named "with exposure plus placebo" too.
        alternatives = "|".join(regex.escape(n).replace("\\-", "[-\\s]") for n in sorted(names, key=len, reverse=True))
        pattern = regex.compile(r"(?<![\w-])(?:" + alternatives + r")(?![\w-])", regex.IGNORECASE)
        return [Mention(m.start(), m.end(), m.group().lower(), "vocabulary", m.end()) for start, end in spans
                for m in pattern.finditer(text, start, end)]

    @staticmethod
    def _dosed(text: str, group: Mention, known: list[Mention]) -> Mention | None:
        """A group named by doses ("the peficitinib 25, 50 and 100 mg groups") is the drug right before them."""
        i = bisect_left(known, group.start, key=_start) - 1
        if i >= 0 and known[i].end <= group.start and not text[known[i].end:group.start].strip():
            return Mention(known[i].start, group.end, known[i].name, "group", group.name_end, known[i].end)
        return None

    def _abbreviated(self, text: str, spans: list[tuple[int, int]], found: list[Mention]) -> list[Mention]:
        """Every use of an abbreviation the text defines for a treatment ("... dimesylate (LDX)" ... "LDX 83.1%").

        Linear in the block: each abbreviation is looked for once, after its first accepted definition.
        """
        ordered = sorted(found, key=_start)
        starts = [x.start for x in ordered]
        defined: dict[str, tuple[int, str, bool]] = {}  # abbreviation -> (end of its definition, arm name, of a drug)
        for start, end in spans:
            for m in self.abbreviation.finditer(text, start, end):
                abbr = m.group("abbr")
                if abbr in defined:
                    continue
                # Schwartz & Hearst: a long form of at most min(|A| + 5, 2|A|) words.
                words = regex.findall(r"\S+", text[max(start, m.start() - 200):m.start()])
                reach = sum(len(w) + 1 for w in words[-min(len(abbr) + 5, 2 * len(abbr)):])
                long_start = long_form_start(text, abbr, max(start, m.start() - reach), m.start())
                if long_start is None:
                    continue
                # "etomidate-induced myoclonus (EM)" abbreviates an effect of the drug, not a treatment.
                inside = [x for x in ordered[bisect_left(starts, long_start):bisect_left(starts, m.start())]
                          if x.end <= m.start() and not self.abbreviation_modifier.match(text, x.end, m.start())]
                last_word = regex.findall(r"[^\W\d_]+", text[long_start:m.start()].lower())[-1:]
                if not inside and not (last_word and last_word[0] in self.abbreviation_heads):
                    continue
                # The arm of the vocabulary it abbreviates ("esketamine (ESK)"), not one its long form
                # only contains ("computerized CBT for insomnia (CCBT-I)").
                vocabulary = next((x.name for x in inside if x.kind == "vocabulary" and x.name in self.vocabulary_names
                                   and not text[long_start:x.start].strip() and not text[x.end:m.start()].strip()), None)
                # A drug's abbreviation ("certolizumab pegol (CZP)") is told apart by dose as the drug is.
                of_drug = any(x.kind == "drug" for x in inside)
                defined[abbr] = (m.end(), vocabulary or abbr.lower(), of_drug)
        out: list[Mention] = []
        for abbr, (after, name, of_drug) in defined.items():
            for a, b in spans:
                at = text.find(abbr, max(a, after), b)
                while at != -1:
                    stop = at + len(abbr)
                    if not (_word_char(text, at - 1) or _word_char(text, stop)):
                        out.append(Mention(at, stop, name, "group", stop, stop if of_drug else -1))
                    at = text.find(abbr, at + 1, b)
        return out

    def _canonical(self, text: str, group: Mention, known: list[Mention]) -> Mention:
        """A group whose naming words are one known arm or drug, maybe followed by generic
        words ("the brief advice intervention group"), takes that arm's name."""
        i = bisect_left(known, group.start + 1, key=_start)
        covering = [k for k in known[max(0, i - 8):i] if k.end > group.start]
        if not covering:
            return group
        k = max(covering, key=lambda c: c.end)
        rest = text[k.end:group.name_end].lower().split() if k.end < group.name_end else []
        if all(w in self.generic for w in rest):
            return Mention(group.start, group.end, k.name, "group", group.name_end)
        return group

    def block_arms(self, text: str, spans: list[tuple[int, int]], page_arm: str | None = None) -> BlockArms:
        """The block's mentions, its arms in order and its default arm (`page_arm` when it names no group)."""
        mentions = self.mentions(text, spans)
        if not mentions:
            return BlockArms([], page_arm, [])
        order = list(dict.fromkeys(m.name for m in mentions))
        counts = Counter(m.name for m in mentions)
        compared = any(n in self.comparator_arms for n in counts)
        candidates = {n: c for n, c in counts.items() if n not in self.comparator_arms}
        default = None
        if candidates:
            top = max(candidates.values())
            leaders = [n for n, c in candidates.items() if c == top]
            # One treatment, or the study-drug family of the vocabulary (a clinic page's subject).
            if len(leaders) == 1 and (not compared or leaders[0] in self.treatments) and (
                    len(candidates) == 1 or leaders[0] in self.treatments or top >= 2 * sorted(candidates.values())[-2]):
                default = leaders[0]
        first_treatment = next((n for n in order if n not in self.comparator_arms), None)
        # "In an open-label pilot, 15 smokers received psilocybin …; 12 of 15 (80%) were abstinent."
        single = not compared and any(self.single_arm.search(text, a, b) for a, b in spans)
        return BlockArms(mentions, default, order, first_treatment, first_treatment if single else None,
                         partners=self._partners(text, mentions))

    def _partners(self, text: str, mentions: list[Mention]) -> dict[str, str]:
        """For each group of the block's lists of exactly two groups (joined by groups.list_joiner,
        a bracket such as a group size allowed), the other group of the first such list."""
        partners: dict[str, str] = {}
        run: list[Mention] = []
        for m in [*mentions, None]:
            if m is not None and run and self.list_joiner.fullmatch(text, run[-1].end, m.start):
                run.append(m)
                continue
            names = list(dict.fromkeys(x.name for x in run))
            if len(names) == 2:
                partners.setdefault(names[0], names[1])
                partners.setdefault(names[1], names[0])
            run = [m] if m is not None else []
        return partners

    # ----------------------------------------------------------------- assignment

    def assign(self, text: str, sentence: tuple[int, int], items: list[Draft], segments: Partition, block: BlockArms) -> None:
        """Set `arm` on every armed draft of one sentence (see the module docstring)."""
        armed = sorted((d for d in items if d.type in ARMED_TYPES), key=lambda d: d.start)
        if not armed:
            return
        lo, hi = bisect_left(block.starts, sentence[0]), bisect_left(block.starts, sentence[1])
        mentions = block.mentions[lo:hi]
        rates = [d for d in armed if d.type.endswith("_rate")]
        position = {id(r): i for i, r in enumerate(rates)}
        scopes = self._scopes(text, armed, [m.start for m in mentions])
        done = (self._respectively(text, sentence, rates, mentions, scopes, segments, block)
                or {**self._listed_after(text, rates, mentions), **self._listed_before(text, rates, mentions)}
                or self._listed_as_before(text, rates, mentions, block))
        done.update(self._compared_respectively(text, sentence, [d for d in armed if not d.type.endswith("_rate")],
                                                rates, mentions, block))
        first_seg = segments[0]
        # "… in the placebo and erlotinib arms; HR 0.95": the treatment compared is never the comparator.
        treatment = next((m.name for m in mentions if first_seg[0] <= m.start < first_seg[1]
                          and m.name not in self.comparator_arms), None)
        if self.versus.match(text, first_seg[0], first_seg[1]):
            # "Compared with the CBT group, the combined group had a lower hazard (HR 0.58)": a sentence
            # that opens with its comparator names the treatment after the comparator's clause.
            comma = text.find(",", first_seg[0], first_seg[1])
            treatment = next((m.name for m in mentions if comma != -1 and comma < m.start < first_seg[1]
                              and m.name not in self.comparator_arms), None)
        sourced: dict[tuple[int, int], str] = {}  # per comparison segment: the last rate's group the text named
        for d in armed:
            if d in done:
                d.arm = done[d]
                continue
            if d.type.endswith("_rate") and self.stated_for_each.match(text, d.end, sentence[1]):
                d.arm = None  # "(14% each)": one share stated for several groups
                continue
            seg = segments[segments.index(d.start)]
            a, b, run_start, run_end = scopes[d]
            a, b = max(a, seg[0]), min(b, seg[1])
            brackets = enclosing_brackets(text, d.start, d.end)
            inside = self._own(text, mentions, max(a, brackets[0]), min(b, brackets[1]), run_start, run_end) if brackets else None
            if not d.type.endswith("_rate") and (numerator := self._numerator(d, rates, sentence)) is not None:
                d.arm = numerator  # the shares before it say which group's ratio it is
                continue
            if not d.type.endswith("_rate"):
                # "both NRT+ (OR, 1.72) and VR (OR, 1.96)": the group written right before the value,
                # unless a comparator introduces it ("lower than in the midazolam group (d≈1.13)").
                # A ratio after a rate's group compares the rates ("51.4% of the oral group (OR 0.51)").
                # "vortioxetine 20 mg (n = 144/447; OR 1.6)": a share before it in its own bracket
                # does not part it from the group before the bracket.
                floor = min(a, scopes[next(x for x in armed if x.start >= brackets[0])][0]) if brackets else a
                adjacent = self._adjacent(text, mentions, brackets[0] if brackets else d.start, floor)
                if (adjacent is not None and adjacent.name not in self.comparator_arms
                        and not self._introduced_by_comparator(adjacent, mentions, segments)
                        and not self._names_rate_before(text, adjacent, rates, mentions, sentence)):
                    d.arm = adjacent.name
                    continue
                exposure = self.exposure.search(text, max(sentence[0], brackets[0] - 120), brackets[0] + 1) if brackets else None
                if exposure is not None and brackets and bisect_left(block.starts, exposure.start()) == bisect_left(block.starts, brackets[0]):
                    # "odds of cessation were greater among those who completed full time education
                    # (OR = 1.82)": the ratio of the exposure named, where no group is named there.
                    d.arm = " ".join(exposure.group("name").lower().split())
                    continue
                if brackets and self._covariate(text, sentence, d, brackets, armed, mentions):
                    d.arm = None
                    continue
                # The treatment compared, never the comparator: a comparator's own group does not count.
                own = inside or self._own(text, mentions, a, b, run_start, run_end)
                d.arm = treatment or (own if own not in self.comparator_arms else None) or block.default or block.first_treatment
                continue
            if brackets:
                arm = inside or self._contrast(text, d, brackets, rates, position, mentions, block, segments)
                # A bracket that only restates a value ("(67%) of the enhanced intervention group"): look around it.
                arm = arm or self._own(text, mentions, a, b, min(run_start, brackets[0]), max(run_end, brackets[1] + 1))
            else:
                own_mention = self._own_mention(text, mentions, a, b, run_start, run_end)
                if own_mention is not None and own_mention.end <= run_start and self._pair_shares_group(
                        text, d, own_mention, rates, position, scopes, segments, mentions):
                    # "92% in the A group vs 32% in the B group, and remission was 60% vs 16%": a
                    # contrast compares two groups, so both its values cannot take the group before them.
                    own_mention = None
                arm = own_mention.name if own_mention is not None else self._contrast(text, d, None, rates, position, mentions, block, segments)
            named_inside = self._named_inside(mentions, d)
            arm = named_inside or arm
            if arm is None:
                # "… of X in reducing pain (77 %), improving mobility (78 %) and …": a value whose
                # scope names no group continues the group of the value before it in its segment.
                arm = sourced.get(seg)
            if arm is not None:
                sourced[seg] = arm
            d.arm = arm if arm is not None else (block.default or block.uncontrolled_treatment)
        self._by_size(rates, done, block)
        named = list(dict.fromkeys(r.arm for r in rates if r.arm is not None))
        if len(named) >= 2:
            block.recent = named

    @staticmethod
    def _by_size(rates: list[Draft], done: dict[Draft, str], block: BlockArms) -> None:
        """A share the text gives no group, of a group size that one group of the block had and no
        other ("63 of 105 injectable patients (60%) … Injection-site reactions affected 12%
        (13/105)"), is that group's; then the sentence's sizes are recorded."""
        for r in rates:
            if r.denominator is None or r in done:
                continue
            names = block.sizes.get(r.denominator, set())
            if r.arm is None and len(names) == 1:
                r.arm = next(iter(names))
        for r in rates:
            if r.denominator is not None and r.arm is not None:
                block.sizes.setdefault(r.denominator, set()).add(r.arm)

    def _scopes(self, text: str, armed: list[Draft], mention_starts: list[int]) -> dict[Draft, tuple[int, int, int, int]]:
        """Each value's (scope start, scope end, run start, run end).

        A run is a list of values joined only by "and", "or" or commas ("37% and 47%"), or
        shares of several outcomes between which no group is named (groups.share_of_joiner);
        its scope reaches from the previous run's end to the next run's start.
        """
        runs: list[list[Draft]] = []
        for d in armed:
            last = runs[-1][-1] if runs else None
            if last is not None and (self.list_joiner.fullmatch(text, last.end, d.start) or (
                    last.type.endswith("_rate") and d.type.endswith("_rate")
                    and self.share_of_joiner.fullmatch(text, last.end, d.start)
                    and bisect_left(mention_starts, last.end) == bisect_left(mention_starts, d.start))):
                runs[-1].append(d)
            else:
                runs.append([d])
        out: dict[Draft, tuple[int, int, int, int]] = {}
        for i, run in enumerate(runs):
            a = runs[i - 1][-1].end if i > 0 else run[0].start - CONTEXT
            b = runs[i + 1][0].start if i + 1 < len(runs) else run[-1].end + CONTEXT
            for d in run:
                out[d] = (max(0, a), b, run[0].start, run[-1].end)
        return out

    @staticmethod
    def _introduced_by_comparator(group: Mention, mentions: list[Mention], segments: Partition) -> bool:
        """Whether `group` is the first group of a comparison segment after the first ("than in the B group")."""
        i = segments.index(group.start)
        if i == 0:
            return False
        k = bisect_left(mentions, segments[i][0], key=_start)
        return k < len(mentions) and mentions[k] is group

    def _numerator(self, d: Draft, rates: list[Draft], sentence: tuple[int, int]) -> str | None:
        """The group whose share is the numerator of an odds or risk ratio, by arithmetic: the
        share nearest before the ratio in its sentence and an earlier one of another group whose
        ratio (risk_ratio) or ratio of odds (odds_ratio) is the ratio's value, within
        groups.ratio_tolerance, one way round and not the other ("HIV testing was 34.7% in the
        SoC arm, 40.2% in the PoC CD4 arm (RR 1.16)": 40.2 / 34.7 = 1.16, the PoC CD4 arm's).
        Never a comparator's; None when nothing says."""
        target = d.value
        if self.ratio_tolerance <= 0 or target is None or target <= 0 or d.type not in ("odds_ratio", "risk_ratio"):
            return None
        if abs(target - 1) <= 2 * self.ratio_tolerance * target:
            return None  # "OR 1.1": too near 1 for shares to tell its direction from a coincidence
        shares = [(r.value, r.arm) for r in rates if sentence[0] <= r.start and r.end <= d.start
                  and r.value is not None and 0 < r.value < 100 and r.arm is not None]
        if len(shares) < 2:
            return None
        odds = d.type == "odds_ratio"

        def near(a: float, b: float) -> bool:
            value = (a / (100 - a)) / (b / (100 - b)) if odds else a / b
            return abs(value - target) <= self.ratio_tolerance * target

        x, x_arm = shares[-1]
        for y, y_arm in reversed(shares[:-1]):
            if y_arm == x_arm:
                continue
            forward, backward = near(x, y), near(y, x)
            if forward and backward:
                return None  # a ratio near 1: either way round
            if forward or backward:
                arm = x_arm if forward else y_arm
                return None if arm in self.comparator_arms else arm
        return None

    def _names_rate_before(self, text: str, group: Mention, rates: list[Draft], mentions: list[Mention],
                           sentence: tuple[int, int]) -> bool:
        """Whether a rate right before `group` in its clause, with no group between, is that group's
        ("51.4% of the oral group (OR 0.51)": the ratio after it compares the rates)."""
        i = bisect_left(rates, group.start, key=_draft_start) - 1
        if i < 0 or rates[i].start < sentence[0] or self._crosses_value(text, rates[i].end, group.start):
            return False
        k = bisect_left(mentions, rates[i].end, key=_start)
        return k < len(mentions) and mentions[k] is group

    def _covariate(self, text: str, sentence: tuple[int, int], d: Draft, brackets: tuple[int, int], armed: list[Draft],
                   mentions: list[Mention]) -> bool:
        """'predictors were varenicline (OR 7.29 …), age (OR 1.07 …), Fagerstrom score (OR 0.37 …)':
        in a sentence about predictors, a ratio in brackets after a listed item that names no
        group is that covariate's, no arm's."""
        i = bisect_left(armed, d.start, key=_draft_start)
        if i == 0 or armed[i - 1].type.endswith("_rate") or not self.covariate_cue.search(text, sentence[0], d.start):
            return False
        previous_close = enclosing_brackets(text, armed[i - 1].start, armed[i - 1].end)
        if not previous_close:
            return False
        gap_start = previous_close[1] + 1
        if not self.covariate_item.fullmatch(text, gap_start, brackets[0]):
            return False
        k = bisect_left(mentions, gap_start, key=_start)
        return not (k < len(mentions) and mentions[k].start < brackets[0])

    def _own(self, text: str, mentions: list[Mention], a: int, b: int, run_start: int, run_end: int) -> str | None:
        """The group of a run within [a, b): the first one after it in its clause, else the last one before it."""
        found = self._own_mention(text, mentions, a, b, run_start, run_end)
        return found.name if found is not None else None

    def _adjacent(self, text: str, mentions: list[Mention], at: int, floor: int) -> Mention | None:
        """The group written right before `at` (groups.adjacent between them), not before `floor`."""
        j = bisect_left(mentions, at, key=_start) - 1
        if j >= 0 and mentions[j].start >= floor and mentions[j].end <= at and self.adjacent.fullmatch(text, mentions[j].end, at):
            return mentions[j]
        return None

    def _own_mention(self, text: str, mentions: list[Mention], a: int, b: int, run_start: int, run_end: int) -> Mention | None:
        adjacent = self._adjacent(text, mentions, run_start, a)
        if adjacent is not None:
            return adjacent  # "AL 85.2%, CPD 63.7%": the group written right before the value
        i = bisect_left(mentions, run_end, key=_start)
        if i < len(mentions) and mentions[i].start < b and not self._crosses_value(text, run_end, mentions[i].start):
            return mentions[i]
        j = bisect_left(mentions, run_start, key=_start) - 1
        while j >= 0 and mentions[j].end > run_start:
            j -= 1
        if j >= 0 and mentions[j].start >= a and not self._crosses_value(text, mentions[j].end, run_start):
            return mentions[j]
        return None

    @staticmethod
    def _named_inside(mentions: list[Mention], d: Draft) -> str | None:
        """A group named inside the value's own span ("63 of 105 injectable patients (60%)")."""
        i = bisect_left(mentions, d.start, key=_start)
        if i < len(mentions) and mentions[i].end <= d.end:
            return mentions[i].name
        return None

    def _versus_pair(self, text: str, d: Draft, rates: list[Draft], position: dict[int, int]) -> tuple[Draft, Draft] | None:
        """The two rates of the contrast d is part of ("52.5% vs 31.0%"), if any."""
        i = position[id(d)]
        if i > 0 and self.versus.fullmatch(text, rates[i - 1].end, d.start):
            return rates[i - 1], d
        if i + 1 < len(rates) and self.versus.fullmatch(text, d.end, rates[i + 1].start):
            return d, rates[i + 1]
        return None

    def _pair_shares_group(self, text: str, d: Draft, own: Mention, rates: list[Draft], position: dict[int, int],
                           scopes: dict[Draft, tuple[int, int, int, int]], segments: Partition, mentions: list[Mention]) -> bool:
        """Whether d's contrast partner would take the same group named before both, or none of its own."""
        pair = self._versus_pair(text, d, rates, position)
        if pair is None:
            return False
        other = pair[1] if pair[0] is d else pair[0]
        seg = segments[segments.index(other.start)]
        a, b, run_start, run_end = scopes[other]
        theirs = self._own_mention(text, mentions, max(a, seg[0]), min(b, seg[1]), run_start, run_end)
        return theirs is None or theirs is own

    def _crosses_value(self, text: str, start: int, end: int) -> bool:
        """A clause boundary (groups.clause_break: ";", a full stop) between a value and a group ends the value's reach."""
        return self.clause_break.search(text, start, end) is not None

    def _contrast(self, text: str, d: Draft, brackets: tuple[int, int] | None, rates: list[Draft], position: dict[int, int],
                  mentions: list[Mention], block: BlockArms, segments: Partition) -> str | None:
        """A contrast of two rates that names no group ("(18% vs. 4%)", "were 52.5% vs 31.0%"):
        the two groups named last before it (in the sentence, else the block), in order."""
        pair = self._versus_pair(text, d, rates, position)
        if pair is None:
            return None
        x, y = pair
        end = brackets[1] if brackets else y.end
        k = bisect_left(mentions, x.start, key=_start)
        if k < len(mentions) and mentions[k].start < end:
            return None
        start = brackets[0] if brackets else x.start
        # The groups its own sentence names before it, else (none there) the block's:
        # walk back only as far as two distinct groups (linear on huge blocks).
        own = mentions[:bisect_left(mentions, start, key=_start)]
        against = self._compared_after(text, end, mentions, rates) if brackets and own else None
        if against is not None and own[-1].name != against.name and not self._paired_before(own, rates):
            # "reduced in Group III (32% vs. 60%) … compared with Group I": the group before the
            # bracket has the first value, the group it is compared with after the bracket the second.
            return own[-1].name if d is x else against.name
        pool, stop = (own, 0) if own else (block.mentions, 0)
        distinct: list[str] = []
        named: list[Mention] = []
        for i in range(bisect_left(pool, start, key=_start) - 1, stop - 1, -1):
            name = pool[i].name
            if pool[i].end <= start and name not in distinct:
                distinct.append(name)
                named.append(pool[i])
            if len(distinct) == 2:
                break
        distinct.reverse()
        if pool is block.mentions and len(distinct) == 2:
            # Its sentence names no group: the order the last sentence gave these two groups
            # their shares in ("… with topical compared with intravenous lidocaine (46% vs. 26%).
            # The incidence of laryngospasm (32% vs. 27%) …"), else the order the block introduced them.
            recent = [n for n in block.recent if n in distinct]
            distinct.sort(key=(recent if len(recent) == 2 else block.order).index)
        first = d is x
        if len(distinct) == 2:
            if self._stated_order_reversed(text, named[-1], x, y):
                first = not first
            return distinct[0] if first else distinct[1]
        if len(distinct) == 1:
            group = distinct[0]
            # "(7.9% versus 9.5%) with vorapaxar compared with placebo. Vorapaxar also reduced …
            # (10.1% versus 11.8%)": the other of the two groups the last contrast compared.
            paired = [n for n in block.recent if n != group] if len(block.recent) == 2 and group in block.recent else []
            other = (paired[0] if paired else None) or block.other_than(group) or block.partners.get(group) or (
                block.first_treatment if block.first_treatment != group else None)
            if segments.index(named[0].start) > 0 and segments.index(named[0].start) == segments.index(x.start):
                # "higher with the intervention than in those receiving usual care (46.4% vs 3.4%)":
                # the one group named is the one compared against, so it has the second value.
                return other if first else group
            return group if first else other
        return None

    @staticmethod
    def _paired_before(own: list[Mention], rates: list[Draft]) -> bool:
        """Whether the last group before a contrast has another group before it with no share
        between them ("comparable between the A and the B groups (67.1% versus 65.2%)"): the
        contrast compares those two."""
        last = own[-1]
        previous = next((m for m in reversed(own) if m.name != last.name), None)
        return previous is not None and not any(previous.end <= r.start < last.start for r in rates)

    def _compared_after(self, text: str, end: int, mentions: list[Mention], rates: list[Draft]) -> Mention | None:
        """The first group after `end` that groups.comparator_before introduces ("… compared with
        Group I"), if every share between stands in brackets, as a contrast's own do."""
        for m in mentions[bisect_left(mentions, end, key=_start):]:
            if any(end <= r.start < m.start and enclosing_brackets(text, r.start, r.end) is None for r in rates):
                return None
            if self.comparator_before.search(text, max(end, m.start - 60), m.start):
                return m
        return None

    def _stated_order_reversed(self, text: str, group: Mention, x: Draft, y: Draft) -> bool:
        """"lower in the A group than in the B group (18% vs. 4%)": the words before A say it has
        the smaller value, so when x is the larger, the values are not in the groups' order."""
        if x.value is None or y.value is None or x.value == y.value:
            return False
        before = text[max(0, group.start - 60):group.start]
        if self.smaller_first.search(before):
            return x.value > y.value
        if self.larger_first.search(before):
            return x.value < y.value
        return False

    def _respectively(self, text: str, sentence: tuple[int, int], rates: list[Draft], mentions: list[Mention],
                      scopes: dict[Draft, tuple[int, int, int, int]], segments: Partition, block: BlockArms) -> dict[Draft, str]:
        """'… 10.9% and 8.9% … in the original and modified programs, respectively': rates in turn.

        Only rates whose own group is none or one of the list's take part: "47%, 52% and 49%
        with iTBS, and remission was 29% and 18%, respectively, in the iTBS and rTMS arms"
        maps the remissions, not the responses that name their own group.
        """
        m = self.respectively.search(text, sentence[0], sentence[1])
        if m is None or len(rates) < 2:
            return {}
        groups = self._coordinated(text, mentions)
        listed: list[Mention] = []
        names: list[str] = []
        if groups:
            names, listed = max(groups, key=lambda g: len(g[0]))
        taking, owners = [], []
        for d in rates:
            a, b, run_start, run_end = scopes[d]
            seg = segments[segments.index(d.start)]
            own = self._own_mention(text, mentions, max(a, seg[0]), min(b, seg[1]), run_start, run_end)
            if own is None or any(own is x for x in listed):
                taking.append(d)
            elif d.end <= m.start():
                owners.append(own.name)
        if len(taking) < 2:
            return {}
        if not names or len(taking) % len(names):
            # No list in the sentence that the values divide into: the groups its earlier values
            # named, in order ("46% in the ERP group, 39% in … and 61% in …; remission 24%, 16%
            # and 33%, respectively"), else those of the last sentence that named as many,
            # else the block's arms in the order it introduced them.
            distinct = list(dict.fromkeys(owners))
            before = self._previous_sentence_groups(text, sentence, block)
            if len(distinct) == len(taking):
                names = distinct
            elif len(block.recent) >= 2 and len(taking) % len(block.recent) == 0:
                names = block.recent
            elif len(before) >= 2 and len(taking) % len(before) == 0:
                # "44 patients in group A and 57 in group B. Respective abstinence rates were 54.5% and
                # 15.8% at week 12 and 52.3% and 14.0% at week 52": one list of values per time, in turn.
                names = before
            elif len(block.order) >= len(taking):
                names = block.order[:len(taking)]
            else:
                return {}
        return {d: names[i % len(names)] for i, d in enumerate(taking)}


    def _previous_sentence_groups(self, text: str, sentence: tuple[int, int], block: BlockArms) -> list[str]:
        """The distinct groups the sentence before `sentence` names, in order (none if it names none)."""
        start = sentence[0]
        window = max(0, start - 600)
        ends = [m.end() for m in self.sentence_end.finditer(text, window, max(window, start - 1))]
        previous = ends[-1] if ends else window
        lo, hi = bisect_left(block.starts, previous), bisect_left(block.starts, start)
        return list(dict.fromkeys(m.name for m in block.mentions[lo:hi]))

    def _compared_respectively(self, text: str, sentence: tuple[int, int], values: list[Draft], rates: list[Draft],
                               mentions: list[Mention], block: BlockArms) -> dict[Draft, str]:
        """'NRT+ and VR gave (OR, 1.52 … and OR, 1.58 …, respectively)': effects and ratios in turn.

        The treatments are the sentence's coordinated groups, less a group every list names
        ('between III and MI …, and between IGI and MI [RR 7.04 and RR 5.1, respectively]'
        compares III and IGI with MI); with no list, those of the last sentence that did this.
        """
        if len(values) < 2:
            return {}
        # Its own "respectively": after the values, with no rate among them (else it is the rates').
        word = self.respectively.search(text, values[-1].end, sentence[1])
        if word is None or any(values[0].start <= r.start < word.start() for r in rates):
            return {}
        lists = [names for names, _ in self._coordinated(text, mentions)]
        common = set.intersection(*(set(n) for n in lists)) if len(lists) > 1 else set()
        names = list(dict.fromkeys(n for group in lists for n in group if n not in common))
        # "(OR, 1.52 … and OR, 1.58 …, respectively); … (OR, 1.57 … and OR, 1.79 …, respectively)":
        # one list of values per "respectively", each taking the groups in turn.
        turns = sum(1 for _ in self.respectively.finditer(text, values[0].end, word.end()))
        if len(names) < 2 or len(names) * turns != len(values):
            names = block.recent_compared
        if len(names) < 2 or len(names) * turns != len(values):
            return {}
        block.recent_compared = names
        return {d: names[i % len(names)] for i, d in enumerate(values)}

    def _coordinated(self, text: str, mentions: list[Mention]) -> list[tuple[list[str], list[Mention]]]:
        """Runs of distinct groups joined only by groups.group_joiner ("the alcohol and mechanical groups"):
        their names in order, and the mentions that make them."""
        runs: list[list[Mention]] = []
        for m in mentions:
            if runs and self.group_joiner.fullmatch(text, runs[-1][-1].end, m.start):
                runs[-1].append(m)
            else:
                runs.append([m])
        return [(list(dict.fromkeys(x.name for x in r)), r) for r in runs if len({x.name for x in r}) >= 2]

    def _listed_before(self, text: str, rates: list[Draft], mentions: list[Mention]) -> dict[Draft, str]:
        """'Response rates in the ketamine and placebo groups were 40% and 20%': a list of groups
        followed in its clause, with no other group between, by a list of as many values."""
        out: dict[Draft, str] = {}
        for names, listed in self._coordinated(text, mentions):
            if len(names) != len(listed):
                continue
            end = listed[-1].end
            after = bisect_left(mentions, end, key=_start)
            limit = mentions[after].start if after < len(mentions) else len(text)
            # The values after the list, up to the next group: found by bisection, not a scan of
            # every rate per list (linear on huge sentences).
            i = bisect_left(rates, end, key=_draft_start)
            if i == len(rates) or rates[i].end > limit or self._crosses_value(text, end, rates[i].start):
                continue
            run = [rates[i]]
            for d in itertools.islice(rates, i + 1, None):
                if d.end > limit or not (self.list_joiner.fullmatch(text, run[-1].end, d.start)
                                         or self.versus.fullmatch(text, run[-1].end, d.start)):
                    break
                run.append(d)
            if len(run) == len(names):
                out.update(zip(run, names, strict=True))
        return out

    def _listed_as_before(self, text: str, rates: list[Draft], mentions: list[Mention], block: BlockArms) -> dict[Draft, str]:
        """'… was 37%, 34% and 18%, respectively. Rescue antiemetic was needed by 23 of 100, 21 of
        100 and 9 of 100 patients': a sentence that names no group and whose values are one list
        of as many values as the groups the last such list took, takes those groups in turn."""
        n = len(block.recent)
        if mentions or n < 2 or len(rates) != n:
            return {}
        if not all(self.list_joiner.fullmatch(text, a.end, b.start) for a, b in itertools.pairwise(rates)):
            return {}
        return dict(zip(rates, block.recent, strict=True))

    def _listed_after(self, text: str, rates: list[Draft], mentions: list[Mention]) -> dict[Draft, str]:
        """'The rates were 10.0 %, 12.4 %, and 15.3 % in the NRT, NRT+, and VR groups': a list of
        values followed, in their clause and with no other group between, by a list of as many groups."""
        out: dict[Draft, str] = {}
        for names, listed in self._coordinated(text, mentions):
            if len(names) != len(listed):
                continue
            start = listed[0].start
            before = bisect_left(mentions, start, key=_start) - 1
            floor = mentions[before].end if before >= 0 else 0
            i = bisect_left(rates, start, key=_draft_start) - 1
            if i < 0 or rates[i].start < floor or self._crosses_value(text, rates[i].end, start):
                continue
            run = [rates[i]]
            for d in reversed(rates[:i]):
                if d.start < floor or not (self.list_joiner.fullmatch(text, d.end, run[0].start)
                                           or self.versus.fullmatch(text, d.end, run[0].start)):
                    break
                run.insert(0, d)
            if len(run) == len(names):
                out.update(zip(run, names, strict=True))
        return out


def _covered(found: list[Mention]) -> DisjointSpans:
    """The spans the mentions cover (overlapping ones once)."""
    taken = DisjointSpans()
    for x in found:
        if not taken.overlaps(x.start, x.end):
            taken.add(x.start, x.end)
    return taken


def _word_char(text: str, i: int) -> bool:
    """Whether text[i] continues a word or a hyphenated name (False outside the text)."""
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_-")


def _start(m: Mention) -> int:
    return m.start


def _draft_start(d: Draft) -> int:
    return d.start
