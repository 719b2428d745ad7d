"""The rule-loading cache of `evidex extract` (pipeline/rulecache.py): same rows, never a stale or bad rule.

A warm start takes every compiled regex, literal and the drug automaton from a cache
entry and builds spaCy only when a text needs tokens; a pattern the entry lacks is
compiled on its first call. Each of those paths must give exactly the rows of the
eager load that validates everything, on every text the project has.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evidex.build import process_text
from evidex.cli import app
from evidex.ingest import read_source
from evidex.rulecache import MAGIC, Derivations, RulesCache, cache_key
from evidex.rules import RuleError, load_rules, rules_digest

from conftest import PMC_DEV, needs_pmc_dev

ROOT = Path(__file__).resolve().parent.parent
CORPUS = PMC_DEV
TEXT_DIRS = [ROOT / "raw", ROOT / "tests" / "heldout", ROOT / "tests" / "heldout" / "clinic-two", CORPUS]
CASE_DIRS = [ROOT / "tests" / "cases", ROOT / "tests" / "cases_heldout"]
RATE_ONLY = "The response rate was 45% at 24 weeks.\n"  # no route word, every hit on token boundaries
WITH_ROUTE = "Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours.\n"
runner = CliRunner()


def _texts() -> list[tuple[str, str]]:
    """(name, text) of every page and abstract of the corpora and every case sentence."""
    out = []
    for d in TEXT_DIRS:
        out += [(p.name, read_source(p, d).text) for p in sorted(d.glob("*.txt"))]
    for path in sorted(p for d in CASE_DIRS for p in d.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [(f"{path.name}[{i}]", case["text"]) for i, case in enumerate(data.get("cases") or []) if case.get("text")]
    return out


def _rows(name: str, text: str, rules) -> dict:
    result = process_text(name, text, rules)
    return {"studies": [s.model_dump() for s in result.studies], "measures": [m.model_dump() for m in result.measures],
            "uncovered": [u.model_dump() for u in result.uncovered], "warnings": result.warnings}


@pytest.fixture(scope="module")
def warm_dir(tmp_path_factory) -> Path:
    """A cache directory holding the entry of the project's rules (written by a cold load)."""
    directory = tmp_path_factory.mktemp("cache")
    load_rules(ROOT / "rules", cache=RulesCache(directory))
    return directory


def test_a_cold_load_writes_one_validated_entry_and_a_warm_load_uses_it(warm_dir):
    cache = RulesCache(warm_dir)
    key = cache_key(rules_digest(ROOT / "rules"))
    assert [p.name for p in cache.directory.iterdir()] == [f"{key}.pickle"]
    entry = cache.load(key)
    assert entry is not None and entry.validated
    assert len(entry.patterns) > 250 and entry.drug_automaton is not None and len(entry.drug_names or {}) > 40_000
    warm = load_rules(ROOT / "rules", cache=cache, light_tokens=True)
    # Nothing was built that the entry holds: no spaCy, every rule regex compiled already;
    # the tokenizer is spaCy's as data (pipeline/lighttokens.py), built on first use.
    assert not warm.tokens.built and warm.tokens.light and entry.tokenizer is not None
    # evidex run's warm load keeps spaCy's tokenizer.
    assert not load_rules(ROOT / "rules", cache=cache).tokens.light
    assert all(r.regex.is_compiled for r in (*warm.recognizers, *warm.exclusions, *warm.damage))
    # ... and each one's `match` variant too (TimedPattern.anchored), which `match` would compile.
    assert all(r.regex._anchored is not None for r in (*warm.recognizers, *warm.exclusions, *warm.damage))
    assert warm.extract_tables.spelled_anchor_re._anchored is not None


def test_warm_and_deferred_rules_give_the_eager_rows_on_every_text(rules, warm_dir):
    """Eager (validate everything) == warm (patterns from the entry) == deferred (each compiled on first call)."""
    cache = RulesCache(warm_dir)
    warm = load_rules(ROOT / "rules", cache=cache, light_tokens=True)
    entry = cache.load(cache_key(rules_digest(ROOT / "rules")))
    assert entry is not None
    entry.patterns.clear()  # nothing precompiled: every regex takes the deferred path
    from evidex.compiled import compile_rules
    from evidex.rules import read_rules

    deferred = compile_rules(read_rules(ROOT / "rules", entry), entry, validate=False, light_tokens=True)
    assert not any(r.regex.is_compiled for r in deferred.recognizers)
    entry.tokenizer = None  # no tokenizer tables: spaCy tokenizes, as before the entry held them
    spacy_deferred = compile_rules(read_rules(ROOT / "rules", entry), entry, validate=False, light_tokens=True)
    assert warm.tokens.light and deferred.tokens.light and not spacy_deferred.tokens.light
    texts = _texts()
    assert len(texts) > 100
    for name, text in texts:
        eager_rows = _rows(name, text, rules)
        assert _rows(name, text, warm) == eager_rows, name
        assert _rows(name, text, deferred) == eager_rows, name
        assert _rows(name, text, spacy_deferred) == eager_rows, name
    # Some text needed tokens, and got the same ones, without spaCy in the light rule sets.
    assert deferred.tokens.built and not deferred.tokens.spacy_built and not warm.tokens.spacy_built
    assert spacy_deferred.tokens.spacy_built



