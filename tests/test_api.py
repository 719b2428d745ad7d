"""The Python API (`evidex.extract_text`, `load_rules`, `run`), where rules load from,
`python -m evidex`, and the spaCy component `nlp.add_pipe("evidex")`."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc
from typer.testing import CliRunner

import evidex
from evidex.cli import app
from evidex.rules import default_rules_dir

from conftest import ROOT

SENTENCE = "ketamine 0.5 mg/kg IV gave 45% response"
EXPECTED = [("dose", 0.5, "mg/kg", None, "0.5 mg/kg"), ("route", None, None, "IV", "IV"),
            ("response_rate", 45.0, "%", None, "45%")]


def _rows(measures) -> list[tuple]:
    return [(m.type, m.value, m.unit, m.label, m.text) for m in measures]


def test_extract_text_reads_the_values_with_offsets_into_the_text():
    measures = evidex.extract_text(SENTENCE, source="note.txt")
    assert _rows(measures) == EXPECTED
    assert all(isinstance(m, evidex.Measure) for m in measures)
    assert all(SENTENCE[m.char_start:m.char_end] == m.text and m.source == "note.txt" for m in measures)
    assert next(m for m in measures if m.type == "dose").drug == "ketamine"


def test_default_rules_load_once_per_process():
    evidex.extract_text(SENTENCE)
    first = evidex.default_rules()
    evidex.extract_text("remission 30% at week 4")
    assert evidex.default_rules() is first
    assert first.rules_dir == ROOT / "rules"  # the checkout reads rules/ itself


def test_explicit_rules_win(rules, monkeypatch):
    def no_default():
        raise AssertionError("the default rules were used although rules= was given")

    monkeypatch.setattr(evidex, "default_rules", no_default)
    assert _rows(evidex.extract_text(SENTENCE, rules=rules)) == EXPECTED


def test_load_rules_reads_the_given_directory(rules_copy):
    (rules_copy / "regex" / "damage.yaml").write_text("damage: [\n", encoding="utf-8")
    with pytest.raises(evidex.RuleError, match="damage.yaml"):
        evidex.load_rules(rules_copy)


def test_rules_dir_comes_from_evidex_rules_else_the_checkout(monkeypatch, tmp_path):
    monkeypatch.delenv("EVIDEX_RULES", raising=False)
    assert default_rules_dir() == ROOT / "rules"
    monkeypatch.setenv("EVIDEX_RULES", str(tmp_path / "mine"))
    assert default_rules_dir() == tmp_path / "mine"


@pytest.mark.parametrize("command", ["run", "extract", "eval", "check-rules"])
def test_every_command_that_loads_rules_takes_rules(command):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0 and "--rules" in result.output


def test_cli_honours_evidex_rules(tmp_path):
    result = CliRunner().invoke(app, ["check-rules"], env={"EVIDEX_RULES": str(tmp_path / "none")})
    assert result.exit_code == 3 and "rules directory not found" in result.output


def test_run_api_writes_the_tables(tmp_path, rules):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "note.txt").write_text(SENTENCE + "\n", encoding="utf-8")
    summary = evidex.run(raw, tmp_path / "out", rules=rules, force=True)
    assert not summary.failed and summary.totals()["response_rate"] == 1
    assert (tmp_path / "out" / "measures.parquet").exists()


def test_python_dash_m_evidex_and_package_files():
    out = subprocess.run([sys.executable, "-m", "evidex", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"evidex {evidex.__version__}"
    assert (Path(evidex.__file__).parent / "py.typed").exists()
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


# --------------------------------------------------------------------- spaCy component


def test_spacy_factory_is_advertised_as_an_entry_point():
    (ep,) = [e for e in entry_points(group="spacy_factories") if e.name == "evidex"]
    assert ep.value == "evidex.spacy_component:make_evidex"


def test_spacy_component_sets_spans_with_the_measures(rules):
    nlp = spacy.blank("en")
    nlp.add_pipe("evidex", config={"rules": str(rules.rules_dir)})
    doc = nlp(SENTENCE)
    spans = doc.spans["evidex"]
    assert [(s.label_, s._.evidex.value, s._.evidex.unit, s._.evidex.label, s.text) for s in spans] == EXPECTED
    assert all(isinstance(s._.evidex, evidex.Measure) for s in spans)
    # The fields are stored as plain data, so they survive serialization.
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert [(s.label_, s._.evidex.value) for s in again.spans["evidex"]] == [(e[0], e[1]) for e in EXPECTED]


def test_spacy_component_spans_key_and_token_alignment():
    nlp = spacy.blank("en")
    nlp.add_pipe("evidex", config={"spans_key": "measures"})
    doc = nlp("Response was 45%after 2 weeks.")
    (rate,) = [s for s in doc.spans["measures"] if s.label_ == "response_rate"]
    assert rate._.evidex.value == 45.0 and rate.start_char <= rate._.evidex.char_start
    assert "evidex" not in doc.spans


def test_spacy_finds_the_component_without_import_evidex(tmp_path):
    code = ("import sys, spacy; nlp = spacy.blank('en'); nlp.add_pipe('evidex'); "
            f"doc = nlp({SENTENCE!r}); print([s.label_ for s in doc.spans['evidex']])")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EVIDEX_RULES")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['dose', 'route', 'response_rate']"
