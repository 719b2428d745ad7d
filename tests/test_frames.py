"""`evidex.read_tables`: the tables as DataFrames with nullable dtypes derived from the models."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import evidex
from evidex.models import BOUNDS, CONDITIONS, MEASURE_TYPES, Measure, Study, Uncovered
from evidex.runner import read_tables as read_models


def test_counts_are_Int64_not_float64(seed_run):
    out, _ = seed_run
    plain = pd.read_parquet(out / "measures.parquet")
    assert plain.numerator.dtype == "float64"  # the problem: 14 of 14/25 loads as 14.0
    measures = evidex.read_tables(out).measures
    assert measures.numerator.dtype == pd.Int64Dtype()
    counted = measures[measures.numerator.notna()]
    assert len(counted) == 7
    assert counted.numerator.tolist() == [int(v) for v in plain.numerator.dropna()]
    assert measures.numerator.isna().sum() == plain.numerator.isna().sum()
    assert measures.numerator[measures.numerator.isna()].iloc[0] is pd.NA


def test_every_column_has_the_dtype_of_its_model_field(seed_run):
    out, _ = seed_run
    studies, measures, uncovered = evidex.read_tables(out)
    assert list(measures.columns) == list(Measure.model_fields)
    assert list(studies.columns) == list(Study.model_fields)
    assert list(uncovered.columns) == list(Uncovered.model_fields)
    assert measures.text.dtype == pd.StringDtype() and measures.arm.dtype == pd.StringDtype()
    assert measures.value.dtype == pd.Float64Dtype() and measures.char_start.dtype == pd.Int64Dtype()
    assert measures.approx.dtype == pd.BooleanDtype()
    assert studies.follow_up_days.dtype == pd.Float64Dtype() and studies.title_start.dtype == pd.Int64Dtype()
    # closed vocabularies are categories with every allowed level, used or not
    assert list(measures.type.cat.categories) == list(MEASURE_TYPES)
    assert list(measures.bound.cat.categories) == list(BOUNDS)
    assert list(studies.condition.cat.categories) == list(CONDITIONS)
    assert list(uncovered.reason.cat.categories) == ["no_rule", "damaged_text", "unreadable"]


def test_values_are_the_tables_values(seed_run):
    out, _ = seed_run
    _, models, _ = read_models(out)
    measures = evidex.read_tables(out).measures
    assert len(measures) == len(models) == 221
    for row, m in zip(measures.itertuples(index=False), models, strict=True):
        for field in ("measure_id", "type", "text", "char_start", "char_end", "value", "numerator", "approx", "bound"):
            got, want = getattr(row, field), getattr(m, field)
            assert (want is None and pd.isna(got)) or got == want, (field, got, want)
    assert evidex.read_tables(out).studies.block_index.tolist() == list(range(1, 53))


def test_an_empty_table_keeps_its_dtypes(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "empty.txt").write_text("No numbers here at all.\n", encoding="utf-8")
    evidex.run(raw, tmp_path / "out")
    frames = evidex.read_tables(tmp_path / "out")
    assert len(frames.measures) == 0
    assert frames.measures.numerator.dtype == pd.Int64Dtype()
    assert frames.measures.type.dtype == pd.CategoricalDtype(list(MEASURE_TYPES))
    assert pq.read_table(tmp_path / "out" / "measures.parquet").num_rows == 0


def test_a_missing_table_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="studies.parquet"):
        evidex.read_tables(tmp_path)