@needs_pmc_dev
def test_every_line_alone_gives_the_eager_rows_with_the_light_tokenizer(rules, warm_dir):
    """`evidex extract` on one sentence: each line of every page and abstract, as a text of its
    own, gives the eager rules' rows on a warm cache, whose tokens come without spaCy."""
    warm = load_rules(ROOT / "rules", cache=RulesCache(warm_dir), light_tokens=True)
    assert warm.tokens.light
    lines = [(f"{name}:{i}", line) for name, text in _texts() for i, line in enumerate(text.splitlines(keepends=True))
             if line.strip()]
    assert len(lines) > 1_000
    for name, line in lines:
        assert _rows("line.txt", line, warm) == _rows("line.txt", line, rules), name
    assert warm.tokens.built and not warm.tokens.spacy_built


def _corrupt_variants(data: bytes) -> dict[str, bytes]:
    cut = len(MAGIC) + 65
    evil = pickle.dumps(os.system)  # a global the unpickler must refuse, never call
    import hashlib

    signed_evil = MAGIC + hashlib.sha256(evil).hexdigest().encode() + b"\n" + evil
    return {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "a flipped byte": data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:],
        "not an entry": b"{}\n",
        "a pickle of a forbidden global": signed_evil,
        "the header only": data[:cut],
    }


def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path, rules):
    cache = RulesCache(tmp_path)
    load_rules(ROOT / "rules", cache=cache)
    key = cache_key(rules_digest(ROOT / "rules"))
    good = cache.path(key).read_bytes()
    for what, data in _corrupt_variants(good).items():
        cache.path(key).write_bytes(data)
        assert cache.load(key) is None, what
    cache.path(key).write_bytes(_corrupt_variants(good)["a flipped byte"])
    loaded = load_rules(ROOT / "rules", cache=cache)  # no crash: loads in full, writes the entry again
    assert cache.load(key) is not None
    assert _rows("s.txt", WITH_ROUTE, loaded) == _rows("s.txt", WITH_ROUTE, rules)



def test_an_entry_whose_tokenizer_tables_are_misshapen_is_not_used(tmp_path, warm_dir):
    """A sound pickle whose tokenizer part is not `TokenizerTables` data is no entry (the rules load in full)."""
    key = cache_key(rules_digest(ROOT / "rules"))
    entry = RulesCache(warm_dir).load(key)
    assert entry is not None and entry.tokenizer_tables() is not None
    cache = RulesCache(tmp_path)
    cache.directory.mkdir(parents=True)
    for bad in ({**entry.tokenizer, "specials": {"i.v.": ["i.v."]}}, {**entry.tokenizer, "codes": {"prefix": (1,)}},
                {"prefix": None}):
        entry.tokenizer = bad
        cache.path(key).write_bytes(entry.dumps(key))
        assert cache.load(key) is None, bad


def test_an_entry_under_another_key_is_not_used(tmp_path):
    cache = RulesCache(tmp_path)
    load_rules(ROOT / "rules", cache=cache)
    key = cache_key(rules_digest(ROOT / "rules"))
    assert Derivations.loads(cache.path(key).read_bytes(), "0" * 64) is None


