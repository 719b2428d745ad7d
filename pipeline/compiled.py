"""The compile step: validated `Rules` → frozen `CompiledRules`, the one place anything is compiled.

`compile_rules(rules)` compiles every regex of `rules/` (recognizers, exclusions, damage
signs, their triggers and literal gates, and the vocabulary's cues, arms, conditions,
bounds and units), probes each rule regex for catastrophic backtracking, builds the
spaCy tokenizer once (with its special cases) and the token-pattern `Matcher`, and
derives every table the engines read: the extractor's anchors, route pre-scan and
rule plans (`ExtractTables`), the linker's cue and clause regexes (`LinkTables`), the
arm finder's (`ArmTables`), the drug-name automaton (`DrugIndex`), the condition-term
index (`TermIndex`) and the unit readers. Any problem raises `RuleError` with file,
line and rule id.

Every regex compiled here is a `TimedPattern` (pipeline/timed.py): each call runs with
a time limit, however short the text, and a timeout names its rule as `file:id`
(`regex/measures.yaml:rate.percent`, `vocab/arms.yaml:groups.noun`).

With `validate=False` (rules validated and probed before, as a `pipeline/rulecache.py`
entry records), nothing is compiled or probed: every regex, literal, named group and the
drug automaton come from the record (a regex it lacks is a deferred `TimedPattern`,
compiled on its first call), and the tokenizer and matcher are built when a text
first needs tokens (`TokenEngine`: from the record's tokenizer tables without spaCy,
`pipeline.lighttokens`, else spaCy's): the same tables, so the same results, for a
fraction of the start-up.

The phrase terms of a large condition vocabulary are the one exception to compiling
everything here: they are looked up by word and their regexes compiled when first
needed (`pipeline.phrases`), so 20,000 of them load in a fraction of the time.

The result is immutable and holds no caches (a deferred pattern and the `TokenEngine`
build their part once, inside the rule set that holds them): the engines (`Extractor`, `Linker`,
`ArmLinker`, `DrugLinker`) take it (or their part of it) explicitly and compile
nothing, so two rule sets in one process never share state, and building an engine
costs nothing. `evidex.default_rules()` is the process's one default handle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ahocorasick
import regex
from pydantic import ConfigDict

from . import lighttokens
from . import phrases as phrases_module
from .drugs import AmountWordRule, fold
from .lighttokens import TokenizerTables
from .phrases import PhraseIndex, first_word
from .prefilter import Derive, Trigger, TriggerSet, literal_automaton, required_literals
from .rulecache import Derivations
from .rules import GROUPS, OutcomeCue, RegexRule, RuleError, Rules, TokenPattern, word_alternation
from .timed import MATCH_TIMEOUT_S, TimedPattern

__all__ = ["MATCH_TIMEOUT_S", "CompiledRules", "TimedPattern", "compile_rules"]

# A pattern that takes longer than this on a probe string is rejected as catastrophic.
PROBE_TIMEOUT_S = 0.5
# Strings that make a backtracking-prone pattern blow up.
_PROBES = ("1" * 64 + "x", " " * 64 + "x", "1 " * 64 + "%x", "a" * 64 + "!", "(" * 40 + "1", "a," * 40 + "!", "1." * 40 + "x")

# What `str.isspace` (and so `str.split` and spaCy's tokenizer) counts as space besides
# regex's `\s` (Unicode White_Space): the file, group, record and unit separators.
NOT_REGEX_SPACE = "\x1c\x1d\x1e\x1f"
_SPACE, _NON_SPACE = rf"[\s{NOT_REGEX_SPACE}]", rf"[^\s{NOT_REGEX_SPACE}]"


# --------------------------------------------------------------------- the compiled parts


class Compiled(RegexRule):
    """A regex rule with its compiled pattern, trigger and gate."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    regex: Any  # TimedPattern
    trigger: Any = None  # pipeline.prefilter.Trigger
    gate: Any = None  # pipeline.prefilter.Trigger: literals the pattern itself requires


Plan = list[tuple[Compiled, tuple[str, ...], frozenset[str]]]


@dataclass(frozen=True)
class SentenceAbbreviations:
    """Words ending in a dot that end no sentence (rules/patterns/tokenizer.yaml), for `split_sentences`."""

    words: tuple[str, ...]  # lower case
    last_letters: frozenset[str]  # the letter before each one's dot: most dots end a word that is none

    @classmethod
    def of(cls, words: tuple[str, ...]) -> SentenceAbbreviations:
        lowered = tuple(w.lower() for w in words)
        return cls(lowered, frozenset(w[-2] for w in lowered))

    def ends_at(self, text: str, dot: int) -> bool:
        """Whether the dot at text[dot] ends one of the words."""
        if dot == 0 or text[dot - 1].lower() not in self.last_letters:
            return False
        return any(text[max(0, dot + 1 - len(a)):dot + 1].lower() == a for a in self.words)


@dataclass(frozen=True)
class ExtractTables:
    """What `pipeline.extract.Extractor` reads (see its docstrings for each part's job)."""

    route_patterns: dict[str, TokenPattern]
    route_prescan: TimedPattern
    route_literals: Trigger
    route_window_ahead: TimedPattern | None
    route_window_back: TimedPattern
    gates: TriggerSet
    exclusion_plan: Plan
    drug_guarded: frozenset[str]
    recognizer_plan: Plan
    reads_through: dict[str, frozenset[str]]  # recognizer id -> exclusions it reads as part of its match
    sentence_abbreviations: SentenceAbbreviations
    anchor_re: TimedPattern  # every anchor as one alternation: the reference the split scans must agree with
    digit_anchor_re: TimedPattern
    spelled_anchor_re: TimedPattern
    spelled_starts: Any  # ahocorasick.Automaton


