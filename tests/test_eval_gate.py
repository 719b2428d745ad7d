"""The gold gate on the pages in raw/: hand-labelled gold, validated; thresholds; ratchet; known failures.

Thresholds live in pyproject.toml [tool.evidex.eval]; the ratchet in
tests/gold/baseline.json under "pages" (raised with `evidex eval --raise-baseline` when
scores improve, never lowered to pass); known misses/extras in
tests/gold/known_failures.yaml (xfail strict). The other corpora are gated in
tests/test_corpora.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from evidex import cli
from evidex.evaluation import load_gold_dir, run_eval
from evidex.gate import gate_failures, load_thresholds, ratchet_failures
from evidex.gold import GoldError, load_gold
from evidex.runner import run

from conftest import GOLD, RAW, ROOT

KNOWN = (yaml.safe_load((GOLD / "known_failures.yaml").read_text(encoding="utf-8")) or {}).get("failures") or []


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("gate")
    run(RAW, out, ROOT / "rules", force=True)
    return run_eval(GOLD, out, RAW)


def test_gold_covers_all_52_blocks_and_validates(seed_text):
    blocks = load_gold(GOLD / "ketamine-research.jsonl", seed_text)
    assert len(blocks) == 52
    assert sum(len(b.measures) for b in blocks) > 200
    types = {m.type for b in blocks for m in b.measures}
    assert types == {"response_rate", "remission_rate", "other_rate", "dose", "route", "effect_size", "odds_ratio",
                     "hazard_ratio", "risk_ratio", "nnt", "follow_up"}


def test_thresholds(report):
    failures = gate_failures(report, load_thresholds(ROOT / "pyproject.toml"))
    assert not failures, "\n".join(failures)


def test_ratchet(report):
    baseline = json.loads((GOLD / "baseline.json").read_text(encoding="utf-8"))
    failures = ratchet_failures(report, baseline["pages"])
    assert not failures, "\n".join(failures)


def _key(m: dict) -> tuple:
    return (m["source"], m["block_index"], m["type"], m["text"])


def test_no_unlisted_misses_or_extras(report):
    known = {(k["kind"], k["source"], k["block_index"], k["type"], k["text"]) for k in KNOWN}
    unlisted = [("miss", *_key(m)) for m in report["misses"] if ("miss", *_key(m)) not in known]
    unlisted += [("extra", *_key(m)) for m in report["extras"] if ("extra", *_key(m)) not in known]
    assert not unlisted, "unlisted misses/extras:\n" + "\n".join(map(str, unlisted))


@pytest.mark.parametrize("entry", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=k["reason"]),
                                                id=f"{k['kind']}:{k['block_index']}:{k['text']}") for k in KNOWN])
def test_known_failure_still_fails(report, entry):
    pool = report["misses"] if entry["kind"] == "miss" else report["extras"]
    assert (entry["source"], entry["block_index"], entry["type"], entry["text"]) not in {_key(m) for m in pool}


def test_breaking_a_rule_fails_the_gate_with_a_readable_miss_list(rules_copy, tmp_path):
    path = rules_copy / "regex" / "measures.yaml"
    text = path.read_text(encoding="utf-8")
    # Break the odds-ratio recognizer: drop the abbreviation, so it needs "odds ratio" spelled out.
    broken = text.replace("(?<![A-Za-z/])(?:(?:a|[Aa]dj\\.?\\s?)?OR|", "(?<![A-Za-z/])(?:", 1)
    assert broken != text
    path.write_text(broken, encoding="utf-8")
    out = tmp_path / "out"
    run(RAW, out, rules_copy, force=True)
    broken_report = run_eval(GOLD, out, RAW)
    failures = gate_failures(broken_report, load_thresholds(ROOT / "pyproject.toml"))
    assert any(f.startswith("odds_ratio: F1") for f in failures), failures
    missed = {m["text"] for m in broken_report["misses"] if m["type"] == "odds_ratio"}
    assert "OR = 28.94; 95% CI 3.45–242.57; p = 0.002" in missed and "OR ~4" in missed
    buf = io.StringIO()
    saved = cli.out
    cli.out = Console(file=buf, width=200, color_system=None)
    try:
        cli.print_eval(broken_report)
    finally:
        cli.out = saved
    printed = buf.getvalue()
    assert "MISS  ketamine-research.txt@" in printed
    assert "block 18 odds_ratio 'OR = 28.94; 95% CI 3.45–242.57; p = 0.002' value=28.94" in printed


def _broken_gold(tmp_path: Path, edit) -> Path:
    d = tmp_path / "gold"
    d.mkdir()
    lines = (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()
    lines[4] = edit(lines[4])
    (d / "ketamine-research.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


@pytest.mark.parametrize(("edit", "field", "words"), [
    (lambda s: s[:-1], None, "malformed JSON"),
    (lambda s: s.replace('"type": "dose"', '"type": "dosage"', 1), "measures.0.type", "dosage"),
    (lambda s: s.replace('"text": "0.5 mg/kg"', '"text": "0.5 mg/kgs"', 1), "measures.0.text", "does not ground"),
    (lambda s: s.replace('"condition": "depression"', '"condition": "sadness"', 1), None, "sadness"),
    (lambda s: s.replace('"unit": "mg/kg"', '"unit": "mg/kilo"', 1), "measures.0", "unit"),
])
def test_malformed_gold_names_file_line_and_field(tmp_path, seed_text, edit, field, words):
    d = _broken_gold(tmp_path, edit)
    with pytest.raises(GoldError) as err:
        load_gold_dir(d, RAW)
    assert err.value.line == 5 and "ketamine-research.jsonl:5" in str(err.value)
    assert words in str(err.value)
    if field:
        assert err.value.field == field


def test_gold_is_the_reconciliation_of_two_independent_passes():
    """The committed gold is exactly what reconcile.py makes of passes A and B."""
    import runpy

    ns = runpy.run_path(str(GOLD / "passes" / "reconcile.py"))
    merged, undecided, stale = ns["reconcile"]()
    assert not undecided and not stale
    committed = [json.loads(line) for line in (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()]
    assert merged == committed