def test_a_changed_rule_is_a_new_entry_compiled_and_validated_again(tmp_path, rules_copy):
    cache = RulesCache(tmp_path / "cache")
    before = load_rules(rules_copy, cache=cache)
    old_key = cache_key(rules_digest(rules_copy))
    text = "The response rate was 45 pct at 24 weeks.\n"
    assert not [m for m in _rows("s.txt", text, before)["measures"] if m["type"] == "response_rate"]
    # A new recognizer reads "45 pct": only a recompiled rule set can find it.
    measures = rules_copy / "regex" / "measures.yaml"
    measures.write_text(measures.read_text(encoding="utf-8").replace("recognizers:\n", """recognizers:
  - id: rate.pct_word
    type: rate
    pattern: '(?P<value>\\d+) (?P<unit>pct)\\b'
    examples:
      match:
        - in: "45 pct"
          text: "45 pct"
""", 1), encoding="utf-8")
    new_key = cache_key(rules_digest(rules_copy))
    assert new_key != old_key
    after = load_rules(rules_copy, cache=cache)
    assert sorted(p.name for p in cache.directory.iterdir()) == sorted([f"{old_key}.pickle", f"{new_key}.pickle"])
    assert "rate.pct_word" in after.by_id and "rate.pct_word" not in before.by_id
    entry = cache.load(new_key)
    assert entry is not None and any(p == r"(?P<value>\d+) (?P<unit>pct)\b" for p, _ in entry.patterns)


@pytest.mark.parametrize("pattern, problem", [
    ("'(?P<value>\\d+(?:%'", "invalid regex"),
    ("'(?:\\d|\\d\\d)+\\.\\d|\\bthan\\b'", "catastrophic backtracking"),
])
def test_a_bad_rule_is_reported_with_file_and_line_on_a_warm_cache(tmp_path, rules_copy, pattern, problem):
    cache = RulesCache(tmp_path / "cache")
    load_rules(rules_copy, cache=cache)  # warm for the good rules
    measures = rules_copy / "regex" / "measures.yaml"
    text = measures.read_text(encoding="utf-8")
    line = text[:text.index("recognizers:\n")].count("\n") + 2  # the new entry's first line
    measures.write_text(text.replace("recognizers:\n", f"""recognizers:
  - id: rate.broken
    type: rate
    pattern: {pattern}
    examples:
      match:
        - in: "45%"
""", 1), encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules(rules_copy, cache=cache)
    assert (err.value.path, err.value.line, err.value.rule_id) == (str(measures), line, "rate.broken")
    assert problem in err.value.problem
    # The command line says the same and refuses to run.
    result = runner.invoke(app, ["extract", "-", "--rules", str(rules_copy)], input=RATE_ONLY,
                           env={"EVIDEX_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 3
    assert f"measures.yaml:{line} [rate.broken]" in "".join(result.output.split("\n"))
    # So does `evidex run`, on a page directory and on a corpus file, with the same warm cache.
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "r1", "text": RATE_ONLY}) + "\n", encoding="utf-8")
    for source in (ROOT / "raw", corpus):
        result = runner.invoke(app, ["run", str(source), "--out", str(tmp_path / f"out-{source.stem}"), "--quiet",
                                     "--rules", str(rules_copy)], env={"EVIDEX_CACHE_DIR": str(tmp_path / "cache")})
        assert result.exit_code == 3, (source, result.output)
        assert f"measures.yaml:{line} [rate.broken]" in "".join(result.output.split("\n")), source
        assert not (tmp_path / f"out-{source.stem}").exists()


def test_an_unwritable_cache_directory_costs_only_speed(tmp_path, rules):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = RulesCache(blocker)  # <file>/rules cannot be made
    loaded = load_rules(ROOT / "rules", cache=cache)
    assert not cache.directory.exists()
    assert _rows("s.txt", WITH_ROUTE, loaded) == _rows("s.txt", WITH_ROUTE, rules)


def _extract_in_fresh_process(text_file: Path, cache_dir: Path) -> tuple[str, bool]:
    """`evidex extract FILE` in a new interpreter: (stdout, whether spaCy was imported)."""
    script = ("import sys\nfrom evidex.cli import app\n"
              "try:\n    app(['extract', sys.argv[1]])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
              "print('SPACY' if 'spacy' in sys.modules else 'NO-SPACY', file=sys.stderr)\n")
    env = {**os.environ, "EVIDEX_CACHE_DIR": str(cache_dir)}
    env.pop("EVIDEX_RULES", None)
    proc = subprocess.run([sys.executable, "-c", script, str(text_file)], capture_output=True, text=True, env=env,
                          check=True)
    return proc.stdout, proc.stderr.strip().splitlines()[-1] == "SPACY"


