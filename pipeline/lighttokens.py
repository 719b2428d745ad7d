"""spaCy's tokenizer and token `Matcher`, for the route patterns, without importing spaCy.

Importing spaCy and building its blank English tokenizer costs a one-sentence
`evidex extract` about 0.6 s of its start-up. The tokenizer's behaviour is data: the
prefix, suffix and infix regexes, `token_match` / `url_match` and the special cases
(spaCy's English exceptions plus `rules/patterns/tokenizer.yaml`). `export_tables`
reads those from the spaCy tokenizer a full rule load built (spaCy is loaded on that
path anyway) into plain data a rule cache entry stores (its key holds spaCy's version);
`LightTokenizer` runs spaCy's own algorithm over them, and `LightMatcher` matches the
subset of token-pattern features the rules use (`TEXT` / `ORTH` / `LOWER` equal to a
string, `IN` a list of strings, `REGEX`; one token per spec, no `OP`) in the order
spaCy's `Matcher` returns matches. `supported` says whether a pattern set lies in that
subset; anything else is served by spaCy as before.

The algorithm is ported line by line from spaCy v3.8 (MIT License, Copyright (C)
2016-2024 ExplosionAI GmbH, 2016 spaCy GmbH, 2015 Matthew Honnibal):
`spacy/tokenizer.pyx` (`Tokenizer._tokenize_affixes`, `_split_affixes`,
`_attach_tokens`, `_apply_special_cases`, `_filter_special_spans`,
`_retokenize_special_spans`, `add_special_case`), `spacy/matcher/phrasematcher.pyx`
(`find_matches`, for the special cases matched after tokenizing), the fixed-length
case of `spacy/matcher/matcher.pyx` (`find_matches`, `transition_states`, and the
`IN` / `REGEX` predicates: `REGEX` is Python's `re`, searched) and
`spacy/tokens/doc.pyx` (`Doc.char_span` with `alignment_mode="expand"`, `token_by_char`)
with `spacy/tokens/span.pyx` (a span's character offsets). spaCy's tokenizer keeps a
cache of chunk tokenizations; a cached chunk gives what computing it gives, except the
chunks of the last special case added, which `add_special_case` leaves cached as
tokenized *without* special cases: those are `TokenizerTables.stale` here.

`export_tables` refuses (returns None) when the tokenizer holds anything it cannot
render as data, and checks its own rendering against spaCy on probe texts before it
returns; tests/test_lighttokens.py compares tokens and matches with spaCy's on every
text the project has and on random strings.
"""

from __future__ import annotations

import importlib
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LightDoc", "LightMatcher", "LightTokenizer", "TokenizerTables", "export_tables", "supported"]

# The token attributes and predicates `LightMatcher` implements (spaCy's names).
ATTRS = ("TEXT", "ORTH", "LOWER")
PREDICATES = ("IN", "REGEX")

Pattern = tuple[str, int]  # a Python `re` pattern as (pattern string, flags)
PATTERNS = ("prefix", "suffix", "infix", "token_match", "url_match")
MEMO_SIZE = 10_000  # spaCy's Tokenizer max_cache_size


