"""Rules are data: load and validate everything under `rules/` once, at start-up.

`read_rules(rules_dir)` reads the vocabularies (`vocab/*.yaml`), the full-text regex
recognizers, exclusions and damage signs (`regex/*.yaml`) and the spaCy token patterns
(`patterns/*.jsonl`) and validates each entry with a pydantic model: the result,
`Rules`, is frozen data (pattern strings, fragments expanded) and compiles nothing.
`load_rules(rules_dir)` reads them and compiles them (`pipeline/compiled.py`, the one
place anything is compiled) into the frozen `CompiledRules` every engine takes. Any
problem raises `RuleError` naming the file, the line and the rule id, and evidex
refuses to run: it never runs with some rules silently missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .drugs import drug_spellings
from .models import (
    BOUNDS,
    DOSE_AMOUNTS,
    DOSE_PER_TIME,
    DOSE_PER_WEIGHT,
    MEASURE_TYPES,
    RATE_OUTCOMES,
    ROUTE_CODES,
)

if TYPE_CHECKING:
    from .compiled import CompiledRules
    from .rulecache import Derivations, RulesCache

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
GROUPS = {
    "value", "low", "high", "approx", "bound", "unit", "numerator", "denominator", "metric",
    "ci_low", "ci_high", "p_op", "p_value", "fraction", "list",
}
CANDIDATE_TYPES = (*MEASURE_TYPES, "rate")


class RuleError(Exception):
    """Invalid rules; `str()` names file, line, rule id and the problem."""

    def __init__(self, path: Path | str, line: int | None, rule_id: str | None, problem: str):
        self.path, self.line, self.rule_id, self.problem = str(path), line, rule_id, problem
        where = f"{path}:{line}" if line else str(path)
        rid = f" [{rule_id}]" if rule_id else ""
        super().__init__(f"{where}{rid}: {problem}")


# --------------------------------------------------------------------- YAML with lines


# libyaml's parser when PyYAML was built with it (about 5x faster); the same safe
# constructors and line marks either way.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that records each mapping's 1-based line under `__line__`."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# YAML anchors and aliases are allowed, within limits: a few aliases can expand into an
# exponential number of nodes ("billion laughs"), which PyYAML builds in full.
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 1_000_000


def _line_of(item: yaml.Node | yaml.Event) -> int | None:
    mark = item.start_mark
    return mark.line + 1 if mark is not None else None


def _check_aliases(text: str, path: Path) -> None:
    """Refuse YAML whose aliases are too many or expand beyond MAX_EXPANDED_NODES, naming the line.

    The events are counted first (libyaml's parser; an alias bomb is short), then the
    composed graph, where an alias is the node it names, is sized without expanding it.
    """
    aliases = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise RuleError(path, _line_of(event), None, f"more than {MAX_ALIASES} YAML aliases; write the values out")
    if not aliases:
        return
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, open_: set[int]) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise RuleError(path, _line_of(node), None, "a YAML alias refers to itself")
        open_.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        total = 1
        for child in children:
            total += size(child, open_)
            if total > MAX_EXPANDED_NODES:
                raise RuleError(path, _line_of(node), None,
                                f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?)")
        open_.discard(key)
        sizes[key] = total
        return total

    root = yaml.compose(text, Loader=_SafeLoader)
    if root is not None:
        size(root, set())


def _parse_yaml(path: Path) -> dict[str, Any]:
    """One rule file's YAML as data, each mapping with its `__line__`; a `RuleError` names the problem."""
    try:
        text = path.read_text(encoding="utf-8")
        if "&" in text:  # no anchor, no alias
            _check_aliases(text, path)
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise RuleError(path, mark.line + 1 if mark else None, None, f"malformed YAML: {getattr(err, 'problem', err)}") from err
    except OSError as err:
        raise RuleError(path, None, None, f"cannot read: {err.strerror}") from err
    if not isinstance(data, dict):
        raise RuleError(path, 1, None, "expected a mapping at the top level")
    return data


def _strip_lines(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_lines(v) for k, v in obj.items() if k != "__line__"}
    if isinstance(obj, list):
        return [_strip_lines(v) for v in obj]
    return obj


# --------------------------------------------------------------------- entry models


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Example(Strict):
    text: str | None = None
    in_: str = Field(alias="in")


class Examples(Strict):
    match: list[Example] = []
    no_match: list[str] = []


class RegexEntry(Strict):
    id: str = Field(pattern=r"^[a-z_]+(?:\.[a-z0-9_]+)+$")
    pattern: str
    # A cheap regex every match must contain: the rule is skipped on text without it.
    trigger: str | None = None
    flags: list[Literal["IGNORECASE", "MULTILINE"]] = []
    examples: Examples

    @field_validator("examples")
    @classmethod
    def _needs_examples(cls, v: Examples) -> Examples:
        if not v.match:
            raise ValueError("every rule needs at least one `match` example")
        return v


class Recognizer(RegexEntry):
    type: Literal[CANDIDATE_TYPES]  # type: ignore[valid-type]
    priority: int = 50
    # Exclusions whose matches inside this rule's match do not remove it: the rule reads
    # them as part of one value ("27.2% (95% CI, 14.1–40.4, 12 of 44)" holds a "95% CI").
    reads_through: list[str] = []


class Exclusion(RegexEntry):
    reason: str
    suppresses: Literal["all"] | list[Literal[CANDIDATE_TYPES]]  # type: ignore[valid-type]


class DamageSign(RegexEntry):
    reason: str


class TokenPattern(Strict):
    id: str = Field(pattern=r"^[a-z_]+(?:\.[a-z0-9_]+)+$")
    label: Literal[ROUTE_CODES]  # type: ignore[valid-type]
    pattern: list[dict[str, Any]]
    keep: tuple[int, int] | None = None
    not_before: list[str] = []
    not_after: list[str] = []
    # True: a match that is all its sentence holds but punctuation ("IV." on its own line,
    # a level of evidence) is no route.
    not_alone: bool = False
    examples: Examples


class ConditionTerm(Strict):
    pattern: str
    weight: float = 1
    case: bool = False


class ConditionVocab(Strict):
    tab_names: list[str]
    terms: list[ConditionTerm]
    examples: list[str] = []  # trial-report texts whose condition this is


class ArmVocab(Strict):
    patterns: list[str]
    treatment: bool = False


class ArmExample(Strict):
    text: str
    value: str
    arm: str | None
    xfail: str | None = None


class ArmGroups(Strict):
    """How `pipeline/arms.py` finds the groups a text names (`groups:` in arms.yaml)."""

    noun: str  # a group noun, with a named group `noun`: "group", "arm", "program"
    kept_nouns: list[str] = []  # nouns that stay in the arm's name ("original program")
    coded: str  # a group named by a code after the noun ("group K"), groups `noun` and `code`
    coded_more: str = "(?!)"  # further codes after a coded group ("Groups D and C"), group `code`
    coded_kind: str = "(?!)"  # codes of one kind whatever their length ("Groups I and II"); others must be as long
    product: str = "(?!)"  # a product's marked name ("Superion®"), group `name`
    abbreviation: str = "(?!)"  # an abbreviation defined in brackets ("(LDX)"), group `abbr`
    abbreviation_heads: list[str] = []  # last words of a long form that make it a treatment ("intervention")
    abbreviation_modifier: str = "(?!)"  # right after a drug of a long form: it names an effect of the drug ("-induced")
    adjacent: str = "(?!)"  # what may stand between a group and the value it names right after it
    qualifier_route: str = "(?!)"  # a route word that tells apart arms of one drug ("topical lidocaine")
    qualifier_amount: str = "(?!)"  # an amount of a dose that tells them apart ("tramadol 50 mg")
    qualifier_amount_joiner: str = "(?!)"  # between coordinated amounts ("25, 50 and 100 mg")
    qualifier_elided: str = "(?!)"  # between a route and "route drug" that shares its drug
    qualifier_more_amount: str = "(?!)"  # between a named dose and a further amount of its drug ("10 mg (…) and 20 mg")
    sentence_end: str = r"[.!?]\s"  # where a sentence ends, for "one sentence names the drug two ways"
    covariate_item: str = "(?!)"  # the next item of a list of predictors, each with its ratio ("), age (")
    covariate_cue: str = "(?!)"  # a sentence about predictors ("predictors of abstinence were")
    treated: str  # "vilazodone-treated", group `name`
    max_name_words: int = 3
    # How near a ratio the same ratio of two shares before it must come, relative to it, to
    # say which share's group is its numerator ("34.7% …, 40.2% in the B arm (RR 1.16)").
    ratio_tolerance: float = Field(0.0, ge=0.0, lt=0.5)
    stop_words: list[str] = []  # words that end a group's name on its left
    comparator_arms: list[str] = []  # arms that are comparators, never a study's own treatment
    generic_names: list[str] = []  # group names that are ordinary words: only "the X group" names the group
    # A one-word name that only qualifies the generic word after it ("enhanced" of "the
    # enhanced intervention group"): that word stays in the name.
    modifier_only: str = "(?!)"
    respectively: str
    versus: str  # what joins the two values of a contrast ("52.5% vs 31.0%")
    list_joiner: str  # what joins coordinated values that share one group ("37% and 47%")
    # Coordinated shares of several outcomes that share one group ("23.16% of first-degree
    # laceration and 2.11% of second-degree laceration in the intervention group").
    share_of_joiner: str = "(?!)"
    code_name: str = "(?!)"  # a drug's code name ("WR 279,396", "MK-0869")
    named: str = "(?!)"  # a name the text gives a treatment ('a concept named "PASTOR"'), group `name`
    background_before: str = "(?!)"  # words before a comparator given on top of a treatment ("plus standard care")
    measured_after: str = "(?!)"  # words after a drug that make it a measured quantity, not a group ("opioid use")
    name_prefix: str = "(?!)"  # words before a drug or arm that stay in its name ("active TMS")
    name_suffix: str = "(?!)"  # words after a drug or arm that stay in its name ("paromomycin alone")
    # "lower in the A group than in the B group (18% vs. 4%)": A takes the smaller value.
    smaller_first: str = "(?!)"
    comparator_before: str = "(?!)"  # what introduces the group a contrast is compared against, after it
    stated_for_each: str = "(?!)"  # words right after a share that give it to every group ("(14% each)")
    single_arm: str = "(?!)"  # a study that says it has one arm ("an open-label pilot")
    group_size: str = "(?!)"  # a group's size right after its name ("colloid (N = 60)")
    bare_amount_before: str = "(?!)"  # what introduces a group named by an amount alone ("59.2% for 9 μg")
    assigned: str = "(?!)"  # words that assign patients to the groups named after them ("randomized to")
    assigned_end: str = "(?!)"  # what may follow a one-word name after `assigned` ("," "or" "group")
    group_joiner: str = r"\s*,\s*"  # what joins coordinated groups ("the alcohol and mechanical groups")
    clause_break: str = r"[;]"  # what ends a value's reach for its group
    conjunctions: list[str] = []  # words joining two group names before one plural noun ("A and B groups")
    exposure: str = "(?!)"  # an exposure or subgroup written right before a ratio's bracket, group `name`
    quoted_name: str = "(?!)"  # a group's name in quotes right before its noun, group `name`
    code_before_noun: str = "(?!)"  # a bracketed code between a group's name and its noun, group `code`
    negators: list[str] = []  # stop words that stay at the head of a group's name ("the no aspirin group")
    name_joiners: list[str] = []  # signs that join the words of one group's name ("the PoC CD4 + HH-IPT arm")
    larger_first: str = "(?!)"


class OutcomeCue(Strict):
    pattern: str
    type: Literal["response_rate", "remission_rate", "other_rate"]
    label: Literal[RATE_OUTCOMES] | None = None  # type: ignore[valid-type]
    # Where the cue looks for its share (medspaCy ConText's `direction`): "right" — the share
    # follows the cue ("remission rate 41.5%"); "left" — it precedes it ("41.5% remitted");
    # "both". `max_scope`: the most characters between cue and share (None: the clause or
    # sentence the linker searches).
    direction: Literal["both", "left", "right"] = "both"
    max_scope: int | None = Field(default=None, gt=0)


class TimeUnit(Strict):
    pattern: str
    days: float


class DoseUnitParts(Strict):
    """vocab/units.yaml `dose_units`: each part's canonical unit → its spellings (a regex)."""

    amount: dict[str, str]
    per_weight: dict[str, str] = {}
    per_time: dict[str, str] = {}

    @field_validator("amount", "per_weight", "per_time")
    @classmethod
    def _spellings_compile(cls, part: dict[str, str]) -> dict[str, str]:
        for canonical, spelling in part.items():
            try:
                compiled = regex.compile(spelling)
            except regex.error as err:
                raise ValueError(f"{canonical}: invalid regex {spelling!r}: {err}") from err
            if compiled.groups:
                raise ValueError(f"{canonical}: spellings must not capture (use (?:...)): {spelling!r}")
        return part


class DoseUnitGrammar:
    """The dose-unit parts as regex text: the `{{DOSEUNIT}}` fragment and its normalizer's pattern.

    A dose unit as written is an amount, then optionally a per-weight part, then
    optionally a per-time part; its canonical unit is the parts' canonical names joined
    by "/" (`mg`, `µg/kg/min`, `mg/day`), so no combination is ever listed. Every
    canonical name is checked against SCHEMA v1.1 (models.DOSE_AMOUNTS and friends) at
    load time, which makes every output unit satisfy `is_dose_unit`. The normalizer
    (`reader`, one group per canonical name, `names[i]` the part and name of group
    `g{i}`) is compiled by `pipeline/compiled.py`.
    """

    PARTS = (("amount", DOSE_AMOUNTS), ("per_weight", DOSE_PER_WEIGHT), ("per_time", DOSE_PER_TIME))

    def __init__(self, parts: DoseUnitParts):
        self.parts = parts
        for name, allowed in self.PARTS:
            wrong = [c for c in getattr(parts, name) if c not in allowed]
            if wrong:
                raise ValueError(f"{name}: {wrong} not among the SCHEMA v1.1 names {list(allowed)}")
        amount = "|".join(f"(?:{p})" for p in parts.amount.values())
        weight = "|".join(f"(?:{p})" for p in parts.per_weight.values())
        time = "|".join(f"(?:{p})" for p in parts.per_time.values())
        self.amount_fragment = f"(?:{amount})"
        # The volume amount alone (a volume a dose was given in is no second dose).
        self.volume_fragment = f"(?:{parts.amount['mL']})" if "mL" in parts.amount else "(?!)"
        self.fragment = self.amount_fragment + (f"(?:{weight})?" if weight else "") + (f"(?:{time})?" if time else "")
        # A digit, then an amount that a letter does not continue: every dose hit holds one.
        self.trigger = rf"\d\s?(?i:{amount})(?![^\W\d_])"
        # The normalizer: the same grammar with one group per canonical name, read whole.
        names: list[tuple[str, str]] = []
        pieces = []
        for name, _ in self.PARTS:
            alts = []
            for canonical, spelling in getattr(parts, name).items():
                alts.append(f"(?P<g{len(names)}>{spelling})")
                names.append((name, canonical))
            if alts:
                pieces.append("(?:" + "|".join(alts) + ")" + ("" if name == "amount" else "?"))
        self.names: tuple[tuple[str, str], ...] = tuple(names)
        self.reader = "".join(pieces)


class DrugExample(Strict):
    text: str
    value: str
    drug: str | None
    xfail: str | None = None  # a known failure, with its reason (run as xfail(strict=True))


class AmountWord(Strict):
    """What an amount is of when no drug name follows it (drugs.yaml `amount_word`)."""

    pattern: str  # named groups: noun (kept unless a stop word), abbr (kept if the text defines it), name (kept)
    stop_words: list[str] = []


class DrugVocab(Strict):
    """rules/vocab/drugs.yaml: names, an optional lexicon, the link order and examples."""

    names: dict[str, list[str]]
    lexicon: str = "none"
    lexicon_exclude: list[str] = []
    link: dict[Literal["dose", "route"], list[Literal["list", "bracket", "after", "after_joined", "amount_word", "before"]]]
    joiner: str
    compound: str = "(?!)"
    list_joiner: str = "(?!)"
    list_gap: str = "(?!)"
    amount_word: AmountWord | None = None
    after_stop: str = "(?!)"
    examples: list[DrugExample] = []

    @field_validator("names")
    @classmethod
    def _lower_case_names(cls, names: dict[str, list[str]]) -> dict[str, list[str]]:
        upper = [n for n in names if n != n.lower()]
        if upper:
            raise ValueError(f"canonical drug names are lower case (the drug column's values): {upper}")
        return names


class TimepointBounds(Strict):
    """bounds.yaml `timepoint_bounds`: which bounded times are assessment times (link.py)."""

    never: list[Literal[BOUNDS]] = []  # type: ignore[valid-type]  # no assessment time ("up to 7 days")
    own_clause: list[Literal[BOUNDS]] = []  # type: ignore[valid-type]  # only for its own clause ("over 12 weeks")


class BoundCue(Strict):
    pattern: str
    bound: Literal[BOUNDS]  # type: ignore[valid-type]


# --------------------------------------------------------------------- the rule set


class RegexRule(BaseModel):
    """A validated regex entry: its pattern with fragments expanded, and where it came from."""

    model_config = ConfigDict(frozen=True)
    entry: Any  # Recognizer | Exclusion | DamageSign
    pattern: str
    trigger_pattern: str | None  # the entry's trigger, fragments expanded
    path: str
    line: int

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def where(self) -> str:
        """`file:line` of the entry (for messages)."""
        return f"{self.path}:{self.line}"


class Rules(BaseModel):
    """Everything under `rules/`, validated: frozen data that compiles nothing (see `pipeline/compiled.py`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    rules_dir: Path
    digest: str
    recognizers: tuple[RegexRule, ...]
    exclusions: tuple[RegexRule, ...]
    damage: tuple[RegexRule, ...]
    token_patterns: tuple[TokenPattern, ...]
    token_pattern_lines: dict[str, tuple[str, int]]  # id -> (file, line)
    tokenizer_special_cases: tuple[str, ...]
    sentence_abbreviations: tuple[str, ...]  # words ending in "." that end no sentence ("e.g.", "vs.")
    conditions: dict[str, ConditionVocab]
    document_condition_min_score: float
    arms: dict[str, ArmVocab]
    arm_groups: ArmGroups
    arm_examples: list[ArmExample]
    drugs: DrugVocab
    drug_names: dict[str, str]  # every spelling -> canonical name (vocabulary plus lexicon)
    comparators: list[str]
    outcome_cues: list[OutcomeCue]
    outcome_tight_left: str  # between a cue and the share right after it ("remission rate was 52.5%"), at the text's end
    outcome_abbreviation: str  # an abbreviation defined in brackets after an outcome's name: it is that outcome's cue
    outcome_abbreviation_max_scope: int  # the most characters between such an abbreviation and its share
    threshold_response: str
    threshold_phrase: str
    continuation: str
    population_after_count: str  # words right after a count's denominator that say whom it counts ("one in five responders")
    default_rate_label: str
    number_words: dict[str, float]
    fraction_words: dict[str, float]
    article_words: dict[str, float]
    ordinal_words: dict[str, float]
    time_units: dict[str, TimeUnit]
    dose_units: Any  # DoseUnitGrammar
    bounds_before: list[BoundCue]
    bound_symbols: dict[str, str]
    not_timepoint_before: list[str]
    timepoint_bounds: TimepointBounds
    clause_openers: str


def rules_digest(rules_dir: Path) -> str:
    """sha256 over every rule file's path and bytes (the cache key for rules)."""
    h = hashlib.sha256()
    for path in sorted(p for p in rules_dir.rglob("*") if p.is_file()):
        h.update(path.relative_to(rules_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _number_words(numbers: dict[str, Any]) -> dict[str, float]:
    units = {k: float(v) for k, v in numbers["units"].items()}
    tens = {k: float(v) for k, v in numbers["tens"].items()}
    words = {**units, **tens}
    for t, tv in tens.items():
        for u, uv in units.items():
            if 0 < uv < 10:
                words[f"{t} {u}"] = tv + uv
                words[f"{t}-{u}"] = tv + uv
    for s, sv in numbers.get("scales", {}).items():
        words[s] = float(sv)
        words[f"one {s}"] = float(sv)
    return words


def word_alternation(words: Any) -> str:
    """A trie-shaped regex for literal words (longest match first; inner spaces flexible).

    A flat alternation of ~200 number words is tried word by word at every position;
    the trie rejects a position on its first character, which makes the recognizers
    that accept number words several times faster.
    """
    trie: dict[str, Any] = {}
    for word in {w.lower() for w in words}:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = []
        for ch in sorted(k for k in node if k):
            piece = r"\s+" if ch == " " else regex.escape(ch)
            branches.append(piece + build(node[ch]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + build(trie) + ")"


def _expand(pattern: str, fragments: dict[str, str], path: Path, line: int, rule_id: str) -> str:
    for _ in range(5):  # fragments may use fragments
        new = regex.sub(r"\{\{(\w+)\}\}", lambda m: fragments.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    unknown = regex.findall(r"\{\{(\w+)\}\}", pattern)
    if unknown:
        raise RuleError(path, line, rule_id, f"unknown fragment {{{{{unknown[0]}}}}}")
    return pattern


def _validate(model: type[BaseModel], raw: dict[str, Any], path: Path) -> Any:
    line = raw.get("__line__")
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        return model.model_validate(_strip_lines(raw))
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise RuleError(path, line, rule_id, f"{loc}: {first['msg']}") from err


def _regex_entries(path: Path, key: str, model: type[RegexEntry], fragments: dict[str, str],
                   read: Callable[[Path], dict[str, Any]] = _parse_yaml) -> list[RegexRule]:
    data = read(path)
    items = data.get(key)
    if not isinstance(items, list):
        raise RuleError(path, 1, None, f"expected a list under `{key}`")
    out: list[RegexRule] = []
    seen: dict[str, int] = {}  # id -> line of its first entry
    for raw in items:
        if not isinstance(raw, dict):
            raise RuleError(path, None, None, f"`{key}` entries must be mappings")
        entry = _validate(model, raw, path)
        line = raw["__line__"]
        if entry.id in seen:
            raise RuleError(path, line, entry.id, f"duplicate id (first at line {seen[entry.id]})")
        seen[entry.id] = line
        # a trigger may use fragments too ("{{DOSEUNIT_TRIGGER}}")
        trigger = None if entry.trigger is None else _expand(entry.trigger, fragments, path, line, entry.id)
        out.append(RegexRule(entry=entry, pattern=_expand(entry.pattern, fragments, path, line, entry.id), trigger_pattern=trigger,
                             path=str(path), line=line))
    return out


def _token_patterns(path: Path) -> list[tuple[TokenPattern, int]]:
    """Each token pattern of a JSONL file with its line."""
    out, seen = [], set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise RuleError(path, lineno, None, f"malformed JSON: {err.msg} (column {err.colno})") from err
        if not isinstance(raw, dict):
            raise RuleError(path, lineno, None, "each line must be a JSON object")
        raw["__line__"] = lineno
        pattern = _validate(TokenPattern, raw, path)
        if pattern.id in seen:
            raise RuleError(path, lineno, pattern.id, "duplicate id")
        seen.add(pattern.id)
        out.append((pattern, lineno))
    return out


def _with_lexicon(digest: str, lexicon: str) -> str:
    """The rules digest, extended by the installed version of the drug lexicon it reads."""
    if lexicon == "none":
        return digest
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version(lexicon)
    except PackageNotFoundError:
        installed = "absent"
    return hashlib.sha256(f"{digest}\0{lexicon}=={installed}".encode()).hexdigest()


def default_rules_dir() -> Path:
    """The rules directory used when none is given: `$EVIDEX_RULES` when set, else the
    default rules shipped inside the installed package (`evidex/_rules`, package data),
    else, in the checkout or an editable install, the repository's top-level `rules/`."""
    env = os.environ.get("EVIDEX_RULES")
    if env:
        return Path(env)
    shipped = resources.files(__package__).joinpath("_rules")
    if shipped.is_dir():
        if not isinstance(shipped, Path):  # a zipped install: rules must be real files
            raise RuleError(str(shipped), None, None, "default rules are not on the file system; pass --rules DIR")
        return shipped
    return DEFAULT_RULES_DIR


def load_rules(rules_dir: Path | None = None, cache: RulesCache | None = None, light_tokens: bool = False) -> CompiledRules:
    """Read, validate and compile every rule file under rules_dir (default: `default_rules_dir()`).

    Returns the frozen `CompiledRules` the engines take; raises `RuleError` (file, line,
    rule id) on the first problem. Each call reads and compiles afresh. With a `cache`
    (`pipeline/rulecache.py`) holding an entry for these rules, code and libraries, the
    rules were validated and probed before: the schema is still checked, but compiled
    regexes, literals and the drug automaton come from the entry and spaCy is loaded
    when a text needs it; without an entry, everything is validated and the entry written.
    The result's `rules_cache` is `cache`, so worker processes load the rules the same way.
    `light_tokens` (`evidex extract`): a warm load tokenizes with the entry's copy of spaCy's
    tokenizer (`pipeline.lighttokens`, the same tokens) and never imports spaCy; otherwise,
    and on every cold load, spaCy's tokenizer is the engine.
    """
    from .branches import record_splits
    from .branches import use as use_splits
    from .compiled import compile_rules
    from .rulecache import Derivations, cache_key

    rules_dir = Path(rules_dir or default_rules_dir())
    if cache is None:
        return compile_rules(read_rules(rules_dir))
    if not rules_dir.is_dir():
        raise RuleError(rules_dir, None, None, "rules directory not found")
    key = cache_key(rules_digest(rules_dir))
    found = cache.load(key)
    derived = found or Derivations()
    compiled = compile_rules(read_rules(rules_dir, derived), derived, validate=found is None, light_tokens=light_tokens)
    if found is None:
        derived.validated = True
        derived.record_anchored()
        derived.tokenizer = _tokenizer_tables(compiled)
        # A run splits its costly alternations (pipeline/branches.py): the entry holds them split.
        record_splits((r.regex for r in (*compiled.recognizers, *compiled.exclusions)), derived)
        cache.store(key, derived)
    use_splits(derived)
    return compiled.model_copy(update={"rules_cache": cache})


def _tokenizer_tables(compiled: CompiledRules) -> dict[str, Any] | None:
    """spaCy's tokenizer of a validated load as data for the cache entry (`pipeline.lighttokens`),
    checked against spaCy on every token pattern's examples; None when it cannot be rendered."""
    from .lighttokens import export_tables

    probes = []
    for p in compiled.token_patterns:
        probes += [e.in_ for e in p.examples.match] + list(p.examples.no_match)
    tables = export_tables(compiled.tokens.nlp, compiled.tokenizer_special_cases, probes)
    return None if tables is None else tables.to_data()


def read_rules(rules_dir: Path | None = None, derived: Derivations | None = None) -> Rules:
    """Read and validate every rule file under rules_dir (default: `default_rules_dir()`); compiles nothing.

    `derived` (`pipeline/rulecache.py`) supplies or records the drug spellings."""
    rules_dir = Path(rules_dir or default_rules_dir())
    if not rules_dir.is_dir():
        raise RuleError(rules_dir, None, None, "rules directory not found")
    vocab = rules_dir / "vocab"

    def _read_yaml(path: Path) -> dict[str, Any]:  # the parsed file, from `derived` when it holds it
        if derived is None:
            return _parse_yaml(path)
        return derived.parsed(path.relative_to(rules_dir).as_posix(), lambda: _parse_yaml(path))

    numbers = _strip_lines(_read_yaml(vocab / "numbers.yaml"))
    units = _read_yaml(vocab / "units.yaml")
    bounds = _read_yaml(vocab / "bounds.yaml")
    arms = _read_yaml(vocab / "arms.yaml")
    outcomes = _read_yaml(vocab / "outcomes.yaml")
    conditions = _read_yaml(vocab / "conditions.yaml")
    drug_path = vocab / "drugs.yaml"
    drug_vocab = _validate(DrugVocab, _read_yaml(drug_path), drug_path)
    try:
        spell = derived.drug_spellings if derived is not None else drug_spellings
        drug_names = spell(drug_vocab.names, drug_vocab.lexicon, drug_vocab.lexicon_exclude)
    except ValueError as err:
        raise RuleError(drug_path, None, None, str(err)) from err

    number_words = _number_words(numbers)
    time_units = {k: _validate(TimeUnit, v, vocab / "units.yaml") for k, v in units["time_units"].items() if k != "__line__"}
    dose_parts = _validate(DoseUnitParts, units["dose_units"], vocab / "units.yaml")
    try:
        dose_units = DoseUnitGrammar(dose_parts)
    except ValueError as err:
        raise RuleError(vocab / "units.yaml", units["dose_units"].get("__line__"), None, f"dose_units: {err}") from err
    fragments = {k: v for k, v in _strip_lines(_read_yaml(rules_dir / "regex" / "fragments.yaml")).items()}
    fragments["NUMWORD"] = r"(?<![\w-])(?i:" + word_alternation(number_words) + r")(?!\w)"
    fragments["APPROX"] = "(?i:" + word_alternation(bounds["approx"]) + ")"
    fragments["NUMWORD_BARE"] = word_alternation(number_words)
    fragments["FRACTION"] = word_alternation(numbers.get("fractions", {}))
    fragments["TIMEUNIT"] = "(?:" + "|".join(u.pattern for u in time_units.values()) + ")"
    fragments["DOSEUNIT"] = dose_units.fragment
    fragments["DOSEAMOUNT"] = dose_units.amount_fragment
    fragments["DOSEVOLUME"] = dose_units.volume_fragment
    fragments["DOSEUNIT_TRIGGER"] = dose_units.trigger

    regex_dir = rules_dir / "regex"
    recognizers = _regex_entries(regex_dir / "measures.yaml", "recognizers", Recognizer, fragments, _read_yaml)
    exclusions = _regex_entries(regex_dir / "exclusions.yaml", "exclusions", Exclusion, fragments, _read_yaml)
    damage = _regex_entries(regex_dir / "damage.yaml", "damage", DamageSign, fragments, _read_yaml)
    ids = [c.id for c in (*recognizers, *exclusions, *damage)]
    exclusion_ids = {c.id for c in exclusions}
    for rec in recognizers:
        unknown = [i for i in rec.entry.reads_through if i not in exclusion_ids]
        if unknown:
            raise RuleError(rec.path, rec.line, rec.id, f"reads_through names no exclusion: {unknown[0]}")
    token_path = rules_dir / "patterns" / "tokenizer.yaml"
    token_yaml = _strip_lines(_read_yaml(token_path)) if token_path.exists() else {}
    special_cases = token_yaml.get("special_cases", [])
    abbreviations = token_yaml.get("sentence_abbreviations", [])
    odd = [a for a in abbreviations if not isinstance(a, str) or len(a) < 2 or not a.endswith(".") or any(ch.isspace() for ch in a)]
    if odd:
        raise RuleError(token_path, None, None, f"a sentence abbreviation is a word ending in '.', without spaces: {odd[0]!r}")
    bad = [c for c in special_cases if not isinstance(c, str) or not c or any(ch.isspace() for ch in c)]
    if bad:
        raise RuleError(token_path, None, None, f"a special case is one token, a string without spaces: {bad[0]!r}")
    token_patterns: list[TokenPattern] = []
    token_pattern_lines: dict[str, tuple[str, int]] = {}
    for path in sorted((rules_dir / "patterns").glob("*.jsonl")):
        for pattern, lineno in _token_patterns(path):
            token_patterns.append(pattern)
            token_pattern_lines.setdefault(pattern.id, (str(path), lineno))
    ids += [p.id for p in token_patterns]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RuleError(rules_dir, None, sorted(dupes)[0], "rule id used in more than one file")

    cond_path = vocab / "conditions.yaml"
    condition_vocab = {k: _validate(ConditionVocab, v, cond_path) for k, v in conditions["conditions"].items() if k != "__line__"}
    arm_path = vocab / "arms.yaml"
    arm_vocab = {k: _validate(ArmVocab, v, arm_path) for k, v in arms["arms"].items() if k != "__line__"}
    arm_groups = _validate(ArmGroups, arms["groups"], arm_path)
    out_path = vocab / "outcomes.yaml"
    cues = [_validate(OutcomeCue, v, out_path) for v in outcomes["cues"]]
    bound_path = vocab / "bounds.yaml"
    return Rules(
        rules_dir=rules_dir,
        digest=_with_lexicon(rules_digest(rules_dir), drug_vocab.lexicon),
        recognizers=tuple(recognizers),
        exclusions=tuple(exclusions),
        damage=tuple(damage),
        token_patterns=tuple(token_patterns),
        token_pattern_lines=token_pattern_lines,
        tokenizer_special_cases=tuple(special_cases),
        sentence_abbreviations=tuple(abbreviations),
        conditions=condition_vocab,
        document_condition_min_score=float(conditions.get("document_min_score", 3)),
        arms=arm_vocab,
        arm_groups=arm_groups,
        arm_examples=[_validate(ArmExample, e, arm_path) for e in arms.get("examples", [])],
        drugs=drug_vocab,
        drug_names=drug_names,
        comparators=_strip_lines(arms["comparators"]),
        outcome_cues=cues,
        outcome_tight_left=outcomes.get("tight_left", r"(?!)"),
        outcome_abbreviation=outcomes.get("abbreviation", r"(?!)"),
        outcome_abbreviation_max_scope=int(outcomes.get("abbreviation_max_scope", 60)),
        threshold_response=outcomes["threshold_response"],
        threshold_phrase=outcomes.get("threshold_phrase", r"(?!)"),
        continuation=outcomes.get("continuation", r"(?!)"),
        population_after_count=outcomes.get("population_after_count", r"(?!)"),
        default_rate_label=outcomes.get("default_label", "other"),
        number_words=number_words,
        fraction_words={k: float(v) for k, v in numbers.get("fractions", {}).items()},
        article_words={k: float(v) for k, v in numbers.get("articles", {}).items()},
        ordinal_words={k: float(v) for k, v in numbers.get("ordinals", {}).items()},
        time_units=time_units,
        dose_units=dose_units,
        bounds_before=[_validate(BoundCue, v, bound_path) for v in bounds["before"]],
        bound_symbols=_strip_lines(bounds["symbol"]),
        not_timepoint_before=_strip_lines(bounds.get("not_timepoint_before", [])),
        timepoint_bounds=_validate(TimepointBounds, bounds.get("timepoint_bounds", {}), bound_path),
        clause_openers=bounds.get("clause_openers", r"(?!)"),
    )