def test_a_warm_extract_never_imports_spacy_even_for_a_text_that_needs_tokens(tmp_path, rules):
    """The entry holds spaCy's tokenizer as data (pipeline/lighttokens.py): a route sentence
    is tokenized and matched without spaCy, with the eager rules' output."""
    cache_dir = tmp_path / "cache"
    rate, route = tmp_path / "rate.txt", tmp_path / "route.txt"
    rate.write_text(RATE_ONLY, encoding="utf-8")
    route.write_text(WITH_ROUTE, encoding="utf-8")
    cold_out, cold_spacy = _extract_in_fresh_process(rate, cache_dir)  # writes the entry
    assert cold_spacy  # a cold load validates the token patterns with spaCy
    warm_out, warm_spacy = _extract_in_fresh_process(rate, cache_dir)
    assert not warm_spacy
    route_out, route_spacy = _extract_in_fresh_process(route, cache_dir)
    assert not route_spacy
    # Same JSON lines as the eager rules give, warm or cold.
    for out, path, text in ((cold_out, rate, RATE_ONLY), (warm_out, rate, RATE_ONLY), (route_out, route, WITH_ROUTE)):
        expected = [m.model_dump() for m in process_text(path.name, text, rules).measures]
        assert [json.loads(line) for line in out.splitlines()] == expected
    assert [json.loads(line)["type"] for line in route_out.splitlines()] == ["dose", "route", "response_rate", "follow_up"]


def _worker_rules_state() -> tuple[str | None, bool]:
    """In a pool worker: the cache directory its rules were loaded through, and whether spaCy's
    Matcher was built (a validating load builds it; a warm load does not)."""
    from evidex.engines import worker_rules

    rules = worker_rules()
    return (str(rules.rules_cache.root) if rules.rules_cache is not None else None), rules.tokens.built


def _tables(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in (".csv", ".parquet")}


def test_run_through_a_warm_cache_gives_the_bytes_of_a_run_without_it(tmp_path, rules):
    """`evidex run` on pages (one process and --jobs 2) and on a corpus file loads the rules
    through the cache, writes its entry once, then reuses it; the tables are those of runs that
    validate everything (`runner.run` / `run_corpus` without a cache)."""
    from evidex.corpus_run import run_corpus
    from evidex.runner import run as run_dir

    pages = tmp_path / "pages"
    pages.mkdir()
    for src in (ROOT / "raw" / "ketamine-research.txt", ROOT / "tests" / "heldout" / "esketamine-evidence.txt"):
        (pages / src.name).write_bytes(src.read_bytes())
    corpus = tmp_path / "c.jsonl"
    texts = [text for _, text in _texts() if 20 < len(text) < 3000][:30]
    corpus.write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    run_dir(pages, tmp_path / "plain", ROOT / "rules", force=True)
    run_corpus(corpus, tmp_path / "plain-corpus", ROOT / "rules", partition_size=7)
    cache_dir = tmp_path / "cache"
    env = {"EVIDEX_CACHE_DIR": str(cache_dir)}
    key = cache_key(rules_digest(ROOT / "rules"))
    entry = RulesCache(cache_dir).path(key)
    outs = []
    for i, args in enumerate((["--jobs", "1"], ["--jobs", "2"], ["--jobs", "2"])):  # cold, then warm twice
        out = tmp_path / f"run{i}"
        result = runner.invoke(app, ["run", str(pages), "--out", str(out), "--quiet", "--force",
                                     "--rules", str(ROOT / "rules"), *args], env=env)
        assert result.exit_code == 0, result.output
        outs.append(out)
        if i == 0:
            written = entry.read_bytes()
    assert entry.read_bytes() == written  # the warm runs read it, never rewrote it
    assert [p.name for p in RulesCache(cache_dir).directory.iterdir()] == [entry.name]
    expected = _tables(tmp_path / "plain")
    assert len(expected) == 6 and b"response_rate" in expected["measures.csv"]
    for out in outs:
        assert _tables(out) == expected, out
    result = runner.invoke(app, ["run", str(corpus), "--out", str(tmp_path / "corpus-warm"), "--quiet",
                                 "--partition-size", "7", "--rules", str(ROOT / "rules")], env=env)
    assert result.exit_code == 0, result.output
    expected_parts = _tables(tmp_path / "plain-corpus")
    assert len(expected_parts) == 4 * 5
    assert _tables(tmp_path / "corpus-warm") == expected_parts


def test_pool_workers_load_the_rules_through_the_clients_cache(tmp_path, warm_dir):
    """A --jobs worker is given the client's cache directory and loads from its warm entry
    (no validating load: spaCy's Matcher is not built); without a cache, it validates."""
    from evidex.engines import LocalEngine, worker_cache_dir

    warm = load_rules(ROOT / "rules", cache=RulesCache(warm_dir))
    assert worker_cache_dir(warm) == str(warm_dir)
    with LocalEngine(2).open(warm) as pool:
        states = {pool.submit(_worker_rules_state).result() for _ in range(4)}
    assert states == {(str(warm_dir), False)}
    cold = load_rules(ROOT / "rules")
    assert cold.rules_cache is None and worker_cache_dir(cold) is None
    with LocalEngine(1).open(cold) as pool:
        assert pool.submit(_worker_rules_state).result() == (None, True)