@dataclass(frozen=True)
class TokenizerTables:
    """A spaCy tokenizer as data: what `LightTokenizer` needs to tokenize as it does.

    `specials` maps each special-case string to the texts of its tokens; `phrases` are
    the token texts (tokenized without special cases) of the special cases spaCy also
    looks for after tokenizing; `stale` the chunks spaCy's cache holds tokenized
    without special cases (see the module docstring)."""

    prefix: Pattern | None
    suffix: Pattern | None
    infix: Pattern | None
    token_match: Pattern | None
    url_match: Pattern | None
    specials: dict[str, tuple[str, ...]]
    phrases: frozenset[tuple[str, ...]]
    stale: dict[str, tuple[str, ...]]
    # Field name -> the arguments `re` gives `_sre.compile` for its pattern (`sre_arguments`):
    # what a compiled `re` pattern is made of, so a start does not parse 30,000 characters of regex.
    codes: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        """Plain data (str, int, tuple, dict, frozenset) for a rule cache entry."""
        return {"prefix": self.prefix, "suffix": self.suffix, "infix": self.infix, "token_match": self.token_match,
                "url_match": self.url_match, "specials": dict(self.specials), "phrases": self.phrases, "stale": dict(self.stale),
                "codes": dict(self.codes)}

    @classmethod
    def from_data(cls, data: Any) -> TokenizerTables | None:
        """The tables of `to_data`'s output, or None when `data` is not of that shape."""
        def pattern(x: Any) -> bool:
            return x is None or (isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) and isinstance(x[1], int))

        def pieces(x: Any) -> bool:
            return isinstance(x, tuple) and all(isinstance(p, str) for p in x)

        def table(x: Any) -> bool:
            return isinstance(x, dict) and all(isinstance(k, str) and pieces(v) for k, v in x.items())

        def code(name: Any, x: Any) -> bool:  # (pattern, flags, code, groups, groupindex, indexgroup)
            return (name in PATTERNS and isinstance(x, tuple) and len(x) == 6 and isinstance(x[0], str) and isinstance(x[1], int)
                    and isinstance(x[2], list) and all(isinstance(c, int) for c in x[2]) and isinstance(x[3], int)
                    and isinstance(x[4], dict) and isinstance(x[5], tuple))

        if not (isinstance(data, dict) and set(data) == {*PATTERNS, "specials", "phrases", "stale", "codes"}):
            return None
        if not (all(pattern(data[k]) for k in PATTERNS) and isinstance(data["codes"], dict)
                and all(code(k, v) for k, v in data["codes"].items())
                and table(data["specials"]) and table(data["stale"])
                and isinstance(data["phrases"], frozenset) and all(pieces(p) and p for p in data["phrases"])):
            return None
        return cls(**data)


def sre_arguments(pattern: str, flags: int) -> tuple[Any, ...] | None:
    """The arguments CPython's `re` passes `_sre.compile` for `re.compile(pattern, flags)`
    (re/_compiler.py `compile`), or None when the pattern they make is not equal to
    `re.compile`'s (`re.Pattern` equality compares flags, pattern and compiled code)."""
    try:
        compiler: Any = importlib.import_module("re._compiler")
        parser: Any = importlib.import_module("re._parser")
        sre: Any = importlib.import_module("_sre")
        parsed = parser.parse(pattern, flags)
        code = [int(c) for c in compiler._code(parsed, flags)]  # plain ints: its opcodes are int subclasses
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        args = (pattern, flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup))
        return args if sre.compile(*args) == re.compile(pattern, flags) else None
    except Exception:  # noqa: BLE001 - another Python's internals: compile the pattern instead
        return None


def _compiled(pattern: Pattern | None, code: tuple[Any, ...] | None) -> re.Pattern[str] | None:
    """The `re` pattern, made from its recorded code when there is one (same Python: the cache key holds its version)."""
    if pattern is None:
        return None
    if code is not None and code[0] == pattern[0]:
        try:
            made: re.Pattern[str] = importlib.import_module("_sre").compile(*code)
            return made
        except Exception:  # noqa: BLE001,S110 - not this Python's code: compile it
            pass
    return re.compile(pattern[0], pattern[1])