@dataclass(frozen=True)
class LinkTables:
    """What `pipeline.link.Linker` reads: each regex with the literals its matches hold."""

    comparator_re: TimedPattern
    comparator_needles: Trigger
    cue_res: list[tuple[TimedPattern, OutcomeCue, Trigger]]
    tight_left: list[tuple[TimedPattern, OutcomeCue, Trigger]]
    tight_left_suffix: str  # outcomes.yaml tight_left: what follows a cue right before its share
    outcome_abbreviation: TimedPattern  # group `abbr`: "complete response (CR;" defines CR
    outcome_abbreviation_needles: Trigger
    tight_left_needles: Trigger
    threshold_response: TimedPattern
    threshold_response_needles: Trigger
    threshold_phrase: TimedPattern
    threshold_phrase_needles: Trigger
    continuation: TimedPattern
    population_after_count: TimedPattern
    continuation_needles: Trigger
    persistence: list[tuple[TimedPattern, Trigger]]
    clause_opener: TimedPattern
    clause_opener_needles: Trigger


@dataclass(frozen=True)
class ArmTables:
    """What `pipeline.arms.ArmLinker` reads (`rules/vocab/arms.yaml`)."""

    vocabulary: list[tuple[str, TimedPattern]]
    treatments: frozenset[str]
    comparator_arms: frozenset[str]
    noun: TimedPattern
    kept_nouns: frozenset[str]
    coded: TimedPattern
    coded_more: TimedPattern
    coded_kind: TimedPattern
    product: TimedPattern
    abbreviation: TimedPattern
    abbreviation_heads: frozenset[str]
    abbreviation_modifier: TimedPattern
    adjacent: TimedPattern
    dose_unit: TimedPattern
    route_before: TimedPattern  # groups.qualifier_route, then space, at the end of the searched text
    elided_route_before: TimedPattern  # groups.qualifier_route, then groups.qualifier_elided, at its end
    route_after_amounts: TimedPattern  # space, groups.qualifier_route: "0.75 mg oral doses"
    route_word: TimedPattern  # groups.qualifier_route alone (case-insensitive where it says so)
    amounts_after: TimedPattern  # space, coordinated amounts (group `amounts`), a unit word (group `unit`)
    amounts_before: TimedPattern  # coordinated amounts, a unit word, space, at the end of the searched text
    amount: TimedPattern
    more_amount: TimedPattern  # groups.qualifier_more_amount, then an amount (group `amount`) and a unit word (`unit`)
    sentence_end: TimedPattern
    covariate_item: TimedPattern
    covariate_cue: TimedPattern
    treated: TimedPattern
    stop: frozenset[str]
    respectively: TimedPattern
    share_of_joiner: TimedPattern
    list_joiner: TimedPattern
    max_words: int
    ratio_tolerance: float
    versus: TimedPattern
    generic: frozenset[str]
    modifier_only: TimedPattern
    named: TimedPattern
    code_name: TimedPattern
    name_suffix: TimedPattern
    name_prefix: TimedPattern
    measured_after: TimedPattern
    background_before: TimedPattern
    smaller_first: TimedPattern
    comparator_before: TimedPattern  # groups.comparator_before, at the end of the searched text
    stated_for_each: TimedPattern
    single_arm: TimedPattern
    group_size: TimedPattern
    assigned: TimedPattern
    bare_amount: TimedPattern  # groups.bare_amount_before, then an amount (group `amount`) and a unit word (`unit`)
    assigned_end: TimedPattern
    larger_first: TimedPattern
    group_joiner: TimedPattern
    clause_break: TimedPattern
    conjunctions: frozenset[str]
    name_joiners: frozenset[str]
    negators: frozenset[str]
    code_before_noun: TimedPattern  # groups.code_before_noun, at the end of the searched text
    quoted_name: TimedPattern  # groups.quoted_name, at the end of the searched text
    exposure: TimedPattern  # groups.exposure, at the end of the searched text


@dataclass(frozen=True)
class DrugIndex:
    """What `pipeline.drugs.DrugLinker` reads: the drug names as one automaton, the link order and joiner."""

    automaton: Any  # ahocorasick.Automaton: folded spelling -> (length, canonical name)
    empty: bool
    order: dict[str, list[str]]
    joiner: TimedPattern
    compound: TimedPattern
    list_joiner: TimedPattern
    list_gap: TimedPattern
    amount_word: AmountWordRule | None
    after_stop: TimedPattern  # what a search for the name after a value does not cross


@dataclass(frozen=True)
class TermIndex:
    """The condition terms with a literal prefilter: which terms may match in a block.

    Most terms occur in few blocks, and one regex scan per term and block dominated
    segmentation. Every match of a term holds one of the literals `pipeline.prefilter`
    derives from it (`\\bPTSD\\b` → `PTSD`, `(?i)\\bpain\\b` → folded `pain`), so one
    `TriggerSet` pass per block names the terms worth scanning; the regex still finds
    and counts the matches, so the scores are unchanged.

    A large vocabulary (`pipeline.phrases.MIN_PHRASES` phrase terms or more) has its
    phrase terms in `phrases` instead: looked up by word, confirmed by their regexes
    where they may start, never compiled, probed or gated at load. Their `terms` entry
    holds no pattern (None).
    """

    terms: list[tuple[str, TimedPattern | None, float]]  # (condition, compiled term or None for a phrase, weight)
    scanned: list[int]  # the terms matched by regex, in rules order
    keys: list[str | None]  # per scanned term: its gate key; None: no literals, always scanned
    gates: TriggerSet
    phrases: PhraseIndex

    def candidates(self, block_text: str) -> list[int]:
        """Indexes (in rules order) of the regex terms that may match in `block_text`."""
        held = self.gates.holding(block_text, [(0, len(block_text))])
        return [i for i, key in zip(self.scanned, self.keys, strict=True) if key is None or key in held]

    def matches(self, text: str, pos: int, endpos: int) -> Iterator[tuple[int, regex.Match]]:
        """(term index, match) for every term's matches in text[pos:endpos]: terms in rules
        order, each term's matches in text order, as its regex's `finditer` gives them."""
        starts = self.phrases.starts(text, pos, endpos) if len(self.phrases) else {}
        for i in sorted({*self.candidates(text[pos:endpos]), *starts}):
            pattern = self.terms[i][1]
            found = pattern.finditer(text, pos, endpos) if pattern is not None \
                else self.phrases.finditer(i, text, starts[i], endpos)
            for m in found:
                yield i, m


