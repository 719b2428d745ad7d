"""The `drug` of doses and routes (SCHEMA v1.1): the substance the amount or route is of.

`DrugLinker(vocab)` is built once from the compiled drug vocabulary (`rules/vocab/drugs.yaml`
plus any lexicon it names); `mentions(text, start, end)` finds the drug names in a
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

import ahocorasick
import regex

if TYPE_CHECKING:  # rules.py imports this module's pure helpers; Draft would import rules.py back
    from .normalize import Draft

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


class DrugLinker:
    """Drug names in text, and the drug of each dose and route draft."""

    def __init__(self, names: dict[str, str], order: dict[str, list[str]], joiner: str):
        """`names`: spelling (any case) -> canonical name; `order`: per draft type, the search steps."""
        self.order = order
        self.joiner = regex.compile(joiner, regex.IGNORECASE)
        self.automaton = ahocorasick.Automaton()
        for spelling, canonical in names.items():
            key = fold(spelling)
            self.automaton.add_word(key, (len(key), canonical))
        if names:
            self.automaton.make_automaton()
        self.empty = not names

    def mentions(self, text: str, start: int, end: int) -> list[DrugMention]:
        """Drug names in text[start:end] as whole words, leftmost-longest, earliest first."""
        if self.empty:
            return []
        hay = fold(text[start:end])
        found: list[tuple[int, int, str]] = []
        for last, (length, canonical) in self.automaton.iter(hay):
            s, e = last - length + 1, last + 1
            if (s > 0 and (hay[s - 1].isalnum() or hay[s - 1] in "-_")) or (e < len(hay) and (hay[e].isalnum() or hay[e] == "_")):
                continue
            found.append((s, e, canonical))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        out: list[DrugMention] = []
        for s, e, canonical in found:
            if out and s < out[-1].end - start:
                continue
            out.append(DrugMention(start + s, start + e, canonical))
        return out

    def drug_of(self, text: str, d: Draft, names: list[DrugMention], starts: list[int] | None = None) -> str | None:
        """The drug of one dose or route among the names of its sentence (`starts`: their starts), or None."""
        if starts is None:
            starts = [m.start for m in names]
        for step in self.order.get(d.type, ()):
            if step == "after":
                i = bisect_left(starts, d.end)
                if i < len(names):
                    return names[i].name
            elif step == "after_joined":
                i = bisect_left(starts, d.end)
                if i < len(names) and self.joiner.fullmatch(text, d.end, names[i].start):
                    return names[i].name
            elif step == "before":
                i = bisect_right(starts, d.start) - 1
                while i >= 0 and names[i].end > d.start:
                    i -= 1  # a name overlapping the value ("ketamine-IV") is not before it
                if i >= 0:
                    return names[i].name
        return None

    def assign(self, text: str, drafts: list[Draft]) -> None:
        """Set `drug` on every dose and route draft from its own sentence's drug names."""
        cache: dict[tuple[int, int], tuple[list[DrugMention], list[int]]] = {}
        for d in drafts:
            if d.type not in DRUG_TYPES:
                continue
            sentence = d.extra["sentence"]
            key = (sentence.start, sentence.end)
            if key not in cache:
                names = self.mentions(text, sentence.start, sentence.end)
                cache[key] = (names, [m.start for m in names])
            d.drug = self.drug_of(text, d, *cache[key])