class LightTokenizer:
    """spaCy's `Tokenizer.__call__` over `TokenizerTables` (same tokens, same offsets)."""

    def __init__(self, tables: TokenizerTables):
        codes = tables.codes
        self._prefix = _compiled(tables.prefix, codes.get("prefix"))
        self._suffix = _compiled(tables.suffix, codes.get("suffix"))
        self._infix = _compiled(tables.infix, codes.get("infix"))
        self._token_match = _compiled(tables.token_match, codes.get("token_match"))
        self._url_match = _compiled(tables.url_match, codes.get("url_match"))
        self._specials = tables.specials
        self._phrase_lengths: dict[str, set[int]] = {}
        for phrase in tables.phrases:
            self._phrase_lengths.setdefault(phrase[0], set()).add(len(phrase))
        self._phrases = tables.phrases
        self._stale = tables.stale
        # Chunk -> its tokens: a chunk's tokens depend on nothing else (spaCy caches them too,
        # and as spaCy's cache it stops growing at MEMO_SIZE chunks: a long --jsonl stream).
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> LightDoc:
        """The tokens of `text` as spaCy's tokenizer makes them."""
        words, spaces = self.tokenize_affixes(text, True)
        if self._phrases and words:
            words, spaces = self._apply_special_cases(text, words, spaces)
        return LightDoc(text, words, spaces)

    # ------------------------------------------------------------ spacy/tokenizer.pyx

    def _find_prefix(self, string: str) -> int:
        m = self._prefix.search(string) if self._prefix is not None else None
        return m.end() - m.start() if m is not None else 0

    def _find_suffix(self, string: str) -> int:
        m = self._suffix.search(string) if self._suffix is not None else None
        return m.end() - m.start() if m is not None else 0

    def tokenize_affixes(self, string: str, with_special_cases: bool,
                         record: dict[str, tuple[str, ...]] | None = None) -> tuple[list[str], list[bool]]:
        """`Tokenizer._tokenize_affixes`: the token texts and whether a space follows each.

        `record` (without special cases only) gets each chunk's tokens, as spaCy's cache does."""
        words: list[str] = []
        spaces: list[bool] = []
        if not string:
            return words, spaces
        start = 0
        in_ws = string[0].isspace()
        i = 0
        for uc in string:
            if uc.isspace() != in_ws:
                if start < i:
                    self._chunk(string[start:i], words, spaces, with_special_cases, record)
                if uc == " ":
                    spaces[-1] = True
                    start = i + 1
                else:
                    start = i
                in_ws = not in_ws
            i += 1
        if start < i:
            self._chunk(string[start:], words, spaces, with_special_cases, record)
            spaces[-1] = string[-1] == " " and not in_ws
        return words, spaces

    def _chunk(self, span: str, words: list[str], spaces: list[bool], with_special_cases: bool,
               record: dict[str, tuple[str, ...]] | None = None) -> None:
        """`_try_specials_and_cache`, else `_tokenize`, for one run of space or non-space characters."""
        if with_special_cases:
            found = self._specials.get(span)
            if found is None:
                found = self._stale.get(span)
            if found is None:
                found = self._memo.get(span)
            if found is None:
                found = self._tokenize(span, True)
                if len(self._memo) < MEMO_SIZE:
                    self._memo[span] = found
        else:
            found = record.get(span) if record is not None else None
            if found is None:
                found = self._tokenize(span, False)
                if record is not None:
                    record[span] = found
        words += found
        spaces += [False] * len(found)

    def _tokenize(self, span: str, with_special_cases: bool) -> tuple[str, ...]:
        string, prefixes, suffixes = self._split_affixes(span, with_special_cases)
        return self._attach_tokens(string, prefixes, suffixes, with_special_cases)

    def _split_affixes(self, string: str, with_special_cases: bool) -> tuple[str, list[str], list[str]]:
        specials = self._specials if with_special_cases else {}
        prefixes: list[str] = []
        suffixes: list[str] = []
        last_size = 0
        prefix = suffix = minus_pre = minus_suf = ""
        while string and len(string) != last_size:
            if self._token_match is not None and self._token_match.match(string):
                break
            if string in specials:
                break
            last_size = len(string)
            pre_len = self._find_prefix(string)
            if pre_len != 0:
                prefix = string[:pre_len]
                minus_pre = string[pre_len:]
                if minus_pre and minus_pre in specials:
                    string = minus_pre
                    prefixes.append(prefix)
                    break
            suf_len = self._find_suffix(string[pre_len:])
            if suf_len != 0:
                suffix = string[-suf_len:]
                minus_suf = string[:-suf_len]
                if minus_suf and minus_suf in specials:
                    string = minus_suf
                    suffixes.append(suffix)
                    break
            if pre_len and suf_len and (pre_len + suf_len) <= len(string):
                string = string[pre_len:-suf_len]
                prefixes.append(prefix)
                suffixes.append(suffix)
            elif pre_len:
                string = minus_pre
                prefixes.append(prefix)
            elif suf_len:
                string = minus_suf
                suffixes.append(suffix)
        return string, prefixes, suffixes

    def _attach_tokens(self, string: str, prefixes: list[str], suffixes: list[str], with_special_cases: bool) -> tuple[str, ...]:
        out = list(prefixes)
        if string:
            found = None
            if with_special_cases:
                found = self._specials.get(string)
                if found is None:
                    found = self._stale.get(string)
            if found is not None:
                out += found
            elif ((self._token_match is not None and self._token_match.match(string))
                  or (self._url_match is not None and self._url_match.match(string))):
                out.append(string)
            else:
                matches = list(self._infix.finditer(string)) if self._infix is not None else []
                if not matches:
                    out.append(string)
                else:
                    start = 0
                    start_before_infixes = start
                    for match in matches:
                        infix_start, infix_end = match.start(), match.end()
                        if infix_start == start_before_infixes:
                            continue
                        if infix_start != start:
                            out.append(string[start:infix_start])
                        if infix_start != infix_end:
                            out.append(string[infix_start:infix_end])
                        start = infix_end
                    if string[start:]:
                        out.append(string[start:])
        out += reversed(suffixes)
        return tuple(out)

    def _apply_special_cases(self, text: str, words: list[str], spaces: list[bool]) -> tuple[list[str], list[bool]]:
        """Special cases the chunk pass split, found as token sequences (the special `PhraseMatcher`)."""
        matches = set()
        n = len(words)
        for start, word in enumerate(words):
            for length in self._phrase_lengths.get(word, ()):
                if start + length <= n and tuple(words[start:start + length]) in self._phrases:
                    matches.add((start, start + length))
        if not matches:
            return words, spaces
        # _filter_special_spans: longest first, then leftmost; a span whose first or last
        # token another span took is dropped, and every span's tokens count as taken.
        seen: set[int] = set()
        filtered = []
        for start, end in sorted(matches, key=lambda s: (s[1] - s[0], -s[0]), reverse=True):
            if start not in seen and end - 1 not in seen:
                filtered.append((start, end))
            seen.update(range(start, end))
        idx = _offsets(words, spaces)
        span_data = {start: (text[idx[start]:idx[end - 1] + len(words[end - 1])], end) for start, end in sorted(filtered)}
        out_words: list[str] = []
        out_spaces: list[bool] = []
        i = 0
        while i < n:
            if i not in span_data:
                out_words.append(words[i])
                out_spaces.append(spaces[i])
                i += 1
                continue
            span_text, end = span_data[i]
            pieces = self._specials.get(span_text)
            if pieces is None:
                out_words += words[i:end]
                out_spaces += spaces[i:end]
            else:
                out_words += pieces
                out_spaces += [False] * (len(pieces) - 1) + [spaces[end - 1]]
            i = end
        return out_words, out_spaces