@dataclass(frozen=True)
class DoseUnitReader:
    """Reads a written dose unit into its canonical name (`rules/vocab/units.yaml` `dose_units`)."""

    reader: TimedPattern
    names: tuple[tuple[str, str], ...]  # group g{i} -> (part, canonical)
    parts: tuple[str, ...]  # part names in unit order

    def canonical(self, written: str) -> str | None:
        """The canonical unit of a spelling ('mcg/kg/min' → 'µg/kg/min', 'mg daily' → 'mg/day'), or None."""
        m = self.reader.fullmatch(written.strip())
        if m is None:
            return None
        found = dict(self.names[int(g[1:])] for g, v in m.groupdict().items() if v is not None)
        return "/".join(found[name] for name in self.parts if name in found)


class TokenEngine:
    """The tokenizer and the token patterns' matcher, built on first use: spaCy's blank
    English tokenizer with the special cases and its `Matcher`, or, when given the
    tokenizer's tables (`pipeline.lighttokens`, from a rule cache entry) and every
    token pattern lies in the subset `LightMatcher` implements, the same tokenizer and
    matcher without spaCy. Importing spaCy and building them takes a second or more,
    the tables a few milliseconds, and a text without a route word or a hit off token
    boundaries needs neither.

    `make_doc` and `matches` are what the extractor calls; `nlp` and `matcher` are
    spaCy's (the reference, and what the validating load checks the patterns with).
    One per `CompiledRules`; what it builds is kept by it (not by the process), so two
    rule sets never share a tokenizer."""

    def __init__(self, rules: Rules, tables: TokenizerTables | None = None):
        self._rules = rules
        self._nlp: Any = None
        self._matcher: Any = None
        specs = [(p.id, p.pattern) for p in rules.token_patterns]
        self._tables = tables if tables is not None and lighttokens.supported(specs) else None
        self._light: tuple[lighttokens.LightTokenizer, lighttokens.LightMatcher] | None = None

    @property
    def nlp(self) -> Any:
        """spacy.Language: a blank English tokenizer with the special cases ("i.v." stays one token)."""
        if self._nlp is None:
            self._nlp = tokenizer_nlp(self._rules.tokenizer_special_cases)
        return self._nlp

    @property
    def matcher(self) -> Any:
        """spacy.matcher.Matcher over `nlp.vocab`, one entry per token pattern (checked as `_matcher` checks)."""
        if self._matcher is None:
            self._matcher = _matcher(self._rules, self.nlp)
        return self._matcher

    @property
    def light(self) -> bool:
        """True when `make_doc` and `matches` run without spaCy (`pipeline.lighttokens`)."""
        return self._tables is not None

    def _light_parts(self) -> tuple[lighttokens.LightTokenizer, lighttokens.LightMatcher]:
        if self._light is None:
            assert self._tables is not None
            self._light = (lighttokens.LightTokenizer(self._tables),
                           lighttokens.LightMatcher([(p.id, p.pattern) for p in self._rules.token_patterns]))
        return self._light

    def make_doc(self, text: str) -> Any:
        """`text` tokenized: a spaCy `Doc`, or a `LightDoc` with the same tokens and offsets."""
        if self._tables is not None:
            return self._light_parts()[0](text)
        return self.nlp.make_doc(text)

    def matches(self, doc: Any) -> list[tuple[str, int, int]]:
        """(token pattern id, start token, end token) of every match in a `make_doc` doc, in the Matcher's order."""
        if self._tables is not None:
            return self._light_parts()[1](doc)
        strings = self.nlp.vocab.strings
        return [(strings[match_id], start, end) for match_id, start, end in self.matcher(doc)]

    @property
    def built(self) -> bool:
        """True once a tokenizer exists (a text needed tokens): spaCy's, or the light one."""
        return self._nlp is not None or self._light is not None

    @property
    def spacy_built(self) -> bool:
        """True once spaCy's tokenizer exists."""
        return self._nlp is not None


class CompiledRules(Rules):
    """The validated rules with everything compiled from them; frozen, and built only by `compile_rules`."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, defer_build=True)
    recognizers: tuple[Compiled, ...]
    exclusions: tuple[Compiled, ...]
    damage: tuple[Compiled, ...]
    by_id: dict[str, Compiled]
    tokens: Any  # TokenEngine: the tokenizer and Matcher, built on first use
    extract_tables: ExtractTables
    link_tables: LinkTables
    arm_tables: ArmTables
    drug_index: DrugIndex
    drug_name_index: DrugIndex  # the same automaton, for finding names alone (no link steps, no compounds)
    term_index: TermIndex
    bound_cues: tuple[tuple[TimedPattern, str], ...]
    time_unit_res: tuple[tuple[TimedPattern, float], ...]
    dose_reader: DoseUnitReader
    # The RulesCache (pipeline/rulecache.py) these rules were loaded through, or None: worker
    # processes load the rules from `rules_dir` the same way (pipeline/engines.py).
    rules_cache: Any = None

    @property
    def nlp(self) -> Any:
        """The spaCy tokenizer (`TokenEngine.nlp`; built on first use)."""
        return self.tokens.nlp

    @property
    def matcher(self) -> Any:
        """The token patterns' `Matcher` (`TokenEngine.matcher`; built on first use)."""
        return self.tokens.matcher


@dataclass(frozen=True)
class _Mode:
    """How one `compile_rules` call compiles: `validate` compiles and probes every regex now
    (else each is deferred to its first call); `derived` answers literals and named groups."""

    derived: Derivations | None
    validate: bool

    @property
    def derive(self) -> Derive:
        return self.derived.literals if self.derived is not None else required_literals

    def compile(self, pattern: str, flags: int) -> regex.Pattern:
        """`regex.compile` now (raises `regex.error`), recorded for a cache entry."""
        compiled = regex.compile(pattern, flags)
        if self.derived is not None:
            self.derived.record(pattern, flags, compiled)
        return compiled

    def pattern(self, pattern: str, flags: int, rule: str) -> TimedPattern:
        """The `TimedPattern` of (pattern, flags): compiled now when validating, else the
        recorded one, else deferred to its first call."""
        if self.validate:
            return self.track(TimedPattern(self.compile(pattern, flags), rule))
        compiled = self.derived.compiled(pattern, flags) if self.derived is not None else None
        return self.track(TimedPattern(compiled, rule) if compiled is not None else TimedPattern.deferred(pattern, flags, rule))

    def track(self, timed: TimedPattern) -> TimedPattern:
        """Note a pattern for its `match` variant (`TimedPattern.anchored`): a record gives
        it a recorded one, or keeps the pattern to record one (`Derivations.timed`)."""
        if self.derived is not None:
            self.derived.track(timed)
        return timed

    def group_names(self, pattern: TimedPattern) -> tuple[str, ...]:
        """The named groups of a rule regex, as recorded (or read, which compiles it)."""
        if self.derived is None:
            return tuple(sorted(pattern.groupindex))
        return self.derived.group_names(pattern.rule, pattern)


