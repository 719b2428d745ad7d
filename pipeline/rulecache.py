"""A content-addressed on-disk cache of what loading the rules derives, for a fast start.

Loading the rules validates and compiles ~270 `regex` patterns, probes each for
catastrophic backtracking, walks their parse trees for prefilter literals
(`pipeline/prefilter.py`) and reads the drug lexicon's 40,000 spellings: seconds of CPU
that `evidex extract` on one sentence would pay on every start. All of it is a pure
function of the rule files, evidex's code and the libraries' versions, so it is
recorded once (`Derivations`) and kept in a `RulesCache`:

- an entry's name is the sha256 of the rules digest (`rules.rules_digest`), evidex's code
  digest (`pipeline/digest.py`), the versions of Python, regex, spaCy, pyahocorasick
  and the drug lexicon package; any change to any of them is another entry, so a changed
  rule is always validated and probed again before it runs (and refused with its
  file and line when it is bad);
- an entry says "these rules validated and probed OK" and holds the derived literals,
  the named groups of each rule regex, the drug spellings and every compiled regex,
  and each rule regex's top-level branches, compiled and gated (`pipeline/branches.py`);
- compiled `regex` patterns pickle as their compiled code (the `regex` package's own
  pickle support: unpickling calls `_regex.compile` on that code and never parses the
  pattern again), so a warm start gets all ~300 patterns in a few milliseconds. An entry
  is a pickle read by an unpickler that admits no global but `regex._regex.compile`, behind a
  sha256 of its bytes: a truncated or altered file fails the check before anything is
  unpickled;
- an entry is written to a temporary file and renamed, so a reader never sees half of
  one; an entry that cannot be read, fails its check or is of another shape is ignored
  (the rules are loaded and validated in full and the entry is written again), and a
  cache directory that cannot be written costs only the speed.

An entry also holds spaCy's tokenizer as data (`lighttokens.TokenizerTables`, exported
from the tokenizer the validating load built and checked against it there), so a warm
`evidex extract` tokenizes without importing spaCy (`load_rules(light_tokens=True)`,
`compiled.TokenEngine`); `evidex run` keeps spaCy's tokenizer.

With an entry, the compile step takes the patterns from it (a pattern it lacks is
compiled on its first call), and the tokenizer and matcher are built only when a
text needs tokens (`compile_rules(validate=False)`). `evidex extract` and `evidex run`
(directories and corpus files, and every `--jobs` or Dask worker) read the cache;
`evidex check-rules` always validates and probes everything.

Writing an entry keeps the directory small: the newest `KEEP` entries stay (a read
refreshes an entry's time, so they are the ones most recently used) and older ones are
deleted, with any temporary file an interrupted writer left behind over an hour ago.

The cache lives in `$EVIDEX_CACHE_DIR` when set, else in the user cache directory
(`platformdirs.user_cache_dir("evidex")`, `~/.cache/evidex` on Linux), under `rules/`
(one `<key>.pickle` per entry); deleting it is always safe (`rm -r ~/.cache/evidex`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .digest import CODE_DIGEST
from .prefilter import Literals, Needle, lookaround_literals, required_literals
from .timed import anchored_pattern

# Bumped when an entry's layout changes (older entries are then other names, never misread).
FORMAT = 4
MAGIC = b"evidex rules cache\n"
# The distributions whose behaviour shapes what is derived or how rules match.
LIBRARIES = ("regex", "spacy", "pyahocorasick", "drug-named-entity-recognition")
# Entries kept when one is written (~16 MB each): the current rules and a few recent
# others, e.g. a maintainer's own rules next to the shipped ones, or two checkouts.
KEEP = 3
STALE_TMP_S = 3600  # a temporary file this old belongs to no live writer


class Derivations:
    """What loading the rules derives that is costly and a pure function of the rules.

    An explicit object, made per load: the rule loader asks it (`literals`,
    `group_names`, `drug_spellings`, `compiled`) instead of deriving, and it answers
    from what a cache entry holds or derives and records the answer, so a loader that
    validated everything can store the record (`RulesCache.store`). `validated` is True
    when the record comes from a load that validated and probed every rule.
    """

    def __init__(self, validated: bool = False, literals: dict[tuple[str, bool], Literals] | None = None,
                 groups: dict[str, tuple[str, ...]] | None = None, drug_names: dict[str, str] | None = None,
                 patterns: dict[tuple[str, int], Any] | None = None, drug_automaton: Any = None,
                 yaml: dict[str, Any] | None = None, tokenizer: dict[str, Any] | None = None,
                 splits: dict[tuple[str, int], tuple[str, ...] | None] | None = None,
                 lookarounds: dict[tuple[str, bool], tuple[frozenset[Needle], ...]] | None = None):
        self.validated = validated
        self._literals: dict[tuple[str, bool], Literals] = dict(literals or {})
        self.groups: dict[str, tuple[str, ...]] = dict(groups or {})
        self.drug_names = drug_names
        self.patterns: dict[tuple[str, int], Any] = dict(patterns or {})  # (pattern, flags given) -> regex.Pattern
        self.drug_automaton = drug_automaton  # the drug names' ahocorasick.Automaton (compiled.drug_index)
        self.timed: list[Any] = []  # the TimedPatterns made from this record, for their match variants
        self.yaml: dict[str, Any] = dict(yaml or {})  # rule file (relative path) -> its parsed YAML
        # (pattern, flags) of a rule regex -> its top-level branches, or None when it is not split
        # (pipeline/branches.py); their compiled patterns are in `patterns`, their literals in `_literals`.
        self.splits: dict[tuple[str, int], tuple[str, ...] | None] = dict(splits or {})
        self._lookarounds: dict[tuple[str, bool], tuple[frozenset[Needle], ...]] = dict(lookarounds or {})
        # spaCy's tokenizer as data (`lighttokens.TokenizerTables.to_data`), or None: spaCy tokenizes.
        self.tokenizer = tokenizer
        self._tables: tuple[Any, Any] | None = None  # (tokenizer, its tables): `tokenizer_tables()` reads it once

    def tokenizer_tables(self) -> Any:
        """`tokenizer` as `lighttokens.TokenizerTables` (read once), or None when absent or not of that shape."""
        if self.tokenizer is None:
            return None
        if self._tables is None or self._tables[0] is not self.tokenizer:
            from .lighttokens import TokenizerTables

            self._tables = (self.tokenizer, TokenizerTables.from_data(self.tokenizer))
        return self._tables[1]

    def literals(self, pattern: str, ignorecase: bool) -> Literals:
        """`prefilter.required_literals(pattern, ignorecase)`, recorded."""
        key = (pattern, ignorecase)
        found = self._literals.get(key)
        if found is None:
            found = self._literals[key] = required_literals(pattern, ignorecase)
        return found

    def lookaround_literals(self, pattern: str, ignorecase: bool) -> tuple[frozenset[Needle], ...]:
        """`prefilter.lookaround_literals(pattern, ignorecase)`, recorded."""
        key = (pattern, ignorecase)
        found = self._lookarounds.get(key)
        if found is None:
            found = self._lookarounds[key] = lookaround_literals(pattern, ignorecase)
        return found

    def group_names(self, name: str, pattern: Any) -> tuple[str, ...]:
        """The named groups of a rule regex (`name`: its `file:id`; `pattern`: a `TimedPattern`), recorded."""
        found = self.groups.get(name)
        if found is None:
            found = self.groups[name] = tuple(sorted(pattern.groupindex))
        return found

    def parsed(self, name: str, parse: Callable[[], Any]) -> Any:
        """Rule file `name`'s parsed YAML (`parse()`), recorded as a copy, so the loader's own
        use of the data never changes what a later start reads (a record read from a cache
        entry is this process's own)."""
        found = self.yaml.get(name)
        if found is None:
            found = parse()
            self.yaml[name] = copy.deepcopy(found)
        return found

    def drug_spellings(self, names: dict[str, list[str]], lexicon: str, exclude: list[str]) -> dict[str, str]:
        """`drugs.drug_spellings(names, lexicon, exclude)`, recorded (they are a function of drugs.yaml
        and the lexicon's installed version, both in the cache key)."""
        if self.drug_names is None:
            from .drugs import drug_spellings

            self.drug_names = drug_spellings(names, lexicon, exclude)
        return self.drug_names

    def automaton(self, build: Callable[[], Any]) -> Any:
        """The drug names' automaton: recorded, else `build()` (pyahocorasick automata pickle
        their trie, which loads in a third of the time it takes to build from 40,000 names)."""
        if self.drug_automaton is None:
            self.drug_automaton = build()
        return self.drug_automaton

    def compiled(self, pattern: str, flags: int) -> Any:
        """The recorded compiled `regex` pattern of (pattern, flags), or None."""
        return self.patterns.get((pattern, int(flags)))

    def record(self, pattern: str, flags: int, compiled: Any) -> None:
        """Record a compiled pattern (made with `regex.compile(pattern, flags)`)."""
        self.patterns[(pattern, int(flags))] = compiled  # int: a RegexFlag would pickle as a global

    def track(self, timed: Any) -> None:
        """A `TimedPattern` the loader made: given its recorded `match` variant (`timed.anchored()`)
        when there is one and the pattern is compiled, else kept for `record_anchored`."""
        if timed.is_compiled:
            found = self.compiled(anchored_pattern(timed.pattern, timed.flags), timed.flags)
            if found is not None:
                timed.set_anchored(found)
                return
        self.timed.append(timed)

    def record_anchored(self) -> None:
        """Compile and record the `match` variant of every pattern made so far (before storing:
        `match` compiles it at its first call, which a warm start should not pay)."""
        for timed in self.timed:
            self.record(anchored_pattern(timed.pattern, timed.flags), timed.flags, timed.anchored())
        self.timed = []

    def dumps(self, key: str) -> bytes:
        """The record as the bytes of a cache entry named `key`."""
        state = {"format": FORMAT, "key": key, "validated": self.validated, "literals": self._literals,
                 "groups": self.groups, "drug_names": self.drug_names, "patterns": self.patterns,
                 "drug_automaton": self.drug_automaton, "yaml": self.yaml,
                 "tokenizer": self.tokenizer, "splits": self.splits, "lookarounds": self._lookarounds}
        payload = pickle.dumps(state, protocol=5)
        return MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload

    @classmethod
    def loads(cls, data: bytes, key: str) -> Derivations | None:
        """The record of a cache entry, or None when it is not a sound entry named `key`."""
        head, digest, payload = data[:len(MAGIC)], data[len(MAGIC):len(MAGIC) + 64], data[len(MAGIC) + 65:]
        if head != MAGIC or data[len(MAGIC) + 64:len(MAGIC) + 65] != b"\n" or hashlib.sha256(payload).hexdigest().encode() != digest:
            return None
        try:
            state = _RegexUnpickler(io.BytesIO(payload)).load()
            if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("key") != key:
                return None
            found = cls(state["validated"] is True, state["literals"], state["groups"], state["drug_names"], state["patterns"],
                        state["drug_automaton"], state["yaml"], state["tokenizer"], state["splits"],
                        state["lookarounds"])
        except Exception:  # noqa: BLE001 - any fault in an entry only means it is not used
            return None
        return found if _well_formed(found) else None


class _RegexUnpickler(pickle.Unpickler):
    """Unpickles plain data, compiled `regex` patterns and pyahocorasick automata only (the
    "restricting globals" recipe of the `pickle` documentation)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("regex._regex", "compile"):
            from regex import _regex  # regex's C module: what its own pickles call

            return _regex.compile  # type: ignore[attr-defined]
        if (module, name) == ("ahocorasick", "Automaton"):
            import ahocorasick

            return ahocorasick.Automaton
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a rules cache entry")


def _well_formed(d: Derivations) -> bool:
    """True when every part of a loaded record has the types the loader relies on."""
    import ahocorasick
    import regex

    def needles(x: Any) -> bool:
        return x is None or (isinstance(x, frozenset) and all(
            isinstance(n, tuple) and len(n) == 2 and isinstance(n[0], str) and isinstance(n[1], bool) for n in x))

    return (
        all(isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], str) and isinstance(k[1], bool)
            and isinstance(v, tuple) and len(v) == 2 and needles(v[0]) and isinstance(v[1], bool)
            for k, v in d._literals.items())
        and all(isinstance(k, str) and isinstance(v, tuple) and all(isinstance(g, str) for g in v) for k, v in d.groups.items())
        # 40,000 names: their types are collected at C speed, not tested one by one in Python.
        and (d.drug_names is None or (isinstance(d.drug_names, dict)
                                      and set(map(type, d.drug_names)) | set(map(type, d.drug_names.values())) <= {str}))
        and all(isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], str) and isinstance(k[1], int)
                and isinstance(v, regex.Pattern) and v.pattern == k[0] for k, v in d.patterns.items())
        and (d.drug_automaton is None or isinstance(d.drug_automaton, ahocorasick.Automaton))
        and isinstance(d.yaml, dict) and all(isinstance(k, str) and isinstance(v, dict) for k, v in d.yaml.items())
        and (d.tokenizer is None or d.tokenizer_tables() is not None)
        and all(isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], str) and isinstance(k[1], int)
                and (v is None or (isinstance(v, tuple) and all(isinstance(b, str) for b in v))) for k, v in d.splits.items())
        and all(isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], str) and isinstance(k[1], bool)
                and isinstance(v, tuple) and all(needles(n) and n is not None for n in v) for k, v in d._lookarounds.items())
    )


def _installed(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def cache_key(rules_digest: str) -> str:
    """The entry name for rules of this digest under this code and these library versions."""
    parts = [f"format {FORMAT}", rules_digest, CODE_DIGEST, sys.version,
             *(f"{dist} {_installed(dist)}" for dist in LIBRARIES)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def default_cache_dir() -> Path:
    """`$EVIDEX_CACHE_DIR`, else the user cache directory of evidex (platformdirs)."""
    env = os.environ.get("EVIDEX_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("evidex", appauthor=False))


class RulesCache:
    """Entries of `Derivations` in one directory (`<dir>/rules/<key>.pickle`)."""

    def __init__(self, directory: Path | str):
        self.root = Path(directory)  # what `RulesCache(...)` was given: a worker opens the same cache with it
        self.directory = self.root / "rules"

    @classmethod
    def default(cls) -> RulesCache:
        """The cache in `default_cache_dir()`."""
        return cls(default_cache_dir())

    def path(self, key: str) -> Path:
        """Where the entry named `key` is kept."""
        return self.directory / f"{key}.pickle"

    def load(self, key: str) -> Derivations | None:
        """The validated record stored under `key`, or None (absent, unreadable, damaged or not validated)."""
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        found = Derivations.loads(data, key)
        if found is None or not found.validated:
            return None
        with contextlib.suppress(OSError):  # its time says it was used: housekeeping keeps it
            os.utime(self.path(key))
        return found

    def store(self, key: str, derived: Derivations) -> bool:
        """Write `derived` under `key` atomically; False (and nothing written) when the directory cannot be written."""
        data = derived.dumps(key)
        tmp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path(key))
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return False
        self.prune(keep=key)
        return True

    def prune(self, keep: str | None = None, entries: int = KEEP) -> list[Path]:
        """Delete all but the `entries` most recently used entries (the one named `keep` always
        stays) and temporary files older than `STALE_TMP_S`; returns the paths deleted.

        Another process may prune or write at the same time: a file that vanished or cannot be
        deleted is skipped, and a reader that loses an entry only loads the rules in full."""
        now = time.time()
        aged: list[tuple[float, str, Path]] = []
        try:
            listing = list(self.directory.iterdir())
        except OSError:
            return []
        doomed: list[Path] = []
        for path in listing:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if path.name.endswith(".tmp"):
                if now - mtime > STALE_TMP_S:
                    doomed.append(path)
            elif path.suffix == ".pickle" and path.stem != keep:
                aged.append((mtime, path.name, path))
        aged.sort(reverse=True)  # newest first; the name breaks ties, so the choice is deterministic
        doomed += [path for _, _, path in aged[max(0, entries - (1 if keep is not None else 0)):]]
        deleted = []
        for path in doomed:
            with contextlib.suppress(OSError):
                path.unlink()
                deleted.append(path)
        return deleted
