"""A rate over 100% cannot be (SCHEMA: percent 0–100): kept as written, flagged, reported (issue 21 item 15)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from evidex.build import process_text
from evidex.cli import app

TEXT = "Ketamine helped.\nOf 20 patients, 150% responded at 24 hours and 45% remitted."


def test_a_rate_over_100_percent_is_flagged_and_warned(rules):
    result = process_text("p.txt", TEXT, rules)
    rates = {m.text: m for m in result.measures if m.unit == "%"}
    assert rates["150%"].value == 150.0 and rates["45%"].value == 45.0  # kept as written, grounded
    assert "impossible_rate" in (result.studies[0].flags or "").split(";")
    warned = [w for w in result.warnings if "impossible rate" in w]
    assert len(warned) == 1 and warned[0].startswith("p.txt:2:") and "'150%'" in warned[0]


def test_a_block_without_one_is_not_flagged(rules):
    result = process_text("p.txt", TEXT.replace("150%", "15%"), rules)
    assert "impossible_rate" not in (result.studies[0].flags or "")
    assert not [w for w in result.warnings if "impossible rate" in w]


def test_evidex_extract_warns_on_stderr_and_prints_only_json(tmp_path):
    page = tmp_path / "p.txt"
    page.write_text(TEXT, encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(page)])
    assert result.exit_code == 0
    assert any(json.loads(line)["text"] == "150%" for line in result.stdout.splitlines())
    assert "impossible rate" in result.stderr and "impossible rate" not in result.stdout
