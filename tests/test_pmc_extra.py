"""The pmc-extra arm gold (tests/gold/pmc-extra): two passes reconciled, and evidex's arms on it.

The 30 abstracts are third-party texts and are not in the repository (README.md there
says how to rebuild them); the tests that need them run when `$EVIDEX_EXTRA_TEXTS` names
their folder and skip otherwise. The gold itself is checked on every run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

HERE = ROOT / "tests" / "gold" / "pmc-extra"
# Arm accuracy on the found items when this gold was first used (b940be5, before any rule
# was written from it) was 0.457 (59/129); the floor is the score the rules reach now.
# Raise it when the score rises; never lower it.
ARM_FLOOR = 106 / 129  # 0.822
FOUND_FLOOR = 129 / 143  # 0.902


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"pmc_extra_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_committed_gold_is_the_reconciliation_of_the_two_passes():
    reconcile = _module("reconcile")
    assert (HERE / "arms.yaml").read_text(encoding="utf-8") == reconcile.dump(reconcile.reconciled())


def test_gold_items_are_well_formed():
    gold = yaml.safe_load((HERE / "arms.yaml").read_text(encoding="utf-8"))
    types = {"response_rate", "remission_rate", "other_rate", "effect_size", "odds_ratio", "hazard_ratio",
             "risk_ratio", "nnt"}
    labels = {"abstinence", "relapse", "improvement", "adverse_event", "dropout", "other"}
    assert len(gold) == 30 and sum(len(v) for v in gold.values()) == 143
    for items in gold.values():
        for item in items:
            assert item["type"] in types
            assert (item.get("label") in labels) == (item["type"] == "other_rate")
            assert item["arm"] is None or item["arm"] == item["arm"].lower().strip()


@pytest.fixture(scope="module")
def texts():
    folder = os.environ.get("EVIDEX_EXTRA_TEXTS")
    if not folder:
        pytest.skip("EVIDEX_EXTRA_TEXTS is not set (the pmc-extra abstracts are not in the repository)")
    return _module("score").read_texts(Path(folder))


def test_every_gold_span_grounds(texts):
    score = _module("score")
    gold = yaml.safe_load((HERE / "arms.yaml").read_text(encoding="utf-8"))
    for stem, items in gold.items():
        for item in items:
            start, end = score.gold_span(texts[stem], item)
            assert texts[stem][start:end] == item["text"]


def test_arm_accuracy_holds_its_floor(texts, rules):
    result = _module("score").score(texts, rules)
    assert result.recall >= FOUND_FLOOR, "\n".join(result.errors)
    assert result.accuracy >= ARM_FLOOR, "\n".join(result.errors)