# The default of the helpers below: compile and probe now, derive literals afresh.
_VALIDATE = _Mode(None, True)


# --------------------------------------------------------------------- compiling


def rule_name(path: Path | str, rule: str) -> str:
    """`file:id` of a rule for messages: the file as `<folder>/<name>` under the rules directory."""
    return "/".join(Path(path).parts[-2:]) + f":{rule}"


def _probe(compiled: regex.Pattern, path: Path | str, line: int | None, rule: str | None) -> None:
    """Refuse a pattern that backtracks catastrophically on a probe string.

    The limit is wall-clock time, so a busy machine can stall a sound pattern past it; a
    timeout is retried once, and only a pattern that runs out of time twice is refused
    (a catastrophic one takes far longer than the limit every time)."""
    for probe in _PROBES:
        for attempt in range(2):
            try:
                compiled.search(probe, timeout=PROBE_TIMEOUT_S)
                break
            except TimeoutError as err:
                if attempt:
                    raise RuleError(path, line, rule, f"catastrophic backtracking: no answer within "
                                    f"{PROBE_TIMEOUT_S}s on a {len(probe)}-char probe, twice") from err


def _rx(pattern: str, flags: int, path: Path | str, line: int | None, rule: str, mode: _Mode = _VALIDATE) -> TimedPattern:
    """Compile and probe one vocabulary regex; an invalid or catastrophic one is a `RuleError` naming it.

    Without `mode.validate` it is neither compiled nor probed here (`_Mode.pattern`)."""
    if not mode.validate:
        return mode.pattern(pattern, flags, rule_name(path, rule))
    try:
        compiled = mode.compile(pattern, flags)
    except regex.error as err:
        raise RuleError(path, line, rule, f"invalid regex {pattern!r}: {err}") from err
    _probe(compiled, path, line, rule)
    return mode.track(TimedPattern(compiled, rule_name(path, rule)))


def _code_rx(pattern: str, flags: int, name: str, mode: _Mode = _VALIDATE) -> TimedPattern:
    """A pattern the compile step builds from the rules (pre-scans, anchors, windows), timed like the rules'."""
    return mode.pattern(pattern, flags, name)


def _compile(rule: RegexRule, check_groups: bool, mode: _Mode = _VALIDATE) -> Compiled:
    entry = rule.entry
    flags = 0
    for name in entry.flags:
        flags |= getattr(regex, name)
    name = rule_name(rule.path, entry.id)
    ignorecase = bool(flags & regex.IGNORECASE)
    if not mode.validate:
        trigger = None if rule.trigger_pattern is None else Trigger(
            rule.trigger_pattern, rule=f"{name} (trigger)", derive=mode.derive, make=mode.pattern)
        return Compiled(entry=entry, pattern=rule.pattern, trigger_pattern=rule.trigger_pattern, path=rule.path,
                        line=rule.line, regex=mode.pattern(rule.pattern, flags, name), trigger=trigger,
                        gate=Trigger.gate(rule.pattern, ignorecase=ignorecase, derive=mode.derive))
    try:
        compiled = mode.compile(rule.pattern, flags)
    except regex.error as err:
        raise RuleError(rule.path, rule.line, entry.id, f"invalid regex: {err}") from err
    if check_groups:
        unknown = set(compiled.groupindex) - GROUPS
        if unknown:
            raise RuleError(rule.path, rule.line, entry.id, f"unknown named group(s) {sorted(unknown)}; allowed: {sorted(GROUPS)}")
    _probe(compiled, rule.path, rule.line, entry.id)
    trigger = None
    if rule.trigger_pattern is not None:
        try:
            trigger = Trigger(rule.trigger_pattern, rule=f"{name} (trigger)", derive=mode.derive, make=mode.pattern)
        except regex.error as err:
            raise RuleError(rule.path, rule.line, entry.id, f"invalid trigger regex: {err}") from err
    gate = Trigger.gate(rule.pattern, ignorecase=ignorecase, derive=mode.derive)
    return Compiled(entry=entry, pattern=rule.pattern, trigger_pattern=rule.trigger_pattern, path=rule.path, line=rule.line,
                    regex=mode.track(TimedPattern(compiled, name)), trigger=trigger, gate=gate)


def tokenizer_nlp(special_cases: tuple[str, ...] | list[str]) -> Any:
    """A blank English spaCy pipeline whose tokenizer keeps each special case as one token."""
    import spacy

    nlp = spacy.blank("en")
    tokenizer: Any = nlp.tokenizer  # spaCy's compiled Tokenizer: typed only as a callable
    for case in special_cases:
        tokenizer.add_special_case(case, [{"ORTH": case}])
    nlp.max_length = 10**9  # tokenizer only (no parser): long sentences are cheap
    return nlp


def _token_values(token: dict[str, Any]) -> list[tuple[str, str]]:
    """(attribute, literal) for every literal a token spec compares a whole token's text to."""
    out = []
    for attr in ("TEXT", "ORTH", "LOWER", "NORM"):
        spec = token.get(attr)
        if isinstance(spec, str):
            out.append((attr, spec))
        elif isinstance(spec, dict):
            out += [(attr, v) for v in spec.get("IN", []) if isinstance(v, str)]
    return out


