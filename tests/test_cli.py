"""The command line: help, extract to JSON lines, exit codes, check-rules, freshness of extracted/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from evidex.cli import app
from evidex.models import Measure
from evidex.runner import run

from conftest import RAW, ROOT, SEED

runner = CliRunner()


def test_help_lists_every_command_and_exit_codes():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for command in ("run", "extract", "eval", "diff", "report", "check-rules"):
        assert command in result.output
    assert "Exit codes" in result.output
    for command in ("run", "extract", "eval", "diff", "report", "check-rules"):
        assert runner.invoke(app, [command, "--help"]).exit_code == 0


def test_extract_file_prints_grounded_json_lines():
    result = runner.invoke(app, ["extract", str(SEED)])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 221
    text = SEED.read_bytes().decode("utf-8")
    for row in rows:
        Measure.model_validate(row)
        assert text[row["char_start"]:row["char_end"]] == row["text"]


def test_extract_stdin():
    text = "In 20 adults, IV ketamine 0.5 mg/kg gave a 45% (9/20) response at 24 hours versus 10% on saline."
    result = runner.invoke(app, ["extract", "-"], input=text)
    assert result.exit_code == 0
    rows = {(r["type"], r["text"]): r for r in map(json.loads, result.stdout.splitlines())}
    assert rows[("response_rate", "45% (9/20)")]["numerator"] == 9
    assert rows[("response_rate", "10%")]["arm"] == "saline"
    assert rows[("dose", "0.5 mg/kg")]["value"] == 0.5
    assert rows[("follow_up", "24 hours")]["value"] == 1.0
    assert rows[("route", "IV")]["label"] == "IV"


def test_extract_rejects_binary_and_missing_files(tmp_path):
    pdf = tmp_path / "x.txt"
    pdf.write_bytes(b"%PDF-1.4\n")
    result = runner.invoke(app, ["extract", str(pdf)])
    assert result.exit_code == 1 and "x.txt:1: binary file (a PDF document)" in result.output
    assert runner.invoke(app, ["extract", str(tmp_path / "nope.txt")]).exit_code == 2


def test_invalid_rules_exit_3(rules_copy, tmp_path):
    path = rules_copy / "regex" / "damage.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("reason:", "reasn:", 1), encoding="utf-8")
    result = runner.invoke(app, ["run", str(RAW), "--out", str(tmp_path / "o"), "--rules", str(rules_copy), "--quiet"])
    assert result.exit_code == 3 and "refusing to run" in result.output
    assert "damage.yaml:8 [damage.cut_comparison]: reason: Field required" in result.output
    assert runner.invoke(app, ["check-rules", "--rules", str(rules_copy)]).exit_code == 3
    assert runner.invoke(app, ["check-rules"]).exit_code == 0


def test_eval_check_and_json(seed_run):
    out, _ = seed_run
    result = runner.invoke(app, ["eval", "--extracted", str(out), "--raw", str(RAW),
                                 "--corpora", str(ROOT / "tests" / "gold" / "corpora.yaml"), "--json", "--check"])
    assert result.exit_code == 0, result.output
    corpora = json.loads(result.stdout)["corpora"]
    assert list(corpora)[:2] == ["pages", "heldout"]
    assert corpora["pages"]["micro_all"]["f1"] >= 0.93
    assert corpora["heldout"]["blocks"]["gold"] == 16
    assert json.loads((out / "eval.json").read_text(encoding="utf-8")) == json.loads(result.stdout)


def test_eval_only_and_unknown_corpus(seed_run):
    out, _ = seed_run
    corpora = str(ROOT / "tests" / "gold" / "corpora.yaml")
    result = runner.invoke(app, ["eval", "--extracted", str(out), "--raw", str(RAW), "--corpora", corpora,
                                 "--only", "heldout", "--json"])
    assert result.exit_code == 0 and list(json.loads(result.stdout)["corpora"]) == ["heldout"]
    result = runner.invoke(app, ["eval", "--extracted", str(out), "--corpora", corpora, "--only", "nope"])
    assert result.exit_code == 2 and "no corpus named nope" in result.output


def test_eval_skips_a_missing_corpus_folder_and_says_why(seed_run, tmp_path):
    out, _ = seed_run
    result = runner.invoke(app, ["eval", "--extracted", str(out), "--raw", str(RAW), "--corpora",
                                 str(ROOT / "tests" / "gold" / "corpora.yaml"), "--corpus", str(tmp_path / "absent"), "--json"])
    assert result.exit_code == 0
    corpora = json.loads(result.stdout)["corpora"]
    assert "{corpus}/pmc-dev not found" in corpora["pmc-dev/dev"]["skipped"]
    assert "skipped" not in corpora["pages"]


def test_committed_extracted_is_fresh(tmp_path):
    """extracted/ equals a fresh run on raw/ + rules/ (regenerate and commit when this fails)."""
    out = tmp_path / "out"
    shutil.copytree(ROOT / "extracted", out, ignore=shutil.ignore_patterns(".cache", ".lock", "report.html", "changes.json"))
    run(RAW, out, ROOT / "rules", force=True)
    for name in ("studies.csv", "measures.csv", "uncovered.csv", "datapackage.json"):
        assert (out / name).read_bytes() == (ROOT / "extracted" / name).read_bytes(), f"extracted/{name} is stale: run `make extract`"
    # The manifest names the raw directory relative to the output directory: ../raw for
    # `make extract`, another path for this temporary copy; every other byte is the same.
    fresh, committed = (json.loads((d / "manifest.json").read_text(encoding="utf-8")) for d in (out, ROOT / "extracted"))
    assert (out / fresh.pop("raw_dir")).resolve() == RAW.resolve()
    assert committed.pop("raw_dir") == "../raw"
    assert fresh == committed, "extracted/manifest.json is stale: run `make extract`"
    for name in ("studies.parquet", "measures.parquet", "uncovered.parquet"):
        problem = parquet_difference(out / name, ROOT / "extracted" / name)
        assert problem is None, f"extracted/{name} is stale ({problem}): run `make extract`"


def parquet_difference(a: Path, b: Path) -> str | None:
    """Why two Parquet files hold different tables (schema with its field and file
    metadata, or rows), or None when they hold the same. Their bytes are not compared:
    Parquet embeds the writing library's version (`created_by`), so a pyarrow upgrade
    changes the bytes of an unchanged table."""
    ta, tb = pq.read_table(a), pq.read_table(b)
    if not ta.schema.equals(tb.schema, check_metadata=True):
        return f"schema differs: {ta.schema} vs {tb.schema}"
    if not ta.equals(tb):
        return f"rows differ ({ta.num_rows} vs {tb.num_rows} rows)"
    return None


def test_parquet_freshness_compares_content_not_bytes(tmp_path):
    """The same table written by another writer (other created_by, compression, row
    groups) is fresh; a changed value, a changed type or changed column metadata is not."""
    committed = ROOT / "extracted" / "measures.parquet"
    table = pq.read_table(committed)
    rewritten = tmp_path / "rewritten.parquet"
    pq.write_table(table, rewritten, compression="snappy", row_group_size=50)
    assert rewritten.read_bytes() != committed.read_bytes()
    assert parquet_difference(rewritten, committed) is None

    # The next pyarrow release: the same file, but another version in its footer.
    data = committed.read_bytes()
    version = re.search(rb"parquet-cpp-arrow version (\d+)", data)
    assert version is not None
    upgraded = tmp_path / "upgraded.parquet"
    upgraded.write_bytes(data.replace(version.group(0), version.group(0)[:-len(version.group(1))]
                                      + b"9" * len(version.group(1))))
    assert pq.ParquetFile(upgraded).metadata.created_by != pq.ParquetFile(committed).metadata.created_by
    assert parquet_difference(upgraded, committed) is None

    values = table.column("value").to_pylist()
    values[0] = (values[0] or 0) + 1
    edited = tmp_path / "edited.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("value"), table.schema.field("value"),
                                    pa.array(values, pa.float64())), edited)
    assert "rows differ" in (parquet_difference(edited, committed) or "")

    field = table.schema.field("text").with_metadata({"description": "something else"})
    relabelled = tmp_path / "relabelled.parquet"
    pq.write_table(table.cast(table.schema.set(table.schema.get_field_index("text"), field)), relabelled)
    assert "schema differs" in (parquet_difference(relabelled, committed) or "")
