"""The `drug` of doses and routes (SCHEMA v1.1): the substance the amount or route is of.

`DrugLinker(index)` reads the compiled drug vocabulary (`rules/vocab/drugs.yaml` plus
any lexicon it names, compiled into one automaton by `pipeline/compiled.py`); `mentions(text, start, end)` finds the drug names in a
stretch of text (whole words, case-insensitive, leftmost-longest, one Aho-Corasick pass);
`assign(text, drafts)` sets `drug` on every dose and route draft from the names in its
own sentence, searching in the order the vocabulary's `link` section gives per type:

* `after` — the first name after the value (a route word qualifies what follows it:
  "oral haloperidol", "IV infusion of ketamine");
* `after_joined` — the first name after the value when only the `joiner` stands between
  ("0.045 mg/kg of midazolam");
* `before` — the nearest name before the value ("ketamine 0.5 mg/kg").

A sentence that names no substance leaves `drug` null (ANNOTATION v1.1).
"""

from __future__ import annotations

import bz2
import importlib.util
import pickle
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .spans import enclosing_brackets

if TYPE_CHECKING:  # rules.py imports this module's pure helpers; these would import rules.py back
    from .compiled import DrugIndex
    from .normalize import Draft
    from .timed import TimedPattern

DRUG_TYPES = ("dose", "route")


def drug_spellings(names: dict[str, list[str]], lexicon: str, exclude: list[str]) -> dict[str, str]:
    """Every spelling (folded, see `fold`) -> canonical name: the lexicon's names, less `exclude`, then the vocabulary's (which win)."""
    out = {fold(spelling): name for spelling, name in lexicon_names(lexicon).items()}
    for spelling in exclude:
        out.pop(fold(spelling), None)
    for canonical, spellings in names.items():
        for spelling in (canonical, *spellings):
            out[fold(spelling)] = canonical
    return out


def _dner_names() -> dict[str, str]:
    """Names from the data file of `drug-named-entity-recognition` (MIT; DrugBank open
    vocabulary, MeSH, MedlinePlus, NHS and Wikipedia synonyms).

    The file is read directly: importing the package costs ~2 s and ~340 MB (it builds a
    fuzzy index we do not use), and `find_spec` locates it without importing. Only
    variants of substances with a DrugBank id are kept, which drops MeSH-only proteins,
    enzymes and drug-class terms; a variant is named as written (lower case), a brand
    by its substance ("Spravato" -> esketamine).
    """
    spec = importlib.util.find_spec(DNER_PACKAGE)
    if spec is None or spec.origin is None:
        raise ValueError(f"drug lexicon {DNER_DIST!r} is not installed (pip install {DNER_DIST})")
    path = Path(spec.origin).parent / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as fh:
        data = pickle.load(fh)  # noqa: S301 - the installed package's own data file, as trusted as its code
    to_canonical = data["drug_variant_to_canonical"]
    about = data["drug_canonical_to_data"]
    variant_data = data["drug_variant_to_variant_data"]
    out = {}
    for variant, canonicals in to_canonical.items():
        canonical = canonicals[0]
        if not about.get(canonical, {}).get("drugbank_id"):
            continue
        if not any(word.isalpha() and len(word) >= 4 for word in variant.split()):
            continue  # "at 10", "33 a 74": numbers and short words only
        out[variant] = canonical.lower() if variant_data.get(variant, {}).get("is_brand") else variant.lower()
    return out


DNER_DIST = "drug-named-entity-recognition"
DNER_PACKAGE = "drug_named_entity_recognition"
LEXICONS = {DNER_DIST: _dner_names}


def lexicon_names(lexicon: str) -> dict[str, str]:
    """Spelling -> canonical name from an installed drug lexicon (`none`: no names)."""
    if lexicon == "none":
        return {}
    if lexicon not in LEXICONS:
        raise ValueError(f"unknown drug lexicon {lexicon!r} (known: none, {', '.join(LEXICONS)})")
    return LEXICONS[lexicon]()


@dataclass(frozen=True)
class DrugMention:
    start: int
    end: int
    name: str  # canonical, lower case


