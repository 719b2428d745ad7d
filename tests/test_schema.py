"""The models are the single source of the schema: every derived description stays in sync."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evidex.docgen import render_accuracy, render_readme
from evidex.export import TABLES, datapackage
from evidex.models import Measure, Study, arrow_schema, json_schema

from conftest import ROOT

SPEC_STUDY = ["study_id", "source", "block_index", "condition", "title", "findings", "conclusion", "char_start", "char_end",
              "findings_start", "findings_end", "conclusion_start", "conclusion_end", "duplicate_of", "follow_up_days",
              "routes", "n_measures", "flags"]
SPEC_MEASURE = ["measure_id", "study_id", "source", "type", "value", "low", "high", "unit", "label", "approx", "bound", "arm",
                "timepoint_days", "numerator", "denominator", "ci_low", "ci_high", "p_value", "text", "char_start", "char_end",
                "rule_id"]


def test_models_carry_every_contract_column():
    assert set(SPEC_STUDY) <= set(Study.model_fields)
    assert set(SPEC_MEASURE) <= set(Measure.model_fields)


def test_source_is_described_as_a_page_path_or_a_corpus_record_id():
    """A corpus run's `source` is the record id (README, corpus files), not a path under raw/."""
    from evidex.models import Uncovered

    for model in (Study, Measure, Uncovered):
        description = model.model_fields["source"].description or ""
        assert "record" in description and "raw/" not in description, model.__name__


def test_docs_schema_json_in_sync():
    committed = json.loads((ROOT / "docs" / "schema.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(json_schema())), "run `python -m evidex.docgen`"


def test_readme_generated_sections_in_sync():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report = json.loads((ROOT / "extracted" / "eval.json").read_text(encoding="utf-8"))
    assert render_readme(readme, report) == readme, "README is stale: run `python -m evidex.docgen`"


def test_accuracy_now_tables_in_sync():
    doc = (ROOT / "docs" / "accuracy.md").read_text(encoding="utf-8")
    report = json.loads((ROOT / "extracted" / "eval.json").read_text(encoding="utf-8"))
    assert render_accuracy(doc, report) == doc, "docs/accuracy.md is stale: run `python -m evidex.docgen`"


def test_committed_datapackage_matches_models():
    committed = json.loads((ROOT / "extracted" / "datapackage.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(datapackage()))


@pytest.mark.parametrize("name", list(TABLES))
def test_parquet_types_are_the_models(seed_run, name):
    out, _ = seed_run
    model, _ = TABLES[name]
    assert pq.read_schema(out / f"{name}.parquet").remove_metadata() == arrow_schema(model).remove_metadata()


def test_all_null_column_keeps_its_type(tmp_path):
    from evidex.export import TableWriter

    w = TableWriter(tmp_path, "measures", Measure)
    w.write([{**{f: None for f in Measure.model_fields}, "measure_id": "x-0", "study_id": "x", "source": "s.txt",
              "type": "route", "approx": False, "text": "IV", "char_start": 0, "char_end": 2, "rule_id": "route.iv"}])
    w.close()
    schema = pq.read_schema(tmp_path / "measures.parquet")
    assert schema.field("ci_low").type == pa.float64()
    assert schema.field("numerator").type == pa.int64()
    assert schema.field("arm").type == pa.string()


def test_datapackage_validates_the_csvs(seed_run):
    frictionless = pytest.importorskip("frictionless")
    out, _ = seed_run
    report = frictionless.validate(out / "datapackage.json")
    errors = [e.message for task in report.tasks for e in task.errors][:5]
    assert report.valid, errors


def test_duckdb_reads_parquet_typed(seed_run):
    out, _ = seed_run
    con = duckdb.connect()
    types = dict(con.execute(f"DESCRIBE SELECT * FROM '{out / 'measures.parquet'}'").fetchall()[i][:2] for i in range(22))
    assert types["value"] == "DOUBLE" and types["numerator"] == "BIGINT" and types["approx"] == "BOOLEAN"
    n = con.execute(f"SELECT count(*) FROM '{out / 'measures.parquet'}' WHERE type = 'route'").fetchone()[0]
    assert n > 0


def test_render_records_equals_render_of_dumps(rules):
    """The runner renders records column by column from their attributes; that must be
    exactly what rendering their pydantic dumps gives (CSV text and Arrow table)."""
    from evidex.build import process_text
    from evidex.export import render, render_records
    from evidex.models import Measure, Study, Uncovered

    path = sorted((ROOT / "raw").glob("*.txt"))[0]
    result = process_text(path.name, path.read_text(encoding="utf-8"), rules)
    for records, model in ((result.studies, Study), (result.measures, Measure), (result.uncovered, Uncovered)):
        assert records
        by_columns = render_records(records, model)
        by_dumps = render([r.model_dump() for r in records], model)
        assert by_columns.csv == by_dumps.csv
        assert by_columns.table.equals(by_dumps.table)
