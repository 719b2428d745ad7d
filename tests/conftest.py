"""Shared fixtures: the project's rules, the seed page and one pipeline run over raw/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidex.ingest import read_source
from evidex.rules import load_rules
from evidex.runner import RunSummary, run

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
GOLD = ROOT / "tests" / "gold"
SEED = RAW / "ketamine-research.txt"


@pytest.fixture(scope="session")
def rules():
    return load_rules(ROOT / "rules")


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