def fold(text: str) -> str:
    """Lower case with the length kept, so offsets in the folded text are offsets in `text`."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


@dataclass(frozen=True)
class AmountWordRule:
    """What an amount is of when no drug name follows it ("118 mL placebo", "300 g of cucumber")."""

    pattern: TimedPattern  # groups: noun (unless a stop word), abbr (if the text defines it), name
    stop_words: frozenset[str]


class DrugLinker:
    """Drug names in text, and the drug of each dose and route draft."""

    def __init__(self, index: DrugIndex):
        """`index`: the drug names as one automaton (pipeline/compiled.py), with per draft type the
        search steps (`order`); `compound`: what joins the names of one combination
        ("fentanyl-midazolam"); `list_joiner` and `list_gap`: a list of names and what stands
        between it and the bracket of their amounts."""
        self.order = index.order
        self.joiner = index.joiner
        self.compound = index.compound
        self.list_joiner = index.list_joiner
        self.list_gap = index.list_gap
        self.amount_word = index.amount_word
        self.after_stop = index.after_stop
        self.automaton = index.automaton
        self.empty = index.empty

    def mentions(self, text: str, start: int, end: int) -> list[DrugMention]:
        """Drug names in text[start:end] as whole words, leftmost-longest, earliest first.

        A name glued to the word before it ("S-ketamine" holds "ketamine") is not one, unless
        that word is a name too and `compound` joins them ("midazolam-medetomidine")."""
        if self.empty:
            return []
        hay = fold(text[start:end])
        found: list[tuple[int, int, str, bool]] = []
        for last, (length, canonical) in self.automaton.iter(hay):
            s, e = last - length + 1, last + 1
            if (s > 0 and hay[s - 1].isalnum()) or (e < len(hay) and (hay[e].isalnum() or hay[e] == "_")):
                continue
            found.append((s, e, canonical, s > 0 and hay[s - 1] in "-_"))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        out: list[DrugMention] = []
        for s, e, canonical, glued in found:
            if out and s < out[-1].end - start:
                continue
            if glued and not (out and self.compound.fullmatch(text, out[-1].end, start + s)):
                continue
            out.append(DrugMention(start + s, start + e, canonical))
        return out

    def combination(self, text: str, names: list[DrugMention], i: int) -> tuple[int, int] | None:
        """The span of the combination ("sodium hyaluronate-chondroitin sulfate") names[i] is part of, if any."""
        lo = hi = i
        while lo > 0 and self.compound.fullmatch(text, names[lo - 1].end, names[lo].start):
            lo -= 1
        while hi + 1 < len(names) and self.compound.fullmatch(text, names[hi].end, names[hi + 1].start):
            hi += 1
        return (names[lo].start, names[hi].end) if hi > lo else None

    def _named(self, text: str, names: list[DrugMention], i: int) -> str:
        """The drug names[i] names: the whole combination as written when it is part of one."""
        span = self.combination(text, names, i)
        return " ".join(text[span[0]:span[1]].lower().split()) if span else names[i].name

    def _listed(self, text: str, doses: list[Draft], names: list[DrugMention]) -> dict[int, str]:
        """Amounts in one bracket after a list of as many names ("fentanyl-midazolam (10 μg/kg; 0.5 mg/kg)"):
        the i-th amount is of the i-th name. Keyed by id(draft)."""
        by_bracket: dict[tuple[int, int], list[Draft]] = {}
        for d in doses:
            brackets = enclosing_brackets(text, d.start, d.end)
            if brackets is not None:
                by_bracket.setdefault(brackets, []).append(d)
        out: dict[int, str] = {}
        ends = [m.end for m in names]
        for (open_at, _close), inside in by_bracket.items():
            if len(inside) < 2:
                continue
            j = bisect_right(ends, open_at) - 1
            if j < 0 or not self.list_gap.fullmatch(text, names[j].end, open_at):
                continue
            first = j
            while first > 0 and self.list_joiner.fullmatch(text, names[first - 1].end, names[first].start):
                first -= 1
            if j - first + 1 == len(inside):
                for d, m in zip(sorted(inside, key=lambda x: x.start), names[first:j + 1], strict=True):
                    out[id(d)] = m.name
        return out

    def _amount_word(self, text: str, d: Draft, taken: set[int], defined: dict[str, bool]) -> str | None:
        """What the amount is of when a word, not a drug name, follows it (see `AmountWordRule`).

        `defined`: per abbreviation, whether the text defines it in brackets (filled as asked,
        so the text is searched once per abbreviation, not once per amount)."""
        rule = self.amount_word
        if rule is None:
            return None
        m = rule.pattern.match(text, d.end)
        if m is None:
            return None
        if m.group("noun") and m.group("noun").lower() not in rule.stop_words:
            return m.group("noun").lower()
        abbr = m.group("abbr")
        if abbr and m.start("abbr") not in taken:
            if abbr not in defined:
                defined[abbr] = f"({abbr})" in text
            if defined[abbr]:
                return abbr.lower()
        return m.group("name").lower() if m.group("name") else None

    def _in_bracket(self, text: str, d: Draft, names: list[DrugMention], starts: list[int]) -> str | None:
        """A value inside brackets is of the drug its bracket names before it, else of the drug
        the bracket follows: "esketamine (56 or 84 mg intranasally, twice weekly)",
        "buprenorphine (8–16 mg sublingual daily)", "(esketamine 0.15 mg/kg IV, given …)"."""
        brackets = enclosing_brackets(text, d.start, d.end)
        if brackets is None:
            return None
        open_at = brackets[0]
        i = bisect_right(starts, d.start) - 1
        while i >= 0 and names[i].end > d.start:
            i -= 1
        if i >= 0 and names[i].start > open_at:
            return self._named(text, names, i)
        if i >= 0 and self.list_gap.fullmatch(text, names[i].end, open_at):
            return self._named(text, names, i)
        return None

    def drug_of(self, text: str, d: Draft, names: list[DrugMention], starts: list[int] | None = None,
                listed: dict[int, str] | None = None, taken: set[int] | None = None,
                defined: dict[str, bool] | None = None) -> str | None:
        """The drug of one dose or route among the names of its sentence (`starts`: their starts), or None.

        `listed`: amounts mapped to a list of names (see `_listed`); `taken`: where other values start;
        `defined`: the abbreviations memo of `_amount_word`, shared by one text's values."""
        if starts is None:
            starts = [m.start for m in names]
        for step in self.order.get(d.type, ()):
            if step == "list":
                if listed and id(d) in listed:
                    return listed[id(d)]
            elif step == "bracket":
                found = self._in_bracket(text, d, names, starts)
                if found is not None:
                    return found
            elif step == "after":
                i = bisect_left(starts, d.end)
                if i < len(names) and not self.after_stop.search(text, d.end, names[i].start):
                    return self._named(text, names, i)
            elif step == "after_joined":
                i = bisect_left(starts, d.end)
                if i < len(names) and self.joiner.fullmatch(text, d.end, names[i].start):
                    return self._named(text, names, i)
            elif step == "amount_word":
                word = self._amount_word(text, d, taken or set(), {} if defined is None else defined)
                if word is not None:
                    return word
            elif step == "before":
                i = bisect_right(starts, d.start) - 1
                while i >= 0 and names[i].end > d.start:
                    i -= 1  # a name overlapping the value ("ketamine-IV") is not before it
                if i >= 0:
                    return self._named(text, names, i)
        return None

    def assign(self, text: str, drafts: list[Draft]) -> None:
        """Set `drug` on every dose and route draft from its own sentence's drug names."""
        by_sentence: dict[tuple[int, int], list[Draft]] = {}
        for d in drafts:
            if d.type in DRUG_TYPES:
                sentence = d.extra["sentence"]
                by_sentence.setdefault((sentence.start, sentence.end), []).append(d)
        taken = {d.start for d in drafts}
        defined: dict[str, bool] = {}
        for (start, end), items in by_sentence.items():
            names = self.mentions(text, start, end)
            starts = [m.start for m in names]
            listed = self._listed(text, [d for d in items if d.type == "dose"], names) if names else {}
            for d in items:
                d.drug = self.drug_of(text, d, names, starts, listed, taken, defined)