def _entry(cache: RulesCache, key: str, mtime: float) -> Path:
    assert cache.store(key, Derivations(validated=True))
    os.utime(cache.path(key), (mtime, mtime))
    return cache.path(key)


def test_writing_an_entry_keeps_the_newest_few_and_deletes_the_rest(tmp_path):
    from evidex import rulecache

    cache = RulesCache(tmp_path)
    keys = [f"{i:064x}" for i in range(6)]
    for i, key in enumerate(keys[:5]):
        _entry(cache, key, 1_000_000 + i)
    # Each store pruned: the three newest stay (keys 2, 3, 4).
    assert sorted(p.stem for p in cache.directory.glob("*.pickle")) == keys[2:5]
    # Reading an entry refreshes its time: key 2 becomes the most recently used.
    assert cache.load(keys[2]) is not None
    stale_tmp, fresh_tmp = cache.directory / ".old.tmp", cache.directory / ".live.tmp"
    stale_tmp.write_bytes(b"half")
    fresh_tmp.write_bytes(b"half")
    old = os.stat(fresh_tmp).st_mtime - rulecache.STALE_TMP_S - 10
    os.utime(stale_tmp, (old, old))
    _entry(cache, keys[5], 2_000_000_000)
    # The new one stays whatever its time; then the two most recently used others (2 just read, then 4).
    assert sorted(p.stem for p in cache.directory.glob("*.pickle")) == sorted([keys[5], keys[2], keys[4]])
    assert not stale_tmp.exists() and fresh_tmp.exists()  # a writer's live temporary is left alone
    assert cache.load(keys[5]) is not None and cache.load(keys[4]) is not None


def test_the_entry_being_written_is_kept_even_when_it_is_the_oldest(tmp_path):
    cache = RulesCache(tmp_path)
    others = [f"{i:064x}" for i in range(1, 5)]
    for i, key in enumerate(others):
        _entry(cache, key, 2_000_000 + i)
    mine = "f" * 64
    _entry(cache, mine, 1)
    assert cache.prune(keep=mine) == []  # three entries: mine and the two newest others
    assert sorted(p.stem for p in cache.directory.glob("*.pickle")) == sorted([mine, others[3], others[2]])
    assert cache.prune(entries=1) and [p.stem for p in cache.directory.glob("*.pickle")] == [others[3]]


_SPLIT_PROBE = """
import sys, regex
from pathlib import Path
from evidex.rules import load_rules
from evidex.rulecache import RulesCache
import evidex.branches as branches
rules = load_rules(Path(sys.argv[1]), cache=RulesCache(sys.argv[2]))
compiles = []
real = regex.compile
regex.compile = lambda *a, **k: compiles.append(a[0]) or real(*a, **k)
split = {c.id for c in (*rules.recognizers, *rules.exclusions) if branches.branched_after(c.regex, 1) is not None}
print(len(compiles), " ".join(sorted(split)))
"""


def test_a_warm_load_splits_the_alternations_at_once_without_compiling(tmp_path):
    """The entry holds each rule regex's branches compiled and gated (pipeline/branches.py): a
    process that loads from it splits them on the first text, compiling nothing; a process
    without the cache waits for SPLIT_AFTER_CHARS and would compile them then."""
    cache_dir = tmp_path / "cache"
    load_rules(ROOT / "rules", cache=RulesCache(cache_dir))  # writes the entry
    entry = RulesCache(cache_dir).load(cache_key(rules_digest(ROOT / "rules")))
    assert entry is not None
    split_keys = {key for key, parts in entry.splits.items() if parts}
    assert len(split_keys) >= 10
    assert all(entry.compiled(part, flags) is not None for pattern, flags in split_keys for part in entry.splits[(pattern, flags)])
    out = subprocess.run([sys.executable, "-c", _SPLIT_PROBE, str(ROOT / "rules"), str(cache_dir)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[0] == "0"
    assert {"excl.not_follow_up", "excl.sample_composition", "excl.statistics"} <= set(out[1:])
    assert len(out[1:]) == len(split_keys)
    cold = subprocess.run([sys.executable, "-c", _SPLIT_PROBE.replace("cache=RulesCache(sys.argv[2])", "cache=None"),
                           str(ROOT / "rules"), str(cache_dir)], capture_output=True, text=True, check=True).stdout.split()
    assert cold == ["0"]  # not split yet: one character scanned is under SPLIT_AFTER_CHARS