def _offsets(words: Sequence[str], spaces: Sequence[bool]) -> list[int]:
    """Each token's character offset (spaCy's `Doc.push_back`: previous idx + length + space)."""
    idx = []
    at = 0
    for word, space in zip(words, spaces, strict=True):
        idx.append(at)
        at += len(word) + space
    return idx


@dataclass(frozen=True)
class LightToken:
    """The parts of a spaCy `Token` the extractor reads."""

    text: str
    idx: int

    @property
    def lower_(self) -> str:
        """The lower-case form (spaCy's English `LOWER` lexical attribute: `str.lower`)."""
        return self.text.lower()


@dataclass(frozen=True)
class LightSpan:
    """The parts of a spaCy `Span` the extractor reads: tokens [start, end) of a doc."""

    doc: LightDoc
    start: int
    end: int

    @property
    def start_char(self) -> int:
        """spaCy's `Span.start_char` (the doc's length for an empty span at its end)."""
        return self.doc.idx[self.start] if self.start < len(self.doc) else len(self.doc.text)

    @property
    def end_char(self) -> int:
        """spaCy's `Span.end_char`."""
        if self.start == self.end:
            return self.start_char
        last = self.end - 1
        return self.doc.idx[last] + len(self.doc.words[last])

    def __iter__(self) -> Iterator[LightToken]:
        return (self.doc[i] for i in range(self.start, self.end))