def _producible(nlp: Any, path: str, lineno: int, pattern: TokenPattern) -> None:
    """Refuse a literal the tokenizer never yields as one token ("i.v." unless a special case, "intra venous")."""
    for token in pattern.pattern:
        for attr, literal in _token_values(token):
            pieces = [t.text for t in nlp.tokenizer(literal)]
            if len(pieces) != 1 or pieces[0] != literal:
                raise RuleError(path, lineno, pattern.id,
                                f"token pattern {attr} {literal!r} can never match: the tokenizer makes it {pieces}; "
                                "write one token per part, or add it to patterns/tokenizer.yaml special_cases")


def _matcher(rules: Rules, nlp: Any) -> Any:
    """The token patterns as one spaCy `Matcher`; a pattern it refuses is a `RuleError`."""
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab, validate=True)
    for p in rules.token_patterns:
        path, lineno = rules.token_pattern_lines[p.id]
        _producible(nlp, path, lineno, p)
        for token in p.pattern:
            for spec in token.values():
                if isinstance(spec, dict) and "REGEX" in spec:
                    try:
                        regex.compile(spec["REGEX"])
                    except regex.error as err:
                        raise RuleError(path, lineno, p.id, f"invalid token REGEX: {err}") from err
        try:
            matcher.add(p.id, [p.pattern])
        except (ValueError, re.error) as err:  # spaCy's MatchPatternError is a ValueError; its REGEX is `re`'s
            problem = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
            raise RuleError(path, lineno, p.id, f"the token Matcher refuses this pattern: {problem}") from err
    return matcher


def route_prescan_pattern(patterns: tuple[TokenPattern, ...]) -> str:
    """Alternation of every route pattern's first-token surface (for the pre-scan).

    Case follows the token attribute: `TEXT`/`ORTH` surfaces are matched as written
    (the route "IN" must not open a window at every "in"), `LOWER` ones in any case.
    """
    parts = []
    for p in patterns:
        first = p.pattern[0]
        attr = next((a for a in ("TEXT", "ORTH", "LOWER") if a in first), None)
        spec = first.get(attr) if attr else None
        flag = "(?i:{})" if attr == "LOWER" else "(?-i:{})"
        if isinstance(spec, str):
            parts.append(flag.format(regex.escape(spec)))
        elif isinstance(spec, dict) and "IN" in spec:
            parts += [flag.format(regex.escape(s)) for s in spec["IN"]]
        elif isinstance(spec, dict) and "REGEX" in spec:
            parts.append(flag.format(spec["REGEX"].strip("^$")))
        else:  # a shape we cannot pre-scan: look at every sentence
            return r"[\s\S]"
    return r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"


_OP_BOUNDED = regex.compile(r"\{(?:\d+|\d*,(\d+))\}")


def token_reach(patterns: tuple[TokenPattern, ...] | list[TokenPattern]) -> int | None:
    """The most tokens a match of any of the patterns spans, or None when an operator
    ("*", "+", "{n,}") leaves it unbounded."""
    longest = 0
    for p in patterns:
        span = 0
        for token in p.pattern:
            op = token.get("OP", "1")
            if op in ("1", "!", "?"):
                span += 1
            elif (bounded := _OP_BOUNDED.fullmatch(op)) is not None:
                span += int(bounded.group(1) or op.strip("{}"))
            else:
                return None
        longest = max(longest, span)
    return longest


def route_window_back(runs: int, mode: _Mode = _VALIDATE) -> TimedPattern:
    """A route window reaches back over `runs` runs of non-space characters before the
    hit's own run: the tokens before a match are its `not_after` guards (a guard of n
    tokens needs at most n runs, each run holding at least one token)."""
    return _code_rx(rf"(?r)(?:{_NON_SPACE}+{_SPACE}+){{0,{runs}}}{_NON_SPACE}*", 0, "patterns:route window", mode)


def _gate_keys(rule: Compiled) -> tuple[str, ...]:
    return tuple(g.key for g in (rule.trigger, rule.gate) if g is not None)


def _extract_tables(rules: Rules, recognizers: tuple[Compiled, ...], exclusions: tuple[Compiled, ...], mode: _Mode) -> ExtractTables:
    time_units = "|".join(u.pattern for u in rules.time_units.values())
    counted_units = "|".join(regex.escape(w) for w in (*rules.article_words, *rules.ordinal_words))
    route_prescan = _code_rx(route_prescan_pattern(rules.token_patterns), 0, "patterns:route pre-scan", mode)
    # A match spans at most `reach` tokens from its first; the Matcher also reads a
    # "-" and the `not_before` guard after it. Every run of non-space characters
    # holds at least one token, so the hit's own run and reach + 1 more runs hold
    # them all (None: an operator makes matches unbounded; windows are sentences).
    reach = token_reach(rules.token_patterns)
    # A guard of several tokens ("evidence :") reads as many tokens before or after.
    guard_before = max((len(g.split()) for p in rules.token_patterns for g in p.not_after), default=1)
    guard_after = max((len(g.split()) for p in rules.token_patterns for g in p.not_before), default=1)
    # Every recognizer and exclusion reads a number: a digit, a number word, a
    # counted unit ("a week", "first month") or a fold word ("threefold"); sentences
    # without one are skipped (tests/test_rules.py checks every rule example for one).
    # Its plain numbers (`digits`, or a `word` without `fold`) are what uncovered.csv
    # reports when no rule reads them (not "SpO2" or "threefold").
    words = word_alternation({*rules.number_words, *rules.fraction_words})
    digits = r"(?P<digits>(?<![\w.·])\d+(?:[.·]\d+)?)|\d"
    spelled = (rf"(?<![\w-])(?P<word>{words})(?:(?P<fold>fold)\b|(?!\w))"
               rf"|\b(?:{counted_units})\s+(?:{time_units})\b")
    return ExtractTables(
        route_patterns={p.id: p for p in rules.token_patterns},
        route_prescan=route_prescan,
        # The literals every pre-scan hit holds ("IV", "oral", ...): half the cells hold
        # none, and for those the pre-scan (an alternation tried at every character)
        # is skipped.
        route_literals=Trigger(route_prescan.pattern, literals_only=True, derive=mode.derive),
        route_window_ahead=None if reach is None else _code_rx(
            rf"{_NON_SPACE}*(?:{_SPACE}+{_NON_SPACE}+){{0,{reach + guard_after}}}", 0, "patterns:route window", mode),
        route_window_back=route_window_back(max(guard_before, 1), mode),
        gates=TriggerSet(g for r in (*exclusions, *recognizers) for g in (r.trigger, r.gate) if g is not None),
        # Each rule with the keys of its trigger and gate: it reads the sentences where all hold.
        exclusion_plan=[(r, _gate_keys(r), frozenset(_gate_keys(r))) for r in exclusions],
        # Exclusions whose pattern holds a `drug` group ({{DRUG}}, fragments.yaml) count
        # only where every word it captured lies inside a drug name of the vocabulary.
        drug_guarded=frozenset(r.id for r in exclusions if "drug" in mode.group_names(r.regex)),
        recognizer_plan=[(r, _gate_keys(r), frozenset(_gate_keys(r))) for r in recognizers],
        reads_through={r.id: frozenset(r.entry.reads_through) for r in recognizers if r.entry.reads_through},
        sentence_abbreviations=SentenceAbbreviations.of(rules.sentence_abbreviations),
        anchor_re=_code_rx(f"{digits}|{spelled}", regex.IGNORECASE, "vocab/numbers.yaml:anchors", mode),
        # The same two families scanned apart: digit hits and spelled hits start on
        # different characters and never overlap, so merging the two scans gives the
        # matches of `anchor_re`, and the digit scan needs no case-insensitive matching
        # (together about 30% faster than the one alternation).
        digit_anchor_re=_code_rx(digits, 0, "vocab/numbers.yaml:anchors", mode),
        spelled_anchor_re=_code_rx(spelled, regex.IGNORECASE, "vocab/numbers.yaml:anchors", mode),
        # A spelled anchor starts with a number or counted word's first segment (inner
        # spaces are flexible), so the spelled regex is tried only where one occurs.
        spelled_starts=literal_automaton(
            {w.casefold().split(" ")[0]: None for w in (*rules.number_words, *rules.fraction_words, *rules.article_words, *rules.ordinal_words)}
        ),
    )


