"""Shared fixtures: the project's rules, the seed page and one pipeline run over raw/."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import pytest

import evidex.corpus_run
import evidex.runner
from evidex.compiled import CompiledRules
from evidex.evaluation import corpus_root
from evidex.ingest import read_source
from evidex.rulecache import RulesCache
from evidex.rules import RuleError, default_rules_dir, load_rules
from evidex.runner import RunSummary, run

ROOT = Path(__file__).resolve().parent.parent
# The shared real-text corpus ($EVIDEX_CORPUS, else ../shared/corpus beside the checkout, as
# `evidex eval` finds it); tests that need its texts skip where a clone has none beside it.
PMC_DEV = corpus_root(None) / "pmc-dev"
needs_pmc_dev = pytest.mark.skipif(not (PMC_DEV / "index.json").is_file(), reason=f"{PMC_DEV} not found (set EVIDEX_CORPUS)")
RAW = ROOT / "raw"
GOLD = ROOT / "tests" / "gold"
SEED = RAW / "ketamine-research.txt"


# Rule sets already loaded in this test process, by (directory, sha256 of its files); the
# last few only, since tests that edit a copy of rules/ each make a new one.
_LOADED: OrderedDict[tuple[str, str, str | None], CompiledRules] = OrderedDict()
_KEEP = 4


def _files_sha256(rules_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in rules_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        h.update(f"{path.relative_to(rules_dir).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def load_rules_once(rules_dir: Path | None = None, cache: RulesCache | None = None) -> CompiledRules:
    """`load_rules(rules_dir, cache=cache)`, but a directory whose files are byte for byte the
    ones already loaded in this process (through the same cache directory, or none) gets that
    same (frozen) rule set back.

    Loading is a pure function of the files (and of evidex and its libraries, fixed for a
    test session) and costs ~2 s of CPU; ~100 in-process runs each loaded rules/ afresh.
    A directory that changed is loaded, validated and probed again, and a load that fails
    is never kept, so a test of bad or edited rules sees exactly what `load_rules` does."""
    try:
        path = Path(rules_dir or default_rules_dir())
    except RuleError:
        return load_rules(rules_dir, cache=cache)
    if not path.is_dir():
        return load_rules(rules_dir, cache=cache)
    key = (str(path.resolve()), _files_sha256(path), str(cache.root) if cache is not None else None)
    if key not in _LOADED:
        _LOADED[key] = load_rules(rules_dir, cache=cache)
        while len(_LOADED) > _KEEP:
            _LOADED.popitem(last=False)
    _LOADED.move_to_end(key)
    return _LOADED[key]


@pytest.fixture(scope="session", autouse=True)
def _runs_load_rules_once() -> Iterator[None]:
    """In-process `evidex run` (directory and corpus runs) loads each rule set once per test
    process (`load_rules_once`). Rule loading itself (`load_rules`, `check-rules`,
    `extract`, worker processes, subprocesses) is untouched."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (evidex.runner, evidex.corpus_run):
            patch.setattr(module, "load_rules", load_rules_once)
        yield


def project_rules() -> CompiledRules:
    """The project's rules/, loaded once per test process and shared by module-level tables
    of cases, the `rules` fixture and in-process runs. It is frozen, and
    tests/test_compiled.py checks that extraction leaves it unchanged."""
    return load_rules_once(ROOT / "rules")


@pytest.fixture(scope="session", autouse=True)
def _rules_cache_dir(tmp_path_factory):
    """`evidex extract` keeps a rule-loading cache (pipeline/rulecache.py): tests keep theirs
    in a temporary directory, never in the user's cache directory."""
    old = os.environ.get("EVIDEX_CACHE_DIR")
    os.environ["EVIDEX_CACHE_DIR"] = str(tmp_path_factory.mktemp("evidex-cache"))
    yield
    if old is None:
        os.environ.pop("EVIDEX_CACHE_DIR", None)
    else:
        os.environ["EVIDEX_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def rules() -> CompiledRules:
    return project_rules()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return read_source(SEED, RAW).text


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory) -> tuple[Path, RunSummary]:
    """raw/ run once into a temp directory (not the committed extracted/)."""
    out = tmp_path_factory.mktemp("extracted")
    return out, run(RAW, out, ROOT / "rules", force=True)


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    """A writable copy of rules/ for tests that break or edit rules."""
    dst = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", dst)
    return dst


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Large-input tests first: with `-n 2` (see the Makefile) each starts on its own worker
    at once and the quick tests fill in around them, instead of a minutes-long test
    starting last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