@dataclass(frozen=True)
class LightDoc:
    """Tokens of a text as spaCy's `Doc` holds them: the parts the extractor reads."""

    text: str
    words: list[str]
    spaces: list[bool]
    idx: list[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "idx", _offsets(self.words, self.spaces))

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, i: int | slice) -> Any:
        """A `LightToken` for an index, a `LightSpan` for a slice (as `Doc.__getitem__`)."""
        if isinstance(i, slice):
            start, stop, _ = i.indices(len(self.words))
            return LightSpan(self, start, max(start, stop))
        if i < 0:
            i += len(self.words)
        return LightToken(self.words[i], self.idx[i])

    def _token_by_char(self, char_idx: int) -> int:
        """`token_by_char`: the token whose text or trailing space holds `char_idx`, or -1."""
        i = bisect_right(self.idx, char_idx) - 1
        if i < 0 or char_idx >= self.idx[i] + len(self.words[i]) + self.spaces[i]:
            return -1
        return i

    def char_span(self, start_idx: int, end_idx: int, alignment_mode: str = "expand") -> LightSpan | None:
        """`Doc.char_span` with `alignment_mode="expand"` (the only mode the extractor uses)."""
        if alignment_mode != "expand":
            raise ValueError(f"LightDoc.char_span supports alignment_mode='expand' only, not {alignment_mode!r}")
        start = self._token_by_char(start_idx)
        if start < 0:
            return None
        end = self._token_by_char(end_idx - 1)
        if end < 0:
            return None
        if start_idx == self.idx[start] + len(self.words[start]):
            start += 1
        end += 1
        if not 0 <= start <= end <= len(self.words):
            raise IndexError(f"[E035] span [{start}:{end}] out of a doc of {len(self.words)} tokens")
        return LightSpan(self, start, end)


# ------------------------------------------------------------------ the token Matcher

Test = Callable[[str, str], bool]  # (token text, token lower) -> matches


def _equal(value: str, lower: bool) -> Test:
    return (lambda t, lo: lo == value) if lower else (lambda t, lo: t == value)


def _member(values: frozenset[str], lower: bool) -> Test:
    return (lambda t, lo: lo in values) if lower else (lambda t, lo: t in values)


def _searched(rx: re.Pattern[str], lower: bool) -> Test:
    return (lambda t, lo: rx.search(lo) is not None) if lower else (lambda t, lo: rx.search(t) is not None)


def _spec_test(spec: dict[str, Any]) -> Test | None:
    """One token spec as a test, or None when it uses a feature outside the subset."""
    tests: list[Test] = []
    if not spec:
        return None
    for attr, value in spec.items():
        if attr not in ATTRS:
            return None
        lower = attr == "LOWER"
        if isinstance(value, str):
            tests.append(_equal(value, lower))
        elif isinstance(value, dict) and len(value) == 1 and set(value) <= set(PREDICATES):
            ((predicate, arg),) = value.items()
            if predicate == "IN":
                if not isinstance(arg, list) or not all(isinstance(a, str) for a in arg):
                    return None
                tests.append(_member(frozenset(arg), lower))
            else:
                if not isinstance(arg, str):
                    return None
                tests.append(_searched(re.compile(arg), lower))  # spaCy's REGEX predicate is `re`'s search
        else:
            return None
    if len(tests) == 1:
        return tests[0]
    return lambda t, lo: all(test(t, lo) for test in tests)


def _compile_pattern(pattern: Sequence[Any]) -> list[Test] | None:
    if not pattern or not all(isinstance(spec, dict) for spec in pattern):
        return None
    tests = [_spec_test(spec) for spec in pattern]
    return None if any(t is None for t in tests) else [t for t in tests if t is not None]


def supported(patterns: Sequence[tuple[str, Sequence[Any]]]) -> bool:
    """True when `LightMatcher` matches every (id, token specs) as spaCy's `Matcher` does:
    unique ids, and every spec within the subset (no `OP`, no other attribute or predicate)."""
    ids = [pid for pid, _ in patterns]
    return len(set(ids)) == len(ids) and all(_compile_pattern(p) is not None for _, p in patterns)