def _needles_of(pattern: str, derive: Derive) -> Trigger:
    """The literals one of which every match of a (case-insensitive) pattern holds.

    Linking runs dozens of cue and arm regexes over every cell and sentence, and most
    of them cannot match there: a `str.find` for their literals is far cheaper than a
    regex search, and a stretch of text that holds none of them needs no search at all.
    """
    return Trigger(pattern, ignorecase=True, literals_only=True, derive=derive)


def _link_tables(rules: Rules, mode: _Mode) -> LinkTables:
    vocab = rules.rules_dir / "vocab"
    arms, outcomes, bounds = vocab / "arms.yaml", vocab / "outcomes.yaml", vocab / "bounds.yaml"

    def rx(pattern: str, path: Path, key: str) -> TimedPattern:
        return _rx(pattern, regex.IGNORECASE, path, None, key, mode)

    def _needles(pattern: str) -> Trigger:
        return _needles_of(pattern, mode.derive)

    comparator_re = rx("|".join(rules.comparators), arms, "comparators")
    tight_left = [(f"(?:{c.pattern}){rules.outcome_tight_left}", c) for c in rules.outcome_cues]
    return LinkTables(
        comparator_re=comparator_re,
        comparator_needles=_needles(comparator_re.pattern),
        cue_res=[(rx(c.pattern, outcomes, f"cues[{i}]"), c, _needles(c.pattern)) for i, c in enumerate(rules.outcome_cues)],
        tight_left=[(rx(p, outcomes, f"cues[{i}]"), c, _needles(p)) for i, (p, c) in enumerate(tight_left)],
        # Every tight-left match ends in a match of outcomes.yaml's tight_left, so holds one of its literals too.
        tight_left_needles=_needles(rules.outcome_tight_left),
        tight_left_suffix=rules.outcome_tight_left,
        # Case-sensitive: an abbreviation is written in capitals.
        outcome_abbreviation=_rx(rules.outcome_abbreviation, 0, outcomes, None, "abbreviation", mode),
        outcome_abbreviation_needles=_needles(rules.outcome_abbreviation),
        threshold_response=rx(rules.threshold_response, outcomes, "threshold_response"),
        threshold_response_needles=_needles(rules.threshold_response),
        threshold_phrase=rx(rules.threshold_phrase, outcomes, "threshold_phrase"),
        threshold_phrase_needles=_needles(rules.threshold_phrase),
        population_after_count=rx(rules.population_after_count, outcomes, "population_after_count"),
        continuation=rx(rules.continuation, outcomes, "continuation"),
        continuation_needles=_needles(rules.continuation),
        persistence=[(rx(p, bounds, f"not_timepoint_before[{i}]"), _needles(p)) for i, p in enumerate(rules.not_timepoint_before)],
        clause_opener=rx(rules.clause_openers, bounds, "clause_openers"),
        clause_opener_needles=_needles(rules.clause_openers),
    )


