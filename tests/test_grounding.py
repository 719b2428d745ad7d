"""Every value and every cell is grounded: source[char_start:char_end] == text, always."""

from __future__ import annotations

import pyarrow.parquet as pq

from evidex.ingest import list_sources, read_source

from conftest import RAW


def test_every_measure_and_cell_grounds(seed_run):
    out, summary = seed_run
    texts = {read_source(p, RAW).source: read_source(p, RAW).text for p in list_sources(RAW)}
    measures = pq.read_table(out / "measures.parquet").to_pylist()
    studies = pq.read_table(out / "studies.parquet").to_pylist()
    uncovered = pq.read_table(out / "uncovered.parquet").to_pylist()
    assert measures and studies
    for m in measures:
        assert texts[m["source"]][m["char_start"]:m["char_end"]] == m["text"], m["measure_id"]
    for u in uncovered:
        assert texts[u["source"]][u["char_start"]:u["char_end"]] == u["text"]
    for s in studies:
        text = texts[s["source"]]
        assert text[s["findings_start"]:s["findings_end"]] == s["findings"]
        if s["conclusion"] is not None:
            assert text[s["conclusion_start"]:s["conclusion_end"]] == s["conclusion"]
        if s["title"] is not None:
            assert text[s["title_start"]:s["title_end"]] == s["title"]
            assert s["char_start"] == s["title_start"]
        assert s["char_start"] <= s["findings_start"] and s["char_end"] >= s["findings_end"]


def test_measures_lie_inside_their_block(seed_run):
    out, _ = seed_run
    studies = {s["study_id"]: s for s in pq.read_table(out / "studies.parquet").to_pylist()}
    for m in pq.read_table(out / "measures.parquet").to_pylist():
        s = studies[m["study_id"]]
        assert s["char_start"] <= m["char_start"] < m["char_end"] <= s["char_end"]
        assert m["measure_id"] == f"{m['study_id']}-{m['char_start'] - s['char_start']}"