class LightMatcher:
    """spaCy's `Matcher` for fixed-length patterns of `supported` specs: the same matches in the same order."""

    def __init__(self, patterns: Sequence[tuple[str, Sequence[Any]]]):
        if not supported(patterns):
            raise ValueError("a token pattern uses a feature LightMatcher does not implement")
        self._patterns = [(pid, tests) for pid, p in patterns if (tests := _compile_pattern(p)) is not None]

    def __call__(self, doc: LightDoc) -> list[tuple[str, int, int]]:
        """(pattern id, start token, end token) of every match. spaCy's Matcher reports a match
        when its last token is read, states in the order they began (earlier start first,
        then the order patterns were added)."""
        words = doc.words
        lowers = [w.lower() for w in words]
        n = len(words)
        found = []
        for start in range(n):
            for order, (pid, tests) in enumerate(self._patterns):
                end = start + len(tests)
                if end <= n and all(test(words[start + k], lowers[start + k]) for k, test in enumerate(tests)):
                    found.append((end, start, order, pid))
        found.sort()
        return [(pid, start, end) for end, start, _, pid in found]


# ------------------------------------------------------------------ export from spaCy


def _pattern_of(fn: Any, method: str) -> Pattern | None | bool:
    """(pattern, flags) of a bound `re.Pattern.<method>`, None for None, False for anything else."""
    if fn is None:
        return None
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, re.Pattern) and getattr(fn, "__name__", None) == method and isinstance(owner.pattern, str):
        return (owner.pattern, int(owner.flags))
    return False


def export_tables(nlp: Any, added: Sequence[str], probes: Sequence[str] = ()) -> TokenizerTables | None:
    """The tables of `nlp`'s tokenizer, a blank spaCy pipeline whose tokenizer got the special
    cases `added` (in that order) after its language's own; None when it holds anything that
    is not plain data (a callable that is no compiled `re` pattern, a lexical attribute other
    than spaCy's `str.lower`, special cases with attributes) or when the rendering tokenizes
    any of `probes` (and the special cases themselves) otherwise than spaCy."""
    from spacy.attrs import LOWER, ORTH
    from spacy.lang.lex_attrs import lower

    tokenizer = nlp.tokenizer
    if nlp.vocab.lex_attr_getters.get(LOWER) is not lower or not tokenizer.faster_heuristics:
        return None
    parts = {"prefix": _pattern_of(tokenizer.prefix_search, "search"), "suffix": _pattern_of(tokenizer.suffix_search, "search"),
             "infix": _pattern_of(tokenizer.infix_finditer, "finditer"),
             "token_match": _pattern_of(tokenizer.token_match, "match"), "url_match": _pattern_of(tokenizer.url_match, "match")}
    if any(p is False for p in parts.values()):
        return None
    specials: dict[str, tuple[str, ...]] = {}
    for chunk, substrings in tokenizer.rules.items():  # spaCy admits ORTH and NORM only; NORM is no token text
        orths = [v for sub in substrings for k, v in sub.items() if k == ORTH or (isinstance(k, str) and k.upper() == "ORTH")]
        if len(orths) != len(substrings) or not all(isinstance(o, str) for o in orths) or "".join(orths) != chunk:
            return None
        specials[chunk] = tuple(orths)
    plain = TokenizerTables(specials=specials, phrases=frozenset(), stale={}, **parts)  # type: ignore[arg-type]
    bare = LightTokenizer(plain)

    def in_matcher(string: str) -> bool:  # add_special_case's test for the special PhraseMatcher
        return bool(bare._find_prefix(string) or bare._find_suffix(string)
                    or (bare._infix is not None and bare._infix.search(string)) or " " in string)

    phrases = frozenset(tuple(words) for chunk in specials if in_matcher(chunk)
                        and (words := bare.tokenize_affixes(chunk, False)[0]))
    last = added[-1] if added else max(specials, default=None)
    stale: dict[str, tuple[str, ...]] = {}
    if last is not None and in_matcher(last):
        bare.tokenize_affixes(last, False, record=stale)
    codes = {name: args for name, p in parts.items() if isinstance(p, tuple) and (args := sre_arguments(*p)) is not None}
    tables = TokenizerTables(specials=specials, phrases=phrases, stale=stale, codes=codes, **parts)  # type: ignore[arg-type]
    light = LightTokenizer(tables)
    for text in (*probes, *specials, *(f"({s}) x{s}, {s}." for s in added)):
        doc = tokenizer(text)
        mine = light(text)
        if [t.text for t in doc] != mine.words or [t.idx for t in doc] != mine.idx:
            return None
    return tables