def _arm_tables(rules: Rules, mode: _Mode) -> ArmTables:
    path = rules.rules_dir / "vocab" / "arms.yaml"
    vocab = rules.arm_groups

    def rx(pattern: str, key: str, flags: int = regex.IGNORECASE) -> TimedPattern:
        return _rx(pattern, flags, path, None, key, mode)

    def alternation(name: str, patterns: list[str]) -> TimedPattern:
        try:
            return rx("|".join(patterns), f"arms.{name}")
        except RuleError:
            for i, p in enumerate(patterns):  # name the pattern at fault
                rx(p, f"arms.{name}.patterns[{i}]")
            raise

    amounts = f"(?:{vocab.qualifier_amount})(?:(?:{vocab.qualifier_amount_joiner})(?:{vocab.qualifier_amount}))*"
    return ArmTables(
        vocabulary=[(name, alternation(name, v.patterns)) for name, v in rules.arms.items()],
        treatments=frozenset(name for name, v in rules.arms.items() if v.treatment),
        comparator_arms=frozenset(n.lower() for n in vocab.comparator_arms),
        noun=rx(vocab.noun, "groups.noun"),
        kept_nouns=frozenset(n.lower() for n in vocab.kept_nouns),
        coded=rx(vocab.coded, "groups.coded", 0),
        coded_more=rx(vocab.coded_more, "groups.coded_more", 0),
        coded_kind=rx(vocab.coded_kind, "groups.coded_kind", 0),
        product=rx(vocab.product, "groups.product", 0),
        abbreviation=rx(vocab.abbreviation, "groups.abbreviation", 0),
        abbreviation_heads=frozenset(w.lower() for w in vocab.abbreviation_heads),
        abbreviation_modifier=rx(vocab.abbreviation_modifier, "groups.abbreviation_modifier"),
        adjacent=rx(vocab.adjacent, "groups.adjacent"),
        route_before=rx(f"(?<![\\w.-])(?P<route>{vocab.qualifier_route})\\s+$", "groups.qualifier_route", 0),
        route_word=rx(f"(?:{vocab.qualifier_route})", "groups.qualifier_route", 0),
        route_after_amounts=rx(f"\\s+(?P<route>{vocab.qualifier_route})(?![\\w-])", "groups.qualifier_route", 0),
        elided_route_before=rx(f"(?<![\\w.-])(?P<route>{vocab.qualifier_route})(?:{vocab.qualifier_elided})$", "groups.qualifier_elided", 0),
        amounts_after=rx(f"\\s+(?P<amounts>{amounts})\\s?(?P<unit>[^\\W\\d](?:[^\\s,;()]*[^\\s,;().])?)", "groups.qualifier_amount", 0),
        amounts_before=rx(f"(?P<amounts>{amounts})\\s?(?P<unit>[^\\W\\d](?:[^\\s,;()]*[^\\s,;().])?)\\s+$", "groups.qualifier_amount", 0),
        amount=rx(vocab.qualifier_amount, "groups.qualifier_amount", 0),
        more_amount=rx(f"(?:{vocab.qualifier_more_amount})(?P<amount>{vocab.qualifier_amount})\\s?(?P<unit>[^\\W\\d](?:[^\\s,;()]*[^\\s,;().])?)",
                       "groups.qualifier_more_amount", 0),
        sentence_end=rx(vocab.sentence_end, "groups.sentence_end", 0),
        covariate_item=rx(vocab.covariate_item, "groups.covariate_item"),
        covariate_cue=rx(vocab.covariate_cue, "groups.covariate_cue"),
        dose_unit=_rx(rules.dose_units.reader, regex.IGNORECASE, rules.rules_dir / "vocab" / "units.yaml", None, "dose_units"),
        treated=rx(vocab.treated, "groups.treated"),
        modifier_only=rx(vocab.modifier_only, "groups.modifier_only"),
        stop=frozenset(w.lower() for w in vocab.stop_words),
        respectively=rx(vocab.respectively, "groups.respectively"),
        list_joiner=rx(vocab.list_joiner, "groups.list_joiner"),
        share_of_joiner=rx(vocab.share_of_joiner, "groups.share_of_joiner"),
        max_words=vocab.max_name_words,
        ratio_tolerance=vocab.ratio_tolerance,
        versus=rx(vocab.versus, "groups.versus"),
        generic=frozenset(w.lower() for w in vocab.generic_names),
        named=rx(vocab.named, "groups.named", 0),
        code_name=rx(vocab.code_name, "groups.code_name", 0),
        name_suffix=rx(vocab.name_suffix, "groups.name_suffix"),
        name_prefix=rx(f"(?:{vocab.name_prefix})$", "groups.name_prefix"),
        measured_after=rx(vocab.measured_after, "groups.measured_after"),
        background_before=rx(f"(?:{vocab.background_before})$", "groups.background_before"),
        smaller_first=rx(f"(?:{vocab.smaller_first})$", "groups.smaller_first"),
        comparator_before=rx(f"(?:{vocab.comparator_before})$", "groups.comparator_before"),
        stated_for_each=rx(vocab.stated_for_each, "groups.stated_for_each"),
        single_arm=rx(vocab.single_arm, "groups.single_arm"),
        group_size=rx(vocab.group_size, "groups.group_size"),
        assigned=rx(vocab.assigned, "groups.assigned"),
        bare_amount=rx(f"(?:{vocab.bare_amount_before})(?P<amount>{vocab.qualifier_amount})\\s?(?P<unit>[^\\W\\d](?:[^\\s,;()]*[^\\s,;().])?)",
                       "groups.bare_amount_before", 0),
        assigned_end=rx(vocab.assigned_end, "groups.assigned_end"),
        larger_first=rx(f"(?:{vocab.larger_first})$", "groups.larger_first"),
        group_joiner=rx(vocab.group_joiner, "groups.group_joiner"),
        clause_break=rx(vocab.clause_break, "groups.clause_break"),
        conjunctions=frozenset(w.lower() for w in vocab.conjunctions),
        name_joiners=frozenset(vocab.name_joiners),
        negators=frozenset(w.lower() for w in vocab.negators),
        code_before_noun=rx(f"(?:{vocab.code_before_noun})$", "groups.code_before_noun", 0),
        quoted_name=rx(f"(?:{vocab.quoted_name})$", "groups.quoted_name", 0),
        exposure=rx(f"(?:{vocab.exposure})$", "groups.exposure"),
    )


_NEVER = _code_rx("(?!)", 0, "never")


def drug_index(names: dict[str, str], order: dict[str, list[str]], joiner: TimedPattern, *,
               compound: TimedPattern = _NEVER, list_joiner: TimedPattern = _NEVER, list_gap: TimedPattern = _NEVER,
               amount_word: AmountWordRule | None = None, after_stop: TimedPattern = _NEVER,
               derived: Derivations | None = None) -> DrugIndex:
    """The drug names (spelling, any case -> canonical name) as one automaton, with the
    per-type search `order`, the `joiner` allowed between a dose and its drug and the
    other link regexes of `rules/vocab/drugs.yaml` (see `pipeline.drugs.DrugLinker`).
    `derived` supplies or records the automaton (`pipeline/rulecache.py`)."""

    def build() -> Any:
        automaton = ahocorasick.Automaton()
        for spelling, canonical in names.items():
            key = fold(spelling)
            automaton.add_word(key, (len(key), canonical))
        if names:
            automaton.make_automaton()
        return automaton

    automaton = derived.automaton(build) if derived is not None else build()
    return DrugIndex(automaton=automaton, empty=not names, order=order, joiner=joiner, compound=compound,
                     list_joiner=list_joiner, list_gap=list_gap, amount_word=amount_word, after_stop=after_stop)


