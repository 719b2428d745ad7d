"""tests/lower_bounds.py: the constraints `make test-min` installs come from pyproject.toml."""

from __future__ import annotations

import pytest

from conftest import ROOT
from lower_bounds import constraints, lower_bound, not_at_lower_bound


def test_lower_bound_of_each_specifier_form():
    assert lower_bound("spacy>=3.8.14,<3.9") == "spacy==3.8.14"
    assert lower_bound("drug-named-entity-recognition==2.0.9") == "drug-named-entity-recognition==2.0.9"
    assert lower_bound("pyahocorasick~=2.1") == "pyahocorasick==2.1"
    with pytest.raises(ValueError, match="no lower bound"):
        lower_bound("rich<14")


def test_every_runtime_dependency_has_a_tested_lower_bound():
    lines = constraints(ROOT / "pyproject.toml")
    names = [line.split("==")[0] for line in lines]
    assert {"spacy", "pydantic", "pandas", "pyarrow", "typer", "regex", "rich", "pyyaml"} <= set(names)
    # typer 0.12.0-0.12.3 crash on `Path | None` options, 0.12.4-0.12.5 print the version instead
    # of extracting, and before 0.16 `--help` fails with the Click releases typer allows (8.2+)
    assert "typer==0.16" in lines


def test_check_names_a_version_that_is_not_the_lower_bound():
    assert not_at_lower_bound(["pytest==0.0.1"]) and "lower bound 0.0.1" in not_at_lower_bound(["pytest==0.0.1"])[0]
    assert "not installed" in not_at_lower_bound(["no-such-package-evidex==1"])[0]
