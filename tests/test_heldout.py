"""A held-out page: written with its gold by an annotator who never saw the rules.

The first run scored micro F1 0.930 (core 0.945) before any rule was changed for it;
tests/heldout/baseline.json keeps today's scores as a ratchet. Its gold leaves `arm`
empty on effects and ratios, unlike the seed's gold (ANNOTATION.md gives arms to
"rates, effects and ratios"), so arm accuracy here is not comparable and not gated.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.evaluation import run_eval
from pipeline.runner import run

from conftest import ROOT

HELDOUT = Path(__file__).parent / "heldout"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heldout")
    (tmp / "raw").mkdir()
    (tmp / "gold").mkdir()
    shutil.copy(HELDOUT / "esketamine-evidence.txt", tmp / "raw")
    shutil.copy(HELDOUT / "esketamine-evidence.jsonl", tmp / "gold")
    run(tmp / "raw", tmp / "out", ROOT / "rules", force=True)
    return run_eval(tmp / "gold", tmp / "out", tmp / "raw")


def test_heldout_scores_do_not_drop(report):
    base = json.loads((HELDOUT / "baseline.json").read_text(encoding="utf-8"))
    assert report["micro_all"]["f1"] + TOLERANCE >= base["micro_all_f1"], report["misses"] + report["extras"]
    assert report["micro_core"]["f1"] + TOLERANCE >= base["micro_core_f1"]
    for attr in ("timepoint_days", "label", "approx", "numerator_denominator", "ci", "p_value"):
        assert report["attributes"][attr]["accuracy"] + TOLERANCE >= base["attributes"][attr], attr
    assert report["blocks"]["spans_accuracy"] == 1.0
    assert report["blocks"]["condition_accuracy"] + TOLERANCE >= base["blocks"]["condition_accuracy"]