def _drug_index(rules: Rules, mode: _Mode) -> DrugIndex:
    vocab = rules.drugs
    path = rules.rules_dir / "vocab" / "drugs.yaml"

    def rx(pattern: str, key: str, flags: int = regex.IGNORECASE) -> TimedPattern:
        return _rx(pattern, flags, path, None, key, mode)

    amount_word = None if vocab.amount_word is None else AmountWordRule(
        rx(vocab.amount_word.pattern, "amount_word.pattern", 0), frozenset(w.lower() for w in vocab.amount_word.stop_words))
    return drug_index(rules.drug_names, {kind: list(steps) for kind, steps in vocab.link.items()}, rx(vocab.joiner, "joiner"),
                      compound=rx(vocab.compound, "compound"), list_joiner=rx(vocab.list_joiner, "list_joiner"),
                      list_gap=rx(vocab.list_gap, "list_gap"), amount_word=amount_word,
                      after_stop=rx(vocab.after_stop, "after_stop"), derived=mode.derived)


def _term_index(rules: Rules, mode: _Mode = _VALIDATE, min_phrases: int | None = None) -> TermIndex:
    """The condition terms' index; phrase terms are looked up by word from `min_phrases`
    of them (default `pipeline.phrases.MIN_PHRASES`, read at the call)."""
    path = rules.rules_dir / "vocab" / "conditions.yaml"
    listed = [(name, i, t) for name, vocab in rules.conditions.items() for i, t in enumerate(vocab.terms)]
    phrase_like = [k for k, (_, _, t) in enumerate(listed) if first_word(t.pattern) is not None]
    # Few phrases: their regexes and gates cost little at load and nothing per block.
    by_word = set(phrase_like) if len(phrase_like) >= (phrases_module.MIN_PHRASES if min_phrases is None else min_phrases) \
        else set()
    terms = [(name, None if k in by_word else
              _rx(t.pattern, 0 if t.case else regex.IGNORECASE, path, None, f"conditions.{name}.terms[{i}]", mode), t.weight)
             for k, (name, i, t) in enumerate(listed)]
    scanned = [k for k in range(len(listed)) if k not in by_word]
    # The term's own case flag, not the compiled pattern's flags (asking those would compile
    # a deferred pattern); an inline "(?i)" yields folded literals either way.
    gates = [Trigger.gate(listed[k][2].pattern, not listed[k][2].case, mode.derive) for k in scanned]
    prefix = rule_name(path, "")  # once: a Path per term cost seconds for 20,000
    phrases = PhraseIndex.build((k, listed[k][2].pattern, 0 if listed[k][2].case else regex.IGNORECASE,
                                 f"{prefix}conditions.{listed[k][0]}.terms[{listed[k][1]}]") for k in sorted(by_word))
    return TermIndex(terms=terms, scanned=scanned, keys=[g.key if g is not None else None for g in gates],
                     gates=TriggerSet(g for g in gates if g is not None), phrases=phrases)


def compile_rules(rules: Rules, derived: Derivations | None = None, validate: bool = True,
                  light_tokens: bool = False) -> CompiledRules:
    """Compile validated rules into the frozen `CompiledRules` the engines take.

    Raises `RuleError` (file, line, rule id) for a regex that does not compile or
    backtracks catastrophically, a token pattern the tokenizer or the `Matcher` refuses,
    and every other rule that cannot work. `derived` supplies and records the literals
    and named groups (`pipeline/rulecache.py`); `validate=False` is for rules a cache
    entry says were validated: nothing is compiled, probed or built until first used.
    `light_tokens` with `validate=False`: tokens come from `derived`'s tokenizer tables
    (`pipeline.lighttokens`) instead of spaCy when it holds them and the patterns allow.
    """
    mode = _Mode(derived if derived is not None else Derivations(), validate)
    recognizers = tuple(_compile(r, True, mode) for r in rules.recognizers)
    exclusions = tuple(_compile(r, False, mode) for r in rules.exclusions)
    damage = tuple(_compile(r, False, mode) for r in rules.damage)
    tables = derived.tokenizer_tables() if derived is not None and light_tokens and not validate else None
    tokens = TokenEngine(rules, tables)
    if validate:  # the token patterns are checked with the tokenizer and Matcher they need
        _ = tokens.matcher
    vocab = rules.rules_dir / "vocab"
    units = vocab / "units.yaml"
    grammar = rules.dose_units
    drugs = _drug_index(rules, mode)
    fields = {name: getattr(rules, name) for name in Rules.model_fields}
    return CompiledRules.model_construct(
        **{
            **fields,
            "recognizers": recognizers,
            "exclusions": exclusions,
            "damage": damage,
            "by_id": {c.id: c for c in (*recognizers, *exclusions, *damage)},
            "tokens": tokens,
            "extract_tables": _extract_tables(rules, recognizers, exclusions, mode),
            "link_tables": _link_tables(rules, mode),
            "arm_tables": _arm_tables(rules, mode),
            "drug_index": drugs,
            "drug_name_index": replace(drugs, order={}, joiner=_NEVER, compound=_NEVER, list_joiner=_NEVER,
                                       list_gap=_NEVER, amount_word=None),
            "term_index": _term_index(rules, mode),
            "bound_cues": tuple((_rx(c.pattern, regex.IGNORECASE, vocab / "bounds.yaml", None, f"before[{i}]", mode), c.bound)
                                for i, c in enumerate(rules.bounds_before)),
            "time_unit_res": tuple((_rx(u.pattern, regex.IGNORECASE, units, None, f"time_units.{name}", mode), u.days)
                                   for name, u in rules.time_units.items()),
            "dose_reader": DoseUnitReader(reader=_rx(grammar.reader, regex.IGNORECASE, units, None, "dose_units", mode),
                                          names=grammar.names, parts=tuple(name for name, _ in grammar.PARTS)),
        }
    )

